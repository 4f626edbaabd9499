// Answers "why does (or doesn't) this value alert?" for an operator: which compiled
// indicators a value matches, and which attributes a warninglist removed that would
// have matched it.
//
// Control thread or command-line use only; builds its own snapshots and allocates freely.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ctrlplane/indicator_compiler.h"
#include "ctrlplane/misp/misp_model.h"

namespace sensor::ctl {

// One indicator a value matches, with its context.
struct ExplainedMatch {
  std::string matched_as;     // "address", "domain", "url" or "payload".
  std::string matched_value;  // The indicator's canonical value.
  const misp::Attribute* attribute = nullptr;
  const misp::Event* event = nullptr;
  Tlp tlp = Tlp::kAmber;
  std::vector<std::string> warninglists;  // Lists that removed it; empty if it is active.
};

struct Explanation {
  std::string value;
  // How the value was read: "address 192.0.2.1", "domain example.com", ...
  std::vector<std::string> readings;
  std::vector<ExplainedMatch> active;   // Indicators that would alert.
  std::vector<ExplainedMatch> removed;  // Indicators a warninglist removed.
  // Enabled warninglists that the value itself is on, for the attribute type it reads as.
  std::vector<std::string> value_on_lists;
};

class IndicatorExplainer {
 public:
  // Compiles `loaded` as the sensor does with `options`, and separately the attributes
  // that options.warninglists removes, so both sets can be searched.
  static absl::StatusOr<std::unique_ptr<IndicatorExplainer>> Build(misp::LoadResult loaded,
                                                                   CompileOptions options);

  // Reads `value` as an address (optionally "address|port"), a domain name, a URL and a
  // payload, and returns every indicator it matches in each reading.
  Explanation Explain(std::string_view value) const;

  const CompileStats& stats() const { return active_.stats; }

 private:
  IndicatorExplainer() = default;
  void Search(const CompileResult& compiled, std::string_view value, Explanation& out,
              bool removed) const;

  CompileOptions options_;
  CompileResult active_;
  CompileResult removed_;
  // For each entry of removed_'s indicator table: the lists that removed its attribute.
  std::vector<std::vector<std::string>> removed_lists_;
};

// Formats an explanation as indented text lines for a terminal.
std::string FormatExplanation(const Explanation& explanation);

}  // namespace sensor::ctl
