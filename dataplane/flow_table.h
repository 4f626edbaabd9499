// Per-worker flow table: bidirectional flows keyed by addresses, ports, protocol and
// VLAN ids, with bounded memory.
//
// Owned by one worker lcore and never shared, so it takes no locks. All memory is
// allocated by the constructor; Lookup, Sweep and Flush never allocate. Buckets of
// kBucketSlots entries with a 32-bit signature per slot: a full bucket evicts its least
// recently used flow, so inserting always succeeds and every eviction is reported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>

#include "dataplane/decode/packet.h"
#include "dataplane/records.h"

namespace sensor::dp {

// Both directions of a flow map to the same key: the endpoint that sorts lower is `a`.
struct FlowKey {
  IpAddress a;
  IpAddress b;
  uint16_t port_a = 0;
  uint16_t port_b = 0;
  uint16_t vlan_outer = 0;
  uint16_t vlan_inner = 0;
  uint8_t protocol = 0;
  uint8_t reserved[7] = {};
  // Compares the six 64-bit words of the keys, which equals comparing the members because
  // the key has no padding and `reserved` stays zero. It compiles to a few vector
  // instructions. The defaulted operator called memcmp for each address, which cost about
  // a fifth of the header path's cycles (perf/worker_pipeline_bench.cc, variant 2).
  friend bool operator==(const FlowKey& x, const FlowKey& y) {
    uint64_t difference = 0;
    for (size_t offset = 0; offset < sizeof(FlowKey); offset += sizeof(uint64_t)) {
      uint64_t word_x;
      uint64_t word_y;
      std::memcpy(&word_x, reinterpret_cast<const char*>(&x) + offset, sizeof(word_x));
      std::memcpy(&word_y, reinterpret_cast<const char*>(&y) + offset, sizeof(word_y));
      difference |= word_x ^ word_y;
    }
    return difference == 0;
  }
};
static_assert(sizeof(FlowKey) == 48);
static_assert(std::has_unique_object_representations_v<FlowKey>);

// Builds the key of `info`'s flow; sets `a_is_src` when the packet travels from a to b.
FlowKey MakeFlowKey(const PacketInfo& info, bool& a_is_src);
uint32_t HashFlowKey(const FlowKey& key);

enum class FlowState : uint8_t { kActive = 0, kClosing, kClosed };

// One tracked flow: 128 bytes, two cache lines. The first line contains what a lookup reads
// (the key) and the times every packet updates, and the second the counts and state.
// Fields that only records read live apart, in FlowHistory.
struct alignas(64) Flow {
  FlowKey key;
  uint64_t last_ns = 0;
  // Time of the current period's first packet; 0 after a restart until a packet arrives.
  uint64_t period_first_ns = 0;
  // Counts and TCP flags of the current period, [0] initiator to responder, [1] the
  // reverse. A period starts with the flow and restarts after each active timeout.
  uint64_t bytes[2] = {};
  uint32_t packets[2] = {};
  uint8_t tcp_flags[2] = {};
  uint8_t fin_seen = 0;            // Bit per direction.
  uint8_t matched_directions = 0;  // Bit per direction already checked against indicators.
  bool initiator_is_a = true;
  FlowState state = FlowState::kActive;
  bool interim_sent = false;
  uint8_t vlan_count = 0;
  uint64_t snapshot_version = 0;  // Snapshot that matched_directions refers to.
  uint32_t session = 0;  // Index + 1 of the worker's Session for this flow, 0 for none.
  uint32_t alerts = 0;   // Alert records queued for this flow.
  uint64_t first_ns = 0;
  uint64_t first_alert_ns = 0;  // 0 while the flow has no alert.
};
static_assert(sizeof(Flow) == 128);

// The parts of a flow that only alert and flow records read, kept in an array beside the
// flows so that they take no room in the cache lines each packet touches.
struct FlowHistory {
  uint64_t id = 0;
  // Counts of the periods that active timeouts already closed, so that the whole flow's
  // counts are these plus the Flow's `bytes` and `packets`.
  uint64_t earlier_bytes[2] = {};
  uint32_t earlier_packets[2] = {};
};

struct FlowTableConfig {
  uint32_t capacity = 1 << 16;  // Flows expected at once; the table has twice the slots.
  uint64_t idle_timeout_ns = 60'000'000'000;
  uint64_t closed_timeout_ns = 5'000'000'000;  // Kept after FIN/RST for late packets.
  uint64_t alert_delay_ns = 10'000'000'000;    // Interim record for flows with alerts.
  // A flow whose current period is this old sends a record and starts a new period, as
  // flow exporters do for long flows; 0 turns it off. The default, 30 minutes, is that of
  // router exporters such as JUNOSe's and ADTRAN AOS's ip flow-cache active timeout.
  uint64_t active_timeout_ns = 1'800'000'000'000;
};

class FlowTable {
 public:
  static constexpr int kBucketSlots = 8;

