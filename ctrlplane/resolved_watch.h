// Watches the addresses that DNS answers gave for listed domains: each becomes an address
// indicator with the domain's context until its TTL (at least a configured minimum)
// passes in packet time. Publishes a new snapshot that shares every other part of the
// current one when the watched set changes, at most once per `min_publish_interval`.
//
// Control thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "ctrlplane/alert_pipeline.h"
#include "ctrlplane/indicator_compiler.h"
#include "ctrlplane/snapshot_publisher.h"
#include "dataplane/match/ip_set.h"
#include "dataplane/records.h"

namespace sensor::ctl {

struct ResolvedWatchOptions {
  uint64_t min_ttl_ns = 300'000'000'000;     // Watch at least this long after the answer.
  uint64_t max_ttl_ns = 86'400'000'000'000;  // And at most this long.
  size_t max_addresses = 1'000'000;          // Beyond this, new addresses are dropped.
  std::chrono::milliseconds min_publish_interval{200};
};

struct ResolvedWatchStats {
  uint64_t received = 0;
  uint64_t watched = 0;  // Addresses in the current set.
  uint64_t expired = 0;
  uint64_t dropped_full = 0;
  uint64_t stale_snapshot = 0;  // Records from a snapshot whose indicators changed since.
  uint64_t dropped_on_reload = 0;  // Addresses whose domain indicator a reload removed.
  uint64_t publishes = 0;
};

class ResolvedWatch {
 public:
  ResolvedWatch(ResolvedWatchOptions options, SnapshotPublisher* publisher,
                AlertPipeline* pipeline);

  void OnResolved(const dp::ResolvedRecord& record);
  // Expires old entries and publishes a new snapshot if the set changed; call from the
  // control loop. Blocks for one RCU grace period when it publishes.
  void Tick();

  // Re-points the watched addresses at the same domain indicators in `next` (same
  // attribute uuid and value), after a reload of the intelligence, and stops watching
  // those whose indicator is gone. Returns the resolved set for a snapshot built on
  // `next`, or null when nothing is watched.
  std::shared_ptr<const dp::IpSet> Rebase(const IndicatorTable& current,
                                          const IndicatorTable& next);

  const ResolvedWatchStats& stats() const { return stats_; }

 private:
  struct Entry {
    uint32_t indicator = 0;
    uint64_t expires_ns = 0;
  };
  struct AddressHash {
    size_t operator()(const dp::IpAddress& address) const;
  };

  ResolvedWatchOptions options_;
  SnapshotPublisher* publisher_;
  AlertPipeline* pipeline_;
  absl::flat_hash_map<dp::IpAddress, Entry, AddressHash> entries_;
  uint64_t newest_packet_ns_ = 0;
  bool changed_ = false;
  std::chrono::steady_clock::time_point last_publish_{};
  ResolvedWatchStats stats_;
};

}  // namespace sensor::ctl
