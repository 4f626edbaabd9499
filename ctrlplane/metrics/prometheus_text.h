// Writes metrics in the Prometheus text exposition format, version 0.0.4: one "# HELP"
// and one "# TYPE" line per metric family, followed by its samples, each
// `name{label="value",...} value`. Label values and help text are escaped as the format
// requires (backslash, double quote in label values, newline).
//
// Not thread-safe; build a page on one thread and hand the finished text over.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace sensor::ctl {

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kCounter, kGauge };

using MetricLabels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class PrometheusText {
 public:
  // Starts a metric family. `name` must match [a-zA-Z_:][a-zA-Z0-9_:]* and appear once
  // per page; counters end in "_total" by convention.
  void Family(std::string_view name, MetricType type, std::string_view help);

  // Adds a sample to the family started last. Label names must match
  // [a-zA-Z_][a-zA-Z0-9_]*; values may hold any UTF-8 text.
  void Sample(MetricLabels labels, uint64_t value);
  void Sample(MetricLabels labels, double value);
  void Sample(uint64_t value) { Sample({}, value); }
  void Sample(double value) { Sample({}, value); }

  const std::string& text() const { return text_; }
  std::string Release() { return std::move(text_); }

 private:
  void AppendSeries(MetricLabels labels);

  std::string text_;
  std::string family_;
};

// True if `name` is a valid metric name.
bool IsValidMetricName(std::string_view name);
// True if `name` is a valid label name (names starting with "__" are reserved).
bool IsValidLabelName(std::string_view name);

}  // namespace sensor::ctl