  // `on_end(const Flow&, FlowEndReason)` is called for every flow that leaves the table.
  explicit FlowTable(const FlowTableConfig& config, uint64_t id_base);

  // Finds the flow of `key` or creates it at time `now_ns`. `created` is set when the flow is new.
  // May end a flow through `on_end` first: the least recently seen flow of a full bucket
  // (kLackOfResources), or the flow of `key` itself if it is idle past its timeout.
  template <typename OnEnd>
  Flow* FindOrCreate(const FlowKey& key, uint32_t hash, uint64_t now_ns, bool& created,
                     OnEnd&& on_end);

  // Ends flows idle past their timeout in the next `bucket_count` buckets, in turn. Flows
  // whose first alert is older than the alert delay go to `on_interim`. Flows past the
  // active timeout go to `on_active_timeout(Flow&)`, which restarts the period once the
  // record is queued.
  template <typename OnEnd, typename OnInterim, typename OnActiveTimeout>
  void Sweep(uint64_t now_ns, uint32_t bucket_count, OnEnd&& on_end, OnInterim&& on_interim,
             OnActiveTimeout&& on_active_timeout);

  // True if the current period of `flow` has lasted the active timeout at `now_ns`.
  bool ActiveTimeoutDue(const Flow& flow, uint64_t now_ns) const {
    return config_.active_timeout_ns != 0 && flow.period_first_ns != 0 &&
           now_ns > flow.period_first_ns &&
           now_ns - flow.period_first_ns >= config_.active_timeout_ns;
  }

  // Ends every flow (shutdown or end of capture): flows closed by FIN or RST with
  // kEndOfFlow, the others with kForcedEnd.
  template <typename OnEnd>
  void Flush(OnEnd&& on_end);

  // Closes the current period of `flow` after its active-timeout record was sent: moves
  // its counts to the earlier periods of its history and clears its TCP flags.
  void RestartPeriod(Flow& flow);

  // The record-only fields of `flow`, which must be an entry of this table.
  FlowHistory& history(const Flow& flow) { return history_[&flow - flows_.get()]; }
  const FlowHistory& history(const Flow& flow) const { return history_[&flow - flows_.get()]; }

  size_t size() const { return size_; }
  size_t capacity() const { return bucket_count_ * kBucketSlots; }
  const FlowTableConfig& config() const { return config_; }

 private:
  struct alignas(32) Bucket {
    uint32_t signatures[kBucketSlots];  // 0 marks a free slot.
  };
  static uint32_t Signature(uint32_t hash) { return hash | 1; }
  Flow& slot(uint32_t bucket, int index) { return flows_[bucket * kBucketSlots + index]; }
  bool Expired(const Flow& flow, uint64_t now_ns) const;

