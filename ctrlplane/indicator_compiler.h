// Turns MISP attributes into a snapshot the workers match against, keeping for each
// compiled indicator the event and attribute context that alerts carry.
//
// Control thread only. Compiling never touches the live snapshot, so a failed or
// partial compile leaves the running sensor unchanged.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ctrlplane/misp/misp_model.h"
#include "ctrlplane/tlp.h"
#include "ctrlplane/warninglist/warninglist_index.h"
#include "dataplane/decode/packet.h"
#include "dataplane/snapshot.h"

namespace sensor::ctl {

enum class IndicatorKind : uint8_t { kAddress = 0, kDomain, kUrl, kPattern };

// One compiled indicator: a value taken from one attribute.
struct IndicatorEntry {
  uint32_t attribute = 0;     // Index into IndicatorTable::attributes.
  std::string matched_value;  // Canonical form of the compiled part, e.g. "10.0.0.0/8".
  uint16_t port = 0;          // Port qualifier, 0 for none.
  Tlp tlp = Tlp::kAmber;      // Attribute TLP tag, else the event's, else the default.
  IndicatorKind kind = IndicatorKind::kAddress;
  // Whether the entry compiled. A pattern that Hyperscan rejected keeps its index but
  // never matches, and counts as rejected rather than loaded.
  bool compiled = true;
};

struct IndicatorTable {
  std::vector<misp::Event> events;
  std::vector<misp::Attribute> attributes;
  std::vector<IndicatorEntry> entries;  // Indexed by AddressRule::indicator.
};

struct CompileOptions {
  bool include_non_ids = false;   // Also alert on attributes with to_ids=false.
  Tlp default_tlp = Tlp::kAmber;  // TLP of intelligence that carries no TLP tag.
  // Prefixes shorter than these are rejected as too broad to be an indicator.
  int min_prefix_v4 = 8;
  int min_prefix_v6 = 24;
  uint32_t workers = 1;  // Hyperscan scratch spaces to allocate, one per worker.
  // Attributes that hit an enabled list are dropped and counted; null screens nothing.
  WarninglistIndex* warninglists = nullptr;
};

struct CompileStats {
  uint64_t events = 0;
  uint64_t attributes = 0;
  std::map<std::string, uint64_t> loaded_by_type;       // Compiled indicators per MISP type.
  std::map<std::string, uint64_t> not_matched_by_type;  // Types this build cannot match.
  uint64_t skipped_not_ids = 0;
  uint64_t skipped_deleted = 0;
  uint64_t warninglisted = 0;  // Attributes dropped because a warninglist hit them.
  std::map<std::string, uint64_t> warninglisted_by_list;
  uint64_t rejected = 0;            // Invalid values plus attributes the loader rejected.
  std::vector<std::string> errors;  // Loader and compiler errors, one line each.

  uint64_t loaded() const;
};

// An attribute that warninglists removed, for explaining later why it never alerts.
struct WarninglistedAttribute {
  uint32_t input_index = 0;  // Index into the compiled input's LoadResult::attributes.
  std::vector<std::string> lists;  // Names of the lists it hit.
};

struct CompileResult {
  std::unique_ptr<dp::Snapshot> snapshot;
  CompileStats stats;
  std::vector<WarninglistedAttribute> warninglisted;
};

CompileResult CompileIndicators(misp::LoadResult loaded, const CompileOptions& options,
                                uint64_t version);

struct ParsedPrefix {
  dp::IpAddress address;
  int length = 0;  // 0-32 for IPv4 (IsV4()), 0-128 for IPv6.
};

// Parses "192.0.2.1", "192.0.2.0/24", "2001:db8::/32". IPv4-mapped IPv6 prefixes of
// length 96 or more become the IPv4 prefix they denote. Rejects prefixes broader than
// the options' floors and, always, /0.
absl::StatusOr<ParsedPrefix> ParsePrefix(std::string_view text, const CompileOptions& options);

// Formats a prefix as an address, or address/length when it is not a single host.
std::string FormatPrefix(const ParsedPrefix& prefix);
std::string FormatAddress(const dp::IpAddress& address);

}  // namespace sensor::ctl
