// The largest recent flows by bytes, for the control socket's top-flows command.
//
// Fed with the final record of every flow (which workers send when flow records are
// enabled), so it lists flows that have ended, never flows still open. Time is packet
// time, as everywhere in the sensor: a flow counts as recent when it ended within
// `window_ns` of the newest flow end seen. Flows are kept in buckets of `bucket_ns` by end
// time, each holding only its `per_bucket` largest flows, so memory stays bounded at any
// flow rate and a request can return at most `per_bucket` flows.
//
// Control thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dataplane/records.h"

namespace sensor::ctl {

struct TopFlowsOptions {
  uint64_t window_ns = 300'000'000'000;  // 5 minutes.
  uint64_t bucket_ns = 10'000'000'000;   // 10 seconds.
  size_t per_bucket = 1000;
};

class TopFlows {
 public:
  explicit TopFlows(TopFlowsOptions options = {});

  // Takes a worker's flow record; interim records (final == false) are ignored.
  void OnFlowRecord(const dp::FlowRecord& record);

  // Returns up to `count` flows of the window, largest first by bytes in both directions;
  // `count` is capped at per_bucket.
  std::vector<dp::FlowRecord> Top(size_t count) const;

  const TopFlowsOptions& options() const { return options_; }
  uint64_t newest_end_ns() const { return newest_end_ns_; }
  uint64_t flows_seen() const { return flows_seen_; }
  // Final records whose end lay before the window when they arrived.
  uint64_t flows_too_old() const { return flows_too_old_; }

 private:
  struct Bucket {
    uint64_t index = UINT64_MAX;        // End time / bucket_ns; UINT64_MAX when unused.
    std::vector<dp::FlowRecord> flows;  // A min-heap by bytes.
  };

  // Buckets in the window, newest included.
  uint64_t WindowBuckets() const;

  TopFlowsOptions options_;
  std::vector<Bucket> buckets_;  // A ring indexed by bucket index modulo its size.
  uint64_t newest_index_ = 0;
  uint64_t newest_end_ns_ = 0;
  uint64_t flows_seen_ = 0;
  uint64_t flows_too_old_ = 0;
};

uint64_t FlowBytes(const dp::FlowRecord& record);

}  // namespace sensor::ctl