  FlowTableConfig config_;
  uint32_t bucket_count_ = 0;
  uint32_t bucket_mask_ = 0;
  std::unique_ptr<Bucket[]> buckets_;
  std::unique_ptr<Flow[]> flows_;
  std::unique_ptr<FlowHistory[]> history_;  // Same index as flows_.
  size_t size_ = 0;
  uint32_t sweep_cursor_ = 0;
  uint64_t next_id_ = 0;
};

template <typename OnEnd>
Flow* FlowTable::FindOrCreate(const FlowKey& key, uint32_t hash, uint64_t now_ns, bool& created,
                              OnEnd&& on_end) {
  const uint32_t bucket = hash & bucket_mask_;
  const uint32_t signature = Signature(hash);
  uint32_t* signatures = buckets_[bucket].signatures;
  int free_index = -1;
  for (int i = 0; i < kBucketSlots; ++i) {
    if (signatures[i] == signature && slot(bucket, i).key == key) {
      Flow& found = slot(bucket, i);
      if (!Expired(found, now_ns)) [[likely]] {
        created = false;
        return &found;
      }
      // Timed out, but Sweep has not reached its bucket yet: the packet starts a new flow,
      // as it would after the sweep.
      on_end(found, found.state == FlowState::kClosed ? FlowEndReason::kEndOfFlow
                                                      : FlowEndReason::kIdleTimeout);
      signatures[i] = 0;
      --size_;
      if (free_index < 0) free_index = i;
      break;
    }
    if (signatures[i] == 0 && free_index < 0) free_index = i;
  }

  if (free_index < 0) [[unlikely]] {
    // Evict the least recently seen flow of the bucket.
    free_index = 0;
    for (int i = 1; i < kBucketSlots; ++i) {
      if (slot(bucket, i).last_ns < slot(bucket, free_index).last_ns) free_index = i;
    }
    on_end(slot(bucket, free_index), FlowEndReason::kLackOfResources);
    --size_;
  }

  Flow& flow = slot(bucket, free_index);
  flow = Flow{};
  flow.key = key;
  history_[bucket * kBucketSlots + free_index] = FlowHistory{.id = next_id_++};
  flow.first_ns = now_ns;
  flow.last_ns = now_ns;
  flow.period_first_ns = now_ns;
  signatures[free_index] = signature;
  ++size_;
  created = true;
  return &flow;
}

template <typename OnEnd, typename OnInterim, typename OnActiveTimeout>
void FlowTable::Sweep(uint64_t now_ns, uint32_t bucket_count, OnEnd&& on_end,
                      OnInterim&& on_interim, OnActiveTimeout&& on_active_timeout) {
  for (uint32_t n = 0; n < bucket_count && n < bucket_count_; ++n) {
    const uint32_t bucket = sweep_cursor_;
    sweep_cursor_ = (sweep_cursor_ + 1) & bucket_mask_;
    uint32_t* signatures = buckets_[bucket].signatures;
    for (int i = 0; i < kBucketSlots; ++i) {
      if (signatures[i] == 0) continue;
      Flow& flow = slot(bucket, i);
      if (Expired(flow, now_ns)) {
        on_end(flow, flow.state == FlowState::kClosed ? FlowEndReason::kEndOfFlow
                                                      : FlowEndReason::kIdleTimeout);
        signatures[i] = 0;
        --size_;
      } else if (flow.first_alert_ns != 0 && !flow.interim_sent &&
                 now_ns - flow.first_alert_ns >= config_.alert_delay_ns) {
        if (on_interim(flow)) flow.interim_sent = true;
      } else if (ActiveTimeoutDue(flow, now_ns)) {
        on_active_timeout(flow);
      }
    }
  }
}

template <typename OnEnd>
void FlowTable::Flush(OnEnd&& on_end) {
  for (uint32_t bucket = 0; bucket < bucket_count_; ++bucket) {
    uint32_t* signatures = buckets_[bucket].signatures;
    for (int i = 0; i < kBucketSlots; ++i) {
      if (signatures[i] == 0) continue;
      Flow& flow = slot(bucket, i);
      on_end(flow, flow.state == FlowState::kClosed ? FlowEndReason::kEndOfFlow
                                                    : FlowEndReason::kForcedEnd);
      signatures[i] = 0;
    }
  }
  size_ = 0;
}

}  // namespace sensor::dp
