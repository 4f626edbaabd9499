// Fuzz target for the parser of MISP /attributes/restSearch response pages that
// --misp-rest sources are synced with (ParseRestSearchPage).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ctrlplane/misp/misp_sync_state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto page = sensor::misp::ParseRestSearchPage(body, "application/json",
                                                      "https://misp.invalid/attributes/restSearch");
  if (!page.ok()) return 0;
  for (const sensor::misp::Attribute& attribute : page->result.attributes) {
    if (attribute.event_index >= page->result.events.size()) __builtin_trap();
  }
  if (page->result.attributes.size() > page->entries) __builtin_trap();
  return 0;
}
