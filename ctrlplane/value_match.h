// Matches one operator-supplied value against a compiled snapshot the way traffic is
// matched: as an address (optionally "address|port"), a domain name with its parents, a
// normalised URL and payload bytes for the Hyperscan patterns. `sensor explain` and the
// control socket's lookup command share it, so both report what the workers would match.
//
// Control thread only. Allocates, and allocates its own Hyperscan scratch space, so it
// never touches the scratch spaces that workers scan with.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/snapshot.h"

namespace sensor::ctl {

// One indicator of the snapshot that the value matches.
struct ValueMatch {
  // "address", "resolved address" (an address a DNS answer gave for a listed domain),
  // "domain", "url" or "payload".
  std::string_view matched_as;
  uint32_t indicator = 0;  // Index into the snapshot's indicator table.
};

struct ValueMatches {
  // Readings of the value, such as "address 192.0.2.1 port 443" or "domain example.com".
  std::vector<std::string> readings;
  std::vector<ValueMatch> matches;  // Each indicator once, in the order found.
  // The MISP attribute type and the part of the value that warninglists screen it as.
  std::string warninglist_type;
  std::string warninglist_value;
};

// Reads `value` in every way that applies and returns the snapshot's indicators it
// matches. Fails only when Hyperscan cannot allocate a scratch space for the patterns.
absl::StatusOr<ValueMatches> MatchValue(const dp::Snapshot& snapshot, std::string_view value);

}  // namespace sensor::ctl
