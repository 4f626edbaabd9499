// Per-lcore counters of the dataplane, declared once in a table of name plus help text so
// that stats, ctl and metrics list them without a second hand-kept list.
//
// Only the owning lcore writes its WorkerCounters (relaxed load plus store, no locked
// add); the control thread sums relaxed loads whenever it reports.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "dataplane/decode/packet.h"

namespace sensor::dp {

enum class Counter : uint16_t {
  kRxPackets,
  kRxBytes,
  kDecodedPackets,
  kIpv4Packets,
  kIpv6Packets,
  kFragments,
  kFlowsCreated,
  kFlowsEnded,
  kFlowsEvicted,
  kFlowTableFull,
  kAddressMatches,
  kAlertsQueued,
  kAlertRingFull,
  kFlowRecordsQueued,
  kFlowRecordRingFull,
  kSnapshotSwitches,
  kPayloadBlockScans,
  kPayloadStreamBytes,
  kPatternMatches,
  kStreamsOpened,
  kStreamOpenFailed,
  kStreamDepthReached,
  kStreamGaps,
  kSessionTableFull,
  kDnsMessages,
  kDnsMalformed,
  kTlsClientHellos,
  kHttpRequests,
  kQuicClientHellos,
  kNamesNotCanonical,
  kNameMatches,
  kUrlMatches,
  kResolvedQueued,
  kResolvedRingFull,
  kHandshakeGivenUp,
  kMultiSegmentFrames,
  kCount,
};

inline constexpr int kCounterCount = static_cast<int>(Counter::kCount);

struct CounterInfo {
  std::string_view name;
  std::string_view help;
};

// Name and help text of each Counter, in enum order.
const std::array<CounterInfo, kCounterCount>& CounterTable();

// Counters of one worker or RX lcore. Cache-line aligned so that two lcores never share
// a line.
struct alignas(64) WorkerCounters {
  std::array<std::atomic<uint64_t>, kCounterCount> values{};
  std::array<std::atomic<uint64_t>, kDecodeStatusCount> decode{};

  void Add(Counter counter, uint64_t amount) {
    auto& cell = values[static_cast<int>(counter)];
    cell.store(cell.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
  }
  void AddDecode(DecodeStatus status, uint64_t amount) {
    auto& cell = decode[static_cast<int>(status)];
    cell.store(cell.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
  }
  uint64_t Get(Counter counter) const {
    return values[static_cast<int>(counter)].load(std::memory_order_relaxed);
  }
  uint64_t GetDecode(DecodeStatus status) const {
    return decode[static_cast<int>(status)].load(std::memory_order_relaxed);
  }
};

}  // namespace sensor::dp
