#include "dataplane/flow_table.h"

#include <rte_byteorder.h>
#include <rte_hash_crc.h>

#include <bit>
#include <cstring>

namespace sensor::dp {

namespace {

uint64_t LoadBigEndian64(const uint8_t* bytes) {
  uint64_t value;
  std::memcpy(&value, bytes, sizeof(value));
  return rte_be_to_cpu_64(value);
}

// Orders addresses as their bytes compare (std::array's order), from two 64-bit loads
// each instead of a memcmp call per packet.
int CompareAddresses(const IpAddress& x, const IpAddress& y) {
  for (size_t offset = 0; offset < x.bytes.size(); offset += sizeof(uint64_t)) {
    const uint64_t word_x = LoadBigEndian64(x.bytes.data() + offset);
    const uint64_t word_y = LoadBigEndian64(y.bytes.data() + offset);
    if (word_x != word_y) return word_x < word_y ? -1 : 1;
  }
  return 0;
}

}  // namespace

FlowKey MakeFlowKey(const PacketInfo& info, bool& a_is_src) {
  FlowKey key;
  // Order endpoints by (address, port) so both directions build the same key.
  const int order = CompareAddresses(info.src, info.dst);
  a_is_src = order < 0 || (order == 0 && info.src_port <= info.dst_port);
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
  history_ = std::make_unique<FlowHistory[]>(static_cast<size_t>(bucket_count_) * kBucketSlots);
  std::memset(buckets_.get(), 0, sizeof(Bucket) * bucket_count_);
}

void FlowTable::RestartPeriod(Flow& flow) {
  FlowHistory& history = this->history(flow);
  for (int direction = 0; direction < 2; ++direction) {
    history.earlier_bytes[direction] += flow.bytes[direction];
    history.earlier_packets[direction] += flow.packets[direction];
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
