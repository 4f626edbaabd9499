#include "dataplane/flow_table.h"

#include <rte_hash_crc.h>

#include <bit>
#include <cstring>

namespace sensor::dp {

FlowKey MakeFlowKey(const PacketInfo& info, bool& a_is_src) {
  FlowKey key;
  // Order endpoints by (address, port) so both directions build the same key.
  a_is_src = std::tie(info.src, info.src_port) <= std::tie(info.dst, info.dst_port);
  key.a = a_is_src ? info.src : info.dst;
  key.b = a_is_src ? info.dst : info.src;
  key.port_a = a_is_src ? info.src_port : info.dst_port;
  key.port_b = a_is_src ? info.dst_port : info.src_port;
  key.vlan_outer = info.vlan_outer;
  key.vlan_inner = info.vlan_inner;
  key.protocol = info.protocol;
  return key;
}

uint32_t HashFlowKey(const FlowKey& key) { return rte_hash_crc(&key, sizeof(key), 0x9e3779b9); }

FlowTable::FlowTable(const FlowTableConfig& config, uint64_t id_base)
    : config_(config), next_id_(id_base) {
  // Twice the slots asked for: at half load a bucket of 8 overflows (and evicts) very
  // rarely, while at 75% a table of 64k flows already has a few full buckets.
  const uint32_t wanted = std::max<uint32_t>(config.capacity, kBucketSlots) * 2;
  bucket_count_ = std::bit_ceil(wanted) / kBucketSlots;
  bucket_mask_ = bucket_count_ - 1;
  buckets_ = std::make_unique<Bucket[]>(bucket_count_);
  flows_ = std::make_unique<Flow[]>(static_cast<size_t>(bucket_count_) * kBucketSlots);
  std::memset(buckets_.get(), 0, sizeof(Bucket) * bucket_count_);
}

void RestartPeriod(Flow& flow) {
  for (int direction = 0; direction < 2; ++direction) {
    flow.earlier_bytes[direction] += flow.bytes[direction];
    flow.earlier_packets[direction] += flow.packets[direction];
    flow.bytes[direction] = 0;
    flow.packets[direction] = 0;
    flow.tcp_flags[direction] = 0;
  }
  flow.period_first_ns = 0;
}

bool FlowTable::Expired(const Flow& flow, uint64_t now_ns) const {
  if (now_ns <= flow.last_ns) return false;
  const uint64_t idle = now_ns - flow.last_ns;
  return idle >=
         (flow.state == FlowState::kClosed ? config_.closed_timeout_ns : config_.idle_timeout_ns);
}

}  // namespace sensor::dp
