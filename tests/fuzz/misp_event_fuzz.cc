// Fuzz target for the MISP document parser behind --misp files and feed events: a single
// event export, a feed event, or a saved restSearch response (ParseMispDocument).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ctrlplane/misp/misp_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  sensor::misp::LoadResult result;
  const absl::Status status = sensor::misp::ParseMispDocument(json, "fuzz.json", result);
  if (!status.ok() && (!result.events.empty() || !result.attributes.empty())) {
    __builtin_trap();  // A failed document appends nothing.
  }
  for (const sensor::misp::Attribute& attribute : result.attributes) {
    if (attribute.event_index >= result.events.size()) __builtin_trap();
  }
  for (const std::string& error : result.errors) {
    if (error.find('\n') != std::string::npos) __builtin_trap();  // One line each.
  }
  return 0;
}
