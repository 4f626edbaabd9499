// Fuzz target for the warninglist reader (ParseWarninglist) and the index that screens
// MISP attributes against the lists (WarninglistIndex::Build, Screen).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ctrlplane/warninglist/warninglist_index.h"
#include "ctrlplane/warninglist/warninglist_loader.h"

namespace {

// Attribute values of several types, screened against every list that parses.
constexpr std::pair<std::string_view, std::string_view> kProbes[] = {
    {"ip-dst", "8.8.8.8"},
    {"ip-src", "2001:db8::1"},
    {"domain", "www.example.com"},
    {"hostname", "example.com"},
    {"url", "http://example.com/index.html"},
    {"ip-dst|port", "192.0.2.1|443"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<sensor::ctl::Warninglist> list =
      sensor::ctl::ParseWarninglist(json, "lists/fuzz/list.json");
  if (!list.ok()) return 0;
  // Hyperscan compile time grows with the patterns; keep regex lists small so that one
  // input cannot stall the run.
  if (list->type == sensor::ctl::WarninglistType::kRegex && list->entries.size() > 16) return 0;

  std::vector<sensor::ctl::Warninglist> lists;
  lists.push_back(*std::move(list));
  std::vector<std::string> errors;
  absl::StatusOr<sensor::ctl::WarninglistIndex> index =
      sensor::ctl::WarninglistIndex::Build(std::move(lists), {}, errors);
  if (!index.ok()) return 0;
  for (const auto& [type, value] : kProbes) {
    const std::vector<size_t> hits = index->Screen(type, value);
    if (hits.size() > index->lists().size()) __builtin_trap();
    static_cast<void>(index->Explain(type, value));
  }
  if (index->scan_failures() != 0) __builtin_trap();
  return 0;
}
