#include "ctrlplane/metrics/prometheus_text.h"

#include <cassert>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sensor::ctl {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else if (quote && c == '"') {
      out.append("\\\"");
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

bool IsValidMetricName(std::string_view name) {
  if (name.empty() || !(IsNameStart(name[0]) || name[0] == ':')) return false;
  for (char c : name) {
    if (!IsNameStart(c) && !IsDigit(c) && c != ':') return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0]) || name.substr(0, 2) == "__") return false;
  for (char c : name) {
    if (!IsNameStart(c) && !IsDigit(c)) return false;
  }
  return true;
}

void PrometheusText::Family(std::string_view name, MetricType type, std::string_view help) {
  assert(IsValidMetricName(name));
  family_ = std::string(name);
  absl::StrAppend(&text_, "# HELP ", family_, " ");
  AppendEscaped(text_, help, /*quote=*/false);
  absl::StrAppend(&text_, "\n# TYPE ", family_, " ",
                  type == MetricType::kCounter ? "counter" : "gauge", "\n");
}

void PrometheusText::AppendSeries(MetricLabels labels) {
  text_.append(family_);
  if (labels.size() == 0) return;
  text_.push_back('{');
  bool first = true;
  for (const auto& [name, value] : labels) {
    assert(IsValidLabelName(name));
    if (!first) text_.push_back(',');
    first = false;
    text_.append(name);
    text_.append("=\"");
    AppendEscaped(text_, value, /*quote=*/true);
    text_.push_back('"');
  }
  text_.push_back('}');
}

void PrometheusText::Sample(MetricLabels labels, uint64_t value) {
  AppendSeries(labels);
  absl::StrAppend(&text_, " ", value, "\n");
}

void PrometheusText::Sample(MetricLabels labels, double value) {
  AppendSeries(labels);
  if (std::isnan(value)) {
    text_.append(" NaN\n");
  } else if (std::isinf(value)) {
    text_.append(value > 0 ? " +Inf\n" : " -Inf\n");
  } else {
    absl::StrAppendFormat(&text_, " %.17g\n", value);
  }
}

}  // namespace sensor::ctl
