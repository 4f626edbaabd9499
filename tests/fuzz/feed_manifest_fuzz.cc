// Fuzz target for the feed manifest parser that MISP feed URLs are synced with
// (ParseFeedManifest).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ctrlplane/misp/misp_sync_state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto entries =
      sensor::misp::ParseFeedManifest(body, "application/json", "https://feed.invalid/");
  if (!entries.ok()) return 0;
  for (const sensor::misp::ManifestEntry& entry : *entries) {
    // The uuid becomes a file name of the feed, so it must not name another directory.
    if (entry.uuid.empty()) __builtin_trap();
    for (char c : entry.uuid) {
      const bool allowed =
          (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
      if (!allowed) __builtin_trap();
    }
  }
  return 0;
}
