#include "ctrlplane/ctl/top_flows.h"

#include <gtest/gtest.h>

namespace sensor::ctl {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kBaseNs = 1'494'364'058 * kSecond;

dp::FlowRecord Flow(uint64_t id, uint64_t end_ns, uint64_t bytes, bool final = true) {
  dp::FlowRecord record;
  record.flow_id = id;
  record.first_ns = end_ns - kSecond;
  record.last_ns = end_ns;
  record.bytes[0] = bytes / 2;
  record.bytes[1] = bytes - bytes / 2;
  record.packets[0] = 1;
  record.packets[1] = 1;
  record.final = final;
  return record;
}

std::vector<uint64_t> Ids(const std::vector<dp::FlowRecord>& flows) {
  std::vector<uint64_t> ids;
  for (const dp::FlowRecord& flow : flows) ids.push_back(flow.flow_id);
  return ids;
}

TEST(TopFlowsTest, LargestFirst) {
  TopFlows top;
  top.OnFlowRecord(Flow(1, kBaseNs, 100));
  top.OnFlowRecord(Flow(2, kBaseNs + kSecond, 5000));
  top.OnFlowRecord(Flow(3, kBaseNs + 2 * kSecond, 700));
  EXPECT_EQ(Ids(top.Top(10)), (std::vector<uint64_t>{2, 3, 1}));
  EXPECT_EQ(Ids(top.Top(2)), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(top.flows_seen(), 3u);
}

TEST(TopFlowsTest, InterimRecordsAreIgnored) {
  TopFlows top;
  top.OnFlowRecord(Flow(1, kBaseNs, 100, /*final=*/false));
  EXPECT_TRUE(top.Top(10).empty());
  EXPECT_EQ(top.flows_seen(), 0u);
}

TEST(TopFlowsTest, FlowsBeforeTheWindowDropOut) {
  TopFlows top(TopFlowsOptions{.window_ns = 60 * kSecond, .bucket_ns = 10 * kSecond});
  top.OnFlowRecord(Flow(1, kBaseNs, 1'000'000));
  top.OnFlowRecord(Flow(2, kBaseNs + 30 * kSecond, 10));
  EXPECT_EQ(Ids(top.Top(10)), (std::vector<uint64_t>{1, 2}));
  // Two minutes later the big flow is out of the window, the small one too.
  top.OnFlowRecord(Flow(3, kBaseNs + 120 * kSecond, 20));
  EXPECT_EQ(Ids(top.Top(10)), (std::vector<uint64_t>{3}));
  // A late record that ended before the window is counted, not kept.
  top.OnFlowRecord(Flow(4, kBaseNs, 5'000'000));
  EXPECT_EQ(Ids(top.Top(10)), (std::vector<uint64_t>{3}));
  EXPECT_EQ(top.flows_too_old(), 1u);
}

TEST(TopFlowsTest, EachBucketKeepsItsLargest) {
  TopFlows top(TopFlowsOptions{.per_bucket = 3});
  for (uint64_t id = 1; id <= 100; ++id) top.OnFlowRecord(Flow(id, kBaseNs, id * 10));
  EXPECT_EQ(Ids(top.Top(10)), (std::vector<uint64_t>{100, 99, 98}));
}

TEST(TopFlowsTest, CountIsCappedAtPerBucket) {
  TopFlows top(TopFlowsOptions{.per_bucket = 2});
  for (uint64_t id = 1; id <= 5; ++id) {
    top.OnFlowRecord(Flow(id, kBaseNs + id * 20 * kSecond, id));
  }
  EXPECT_EQ(top.Top(10).size(), 2u);
}

TEST(TopFlowsTest, MergesBucketsOfTheWindow) {
  TopFlows top(
      TopFlowsOptions{.window_ns = 300 * kSecond, .bucket_ns = 10 * kSecond, .per_bucket = 2});
  top.OnFlowRecord(Flow(1, kBaseNs, 50));
  top.OnFlowRecord(Flow(2, kBaseNs + 100 * kSecond, 80));
  top.OnFlowRecord(Flow(3, kBaseNs + 200 * kSecond, 60));
  top.OnFlowRecord(Flow(4, kBaseNs + 200 * kSecond, 10));
  EXPECT_EQ(Ids(top.Top(2)), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(top.newest_end_ns(), kBaseNs + 200 * kSecond);
}

}  // namespace
}  // namespace sensor::ctl
