// Tests for the flow table's timeouts: the active timeout that splits long flows into
// export periods, next to the idle timeout, the alert-delay interim and the timeouts that
// a lookup applies.
#include "dataplane/flow_table.h"

#include <gtest/gtest.h>

#include <vector>

namespace sensor::dp {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;
// Packet times are nanoseconds since the epoch; 0 marks a period without packets.
constexpr uint64_t kStart = 1'500'000'000 * kSecond;

FlowKey KeyFor(uint32_t index) {
  FlowKey key;
  key.a = IpAddress::FromV4(0xC0000200 + index);
  key.b = IpAddress::FromV4(0xC6336401);
  key.port_a = static_cast<uint16_t>(40000 + index);
  key.port_b = 443;
  key.protocol = 6;
  return key;
}

struct SweepCalls {
  std::vector<FlowEndReason> ended;
  int interims = 0;
  int active_timeouts = 0;
};

// Sweeps the whole table once at `now`, restarting the period of every flow whose active
// timeout is due, as the worker does once the record is queued.
SweepCalls SweepAll(FlowTable& table, uint64_t now) {
  SweepCalls calls;
  table.Sweep(
      now, static_cast<uint32_t>(table.capacity()),
      [&](Flow&, FlowEndReason reason) { calls.ended.push_back(reason); },
      [&](const Flow&) {
        ++calls.interims;
        return true;
      },
      [&](Flow& flow) {
        ++calls.active_timeouts;
        table.RestartPeriod(flow);
      });
  return calls;
}

FlowTableConfig Config() {
  FlowTableConfig config;
  config.capacity = 64;
  config.idle_timeout_ns = 60 * kSecond;
  config.active_timeout_ns = 100 * kSecond;
  return config;
}

Flow* Create(FlowTable& table, uint32_t index, uint64_t now) {
  bool created = false;
  const FlowKey key = KeyFor(index);
  return table.FindOrCreate(key, HashFlowKey(key), now, created, [](Flow&, FlowEndReason) {});
}

TEST(FlowTableActiveTimeout, PeriodStartsWithFlow) {
  FlowTable table(Config(), 0);
  Flow* flow = Create(table, 1, kStart);
  EXPECT_EQ(flow->period_first_ns, kStart);
  EXPECT_FALSE(table.ActiveTimeoutDue(*flow, kStart + 99 * kSecond));
  EXPECT_TRUE(table.ActiveTimeoutDue(*flow, kStart + 100 * kSecond));
}

TEST(FlowTableActiveTimeout, SweepReportsLongFlows) {
  FlowTable table(Config(), 0);
  Flow* flow = Create(table, 1, kStart);
  flow->packets[0] = 10;
  flow->bytes[0] = 1000;
  flow->last_ns = kStart + 99 * kSecond;  // Busy: not idle at 101 s.
  const SweepCalls early = SweepAll(table, kStart + 50 * kSecond);
  EXPECT_EQ(early.active_timeouts, 0);
  const SweepCalls due = SweepAll(table, kStart + 101 * kSecond);
  EXPECT_EQ(due.active_timeouts, 1);
  EXPECT_TRUE(due.ended.empty());
  EXPECT_EQ(table.size(), 1u);
}

TEST(FlowTableActiveTimeout, RestartKeepsWholeFlowCounts) {
  FlowTable table(Config(), 0);
  Flow* flow = Create(table, 1, kStart);
  flow->packets[0] = 10;
  flow->packets[1] = 4;
  flow->bytes[0] = 1000;
  flow->bytes[1] = 400;
  flow->tcp_flags[0] = 0x12;
  table.RestartPeriod(*flow);
  EXPECT_EQ(flow->packets[0], 0u);
  EXPECT_EQ(flow->bytes[1], 0u);
  EXPECT_EQ(flow->tcp_flags[0], 0);
  EXPECT_EQ(flow->period_first_ns, 0u);
  EXPECT_EQ(table.history(*flow).earlier_packets[0], 10u);
  EXPECT_EQ(table.history(*flow).earlier_packets[1], 4u);
  EXPECT_EQ(table.history(*flow).earlier_bytes[0], 1000u);
  EXPECT_EQ(table.history(*flow).earlier_bytes[1], 400u);
  flow->packets[0] = 1;
  table.RestartPeriod(*flow);
  EXPECT_EQ(table.history(*flow).earlier_packets[0], 11u);
}

TEST(FlowTableActiveTimeout, EmptyPeriodNeverDue) {
  FlowTable table(Config(), 0);
  Flow* flow = Create(table, 1, kStart);
  table.RestartPeriod(*flow);
  EXPECT_FALSE(table.ActiveTimeoutDue(*flow, kStart + 1000 * kSecond));
}

TEST(FlowTableActiveTimeout, EarlierPacketTimeNotDue) {
  // Capture timestamps can go backwards; that must not look like a long period.
  FlowTable table(Config(), 0);
  Flow* flow = Create(table, 1, kStart + 200 * kSecond);
  EXPECT_FALSE(table.ActiveTimeoutDue(*flow, kStart + 10 * kSecond));
}

TEST(FlowTableActiveTimeout, ZeroTurnsItOff) {
  FlowTableConfig config = Config();
  config.active_timeout_ns = 0;
  FlowTable table(config, 0);
  Flow* flow = Create(table, 1, kStart);
  flow->last_ns = kStart + 9999 * kSecond;
  EXPECT_FALSE(table.ActiveTimeoutDue(*flow, kStart + 10'000 * kSecond));
  EXPECT_EQ(SweepAll(table, kStart + 10'000 * kSecond).active_timeouts, 0);
}

TEST(FlowTableActiveTimeout, IdleFlowEndsInstead) {
  FlowTable table(Config(), 0);
  Create(table, 1, kStart);
  const SweepCalls calls = SweepAll(table, kStart + 150 * kSecond);
  EXPECT_EQ(calls.active_timeouts, 0);
  ASSERT_EQ(calls.ended.size(), 1u);
  EXPECT_EQ(calls.ended[0], FlowEndReason::kIdleTimeout);
}

TEST(FlowTableActiveTimeout, AlertDelayInterimStillSent) {
  FlowTableConfig config = Config();
  config.alert_delay_ns = 10 * kSecond;
  FlowTable table(config, 0);
  Flow* flow = Create(table, 1, kStart);
  flow->first_alert_ns = kStart + 1 * kSecond;
  flow->last_ns = kStart + 20 * kSecond;
  const SweepCalls calls = SweepAll(table, kStart + 20 * kSecond);
  EXPECT_EQ(calls.interims, 1);
  EXPECT_TRUE(flow->interim_sent);
  EXPECT_EQ(calls.active_timeouts, 0);
}

// A packet that finds its flow idle past the timeout, before Sweep has reached it,
// starts a new flow: replayed captures and ports reused after a pause depend on it.
TEST(FlowTableLookup, IdleFlowReplacedOnLookup) {
  FlowTable table(Config(), 0);
  Flow* first = Create(table, 1, kStart);
  const uint64_t first_id = table.history(*first).id;
  std::vector<FlowEndReason> ended;
  bool created = false;
  const FlowKey key = KeyFor(1);
  Flow* second = table.FindOrCreate(key, HashFlowKey(key), kStart + 61 * kSecond, created,
                                    [&](Flow&, FlowEndReason reason) { ended.push_back(reason); });
  EXPECT_TRUE(created);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0], FlowEndReason::kIdleTimeout);
  EXPECT_NE(table.history(*second).id, first_id);
  EXPECT_EQ(second->first_ns, kStart + 61 * kSecond);
  EXPECT_EQ(table.size(), 1u);
}

TEST(FlowTableLookup, ClosedFlowEndsAfterClosedTimeout) {
  FlowTable table(Config(), 0);
  Flow* flow = Create(table, 1, kStart);
  flow->state = FlowState::kClosed;
  std::vector<FlowEndReason> ended;
  bool created = false;
  const FlowKey key = KeyFor(1);
  const auto on_end = [&](Flow&, FlowEndReason reason) { ended.push_back(reason); };
  // A late packet within the closed timeout still belongs to the flow.
  EXPECT_EQ(table.FindOrCreate(key, HashFlowKey(key), kStart + 1 * kSecond, created, on_end),
            flow);
  EXPECT_FALSE(created);
  table.FindOrCreate(key, HashFlowKey(key), kStart + 10 * kSecond, created, on_end);
  EXPECT_TRUE(created);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0], FlowEndReason::kEndOfFlow);
}

TEST(FlowTableLookup, ActiveFlowFound) {
  FlowTable table(Config(), 0);
  Flow* flow = Create(table, 1, kStart);
  bool created = true;
  const FlowKey key = KeyFor(1);
  EXPECT_EQ(table.FindOrCreate(key, HashFlowKey(key), kStart + 59 * kSecond, created,
                               [](Flow&, FlowEndReason) { FAIL(); }),
            flow);
  EXPECT_FALSE(created);
}

}  // namespace
}  // namespace sensor::dp
