// Results of the control socket's lookup, indicators and top-flows commands, written as
// JSON from the running snapshot and the flow records.
//
// Control thread only: the snapshot must be the one SnapshotPublisher::current() returns
// there, which stays valid until the control thread itself publishes the next one.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctrlplane/ctl/ctl_server.h"
#include "ctrlplane/ctl/top_flows.h"
#include "ctrlplane/indicator_compiler.h"
#include "ctrlplane/warninglist/warninglist_index.h"
#include "dataplane/snapshot.h"

namespace sensor::ctl {

// Reads a required string member of a request; InvalidArgument names it when it is
// missing or not a string.
absl::StatusOr<std::string_view> RequestString(const rapidjson::Value& request,
                                               std::string_view member);
// Reads an optional non-negative integer member, `fallback` when absent.
absl::StatusOr<uint64_t> RequestCount(const rapidjson::Value& request, std::string_view member,
                                      uint64_t fallback);

// Writes every indicator of `snapshot` that `value` matches, with its MISP context, and
// the warninglists the value is on. `warninglists` may be null (none loaded); when it is
// set but `warninglists_usable` is false (a reload is reading the index), the list check is
// skipped and the result reports that.
absl::Status WriteLookup(const dp::Snapshot& snapshot, std::string_view value,
                         const WarninglistIndex* warninglists, bool warninglists_usable,
                         CtlWriter& writer);

// Writes counts of the snapshot's indicators by MISP type and TLP, its events, and what
// `stats` (the compile that built the indicators) reports as removed or rejected.
void WriteIndicatorSummary(const dp::Snapshot& snapshot, const CompileStats& stats,
                           CtlWriter& writer);

// Writes the `count` largest recently ended flows.
void WriteTopFlows(const TopFlows& flows, size_t count, CtlWriter& writer);

}  // namespace sensor::ctl
