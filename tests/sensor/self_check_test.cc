#include "sensor/self_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace sensor {
namespace {

using ::testing::HasSubstr;

// A tuned 100G host: hugepages, four pinned and isolated worker cores on the NIC's
// socket, symmetric RSS, flow control and LRO off, a mempool from the formula.
SelfCheckFacts TunedHost() {
  SelfCheckFacts facts;
  facts.live = true;
  facts.workers = 4;
  facts.host.hugepages = true;
  facts.host.hugepages_total = 8;
  facts.host.hugepage_size_kib = 1048576;
  facts.host.isolated_cpus = std::vector<int>{2, 3, 4, 5, 6};
  facts.host.nohz_full_cpus = std::vector<int>{2, 3, 4, 5, 6};
  facts.host.main_lcore = 2;
  facts.host.main_cpu = 2;
  facts.port.port = 0;
  facts.port.driver = "mlx5_pci";
  facts.port.device = "0000:3b:00.0";
  facts.port.socket = 0;
  facts.port.max_rx_queues = 1024;
  facts.port.rx_queues = 4;
  facts.port.rx_descriptors = 4096;
  facts.port.started = true;
  facts.port.link_up = true;
  facts.port.link_speed_mbps = 100000;
  facts.port.link_full_duplex = true;
  facts.port.rss_configurable = true;
  facts.port.rss_symmetric = true;
  facts.port.flow_control_on = false;
  facts.port.lro_on = false;
  facts.mempool.name = "sensor_mbufs_p0";
  facts.mempool.socket = 0;
  facts.mempool.data_room = 2176;
  facts.mempool.plan = PlanMempool(4, 4096, 5, 0, 0);
  for (uint32_t i = 0; i < 4; ++i) {
    facts.placements.push_back({.worker = i,
                                .queue = static_cast<uint16_t>(i),
                                .lcore = 3 + i,
                                .cpus = {static_cast<int>(3 + i)},
                                .socket = 0});
  }
  return facts;
}

std::vector<std::string> Codes(const SelfCheckFacts& facts) {
  std::vector<std::string> codes;
  for (const SelfCheckWarning& warning : CheckSelfCheckFacts(facts)) {
    codes.push_back(warning.code);
  }
  return codes;
}

// The one warning that `facts` produce; fails the test when there are others.
SelfCheckWarning OnlyWarning(const SelfCheckFacts& facts) {
  const std::vector<SelfCheckWarning> warnings = CheckSelfCheckFacts(facts);
  EXPECT_EQ(warnings.size(), 1u) << ::testing::PrintToString(Codes(facts));
  return warnings.empty() ? SelfCheckWarning{} : warnings[0];
}

TEST(SelfCheckRules, TunedHostHasNoWarning) {
  EXPECT_THAT(Codes(TunedHost()), ::testing::IsEmpty());
}

TEST(SelfCheckRules, NoHugeInLiveMode) {
  SelfCheckFacts facts = TunedHost();
  facts.host.hugepages = false;
  const SelfCheckWarning warning = OnlyWarning(facts);
  EXPECT_EQ(warning.code, "no_hugepages");
  EXPECT_THAT(warning.message, HasSubstr("--no-huge"));
  EXPECT_THAT(warning.message, HasSubstr("(firmware-notes/host-tuning.md)"));
}

TEST(SelfCheckRules, ReplayIgnoresHostTuning) {
  SelfCheckFacts facts = TunedHost();
  facts.live = false;
  facts.host.hugepages = false;
  facts.host.isolated_cpus = std::vector<int>{};
  facts.host.nohz_full_cpus = std::nullopt;
  EXPECT_THAT(Codes(facts), ::testing::IsEmpty());
}

TEST(SelfCheckRules, WorkerCpusNotIsolated) {
  SelfCheckFacts facts = TunedHost();
  facts.host.isolated_cpus = std::vector<int>{3, 4};
  const SelfCheckWarning warning = OnlyWarning(facts);
  EXPECT_EQ(warning.code, "not_isolated");
  EXPECT_THAT(warning.message, HasSubstr("worker CPUs 5-6 are not in isolcpus"));
  EXPECT_THAT(warning.message, HasSubstr("isolcpus=5-6"));
}

TEST(SelfCheckRules, UnreadableIsolatedFileIsNoWarning) {
  SelfCheckFacts facts = TunedHost();
  facts.host.isolated_cpus = std::nullopt;
  EXPECT_THAT(Codes(facts), ::testing::IsEmpty());
}

TEST(SelfCheckRules, WorkerCpuNotNohzFull) {
  SelfCheckFacts facts = TunedHost();
  facts.host.nohz_full_cpus = std::vector<int>{2, 3, 4, 5};
  const SelfCheckWarning warning = OnlyWarning(facts);
  EXPECT_EQ(warning.code, "not_nohz_full");
  EXPECT_THAT(warning.message, HasSubstr("worker CPU 6 is not in nohz_full"));
  EXPECT_THAT(warning.message, HasSubstr("nohz_full=6 rcu_nocbs=6"));
}

TEST(SelfCheckRules, KernelWithoutNohzFull) {
  SelfCheckFacts facts = TunedHost();
  facts.host.nohz_full_cpus = std::nullopt;
  EXPECT_EQ(OnlyWarning(facts).code, "not_nohz_full");
}

TEST(SelfCheckRules, FloatingLcores) {
  SelfCheckFacts facts = TunedHost();
  facts.placements[1].cpus = {3, 4, 5, 6};
  const SelfCheckWarning warning = OnlyWarning(facts);
  EXPECT_EQ(warning.code, "workers_share_cpus");
  EXPECT_THAT(warning.message, HasSubstr("worker 1 has no CPU of its own"));
}

TEST(SelfCheckRules, TwoWorkersOnOneCpu) {
  SelfCheckFacts facts = TunedHost();
  facts.placements[3].cpus = {5};
  const SelfCheckWarning warning = OnlyWarning(facts);
  EXPECT_EQ(warning.code, "workers_share_cpus");
  EXPECT_THAT(warning.message, HasSubstr("workers 2-3 have"));
}

TEST(SelfCheckRules, WorkersOnOtherSocket) {
  SelfCheckFacts facts = TunedHost();
  facts.placements[2].socket = 1;
  facts.placements[3].socket = 1;
  const SelfCheckWarning warning = OnlyWarning(facts);
  EXPECT_EQ(warning.code, "numa_workers");
  EXPECT_THAT(warning.message, HasSubstr("port 0 is on NUMA socket 0 but workers 2-3 run on "
                                         "socket 1"));
}

TEST(SelfCheckRules, MempoolOnOtherSocket) {
  SelfCheckFacts facts = TunedHost();
  facts.mempool.socket = 1;
  const SelfCheckWarning warning = OnlyWarning(facts);
  EXPECT_EQ(warning.code, "numa_mempool");
  EXPECT_THAT(warning.message, HasSubstr("--socket-mem"));
}

TEST(SelfCheckRules, PortWithoutSocketSkipsNuma) {
  SelfCheckFacts facts = TunedHost();
  facts.port.socket = kSocketAny;
  facts.mempool.socket = kSocketAny;
  facts.placements[0].socket = 1;
  EXPECT_THAT(Codes(facts), ::testing::IsEmpty());
}

TEST(SelfCheckRules, LinkDown) {
  SelfCheckFacts facts = TunedHost();
  facts.port.link_up = false;
  const SelfCheckWarning warning = OnlyWarning(facts);
  EXPECT_EQ(warning.code, "link_down");
  EXPECT_THAT(warning.message, HasSubstr("(firmware-notes/mirror-ports.md)"));
}

TEST(SelfCheckRules, PortNotStartedHasNoLinkWarning) {
  SelfCheckFacts facts = TunedHost();
  facts.port.started = false;
  facts.port.link_up = std::nullopt;
  EXPECT_THAT(Codes(facts), ::testing::IsEmpty());
}

TEST(SelfCheckRules, FlowControlOn) {
  SelfCheckFacts facts = TunedHost();
  facts.port.flow_control_on = true;
  const SelfCheckWarning warning = OnlyWarning(facts);
  EXPECT_EQ(warning.code, "flow_control_on");
  EXPECT_THAT(warning.message, HasSubstr("ethtool -A"));
}

TEST(SelfCheckRules, UnknownFlowControlIsNoWarning) {
  SelfCheckFacts facts = TunedHost();
  facts.port.flow_control_on = std::nullopt;
  facts.port.lro_on = std::nullopt;
  EXPECT_THAT(Codes(facts), ::testing::IsEmpty());
}

TEST(SelfCheckRules, LroOnPointsToNicNote) {
  SelfCheckFacts facts = TunedHost();
  facts.port.lro_on = true;
  const SelfCheckWarning warning = OnlyWarning(facts);
  EXPECT_EQ(warning.code, "lro_on");
  EXPECT_THAT(warning.message, HasSubstr("(firmware-notes/mlx5-connectx.md)"));
}

TEST(SelfCheckRules, RssNotConfigurable) {
  SelfCheckFacts facts = TunedHost();
  facts.port.driver = "net_pcap";
  facts.port.rss_configurable = false;
  facts.port.rss_symmetric = std::nullopt;
  const SelfCheckWarning warning = OnlyWarning(facts);
  EXPECT_EQ(warning.code, "rss_not_configurable");
  EXPECT_THAT(warning.message, HasSubstr("port 0 (net_pcap) cannot be programmed with RSS"));
  EXPECT_THAT(warning.message, HasSubstr("(firmware-notes/README.md)"));
}

TEST(SelfCheckRules, OneQueueNeedsNoRss) {
  SelfCheckFacts facts = TunedHost();
  facts.workers = 1;
  facts.port.rx_queues = 1;
  facts.port.rss_configurable = false;
  facts.placements.resize(1);
  facts.mempool.plan = PlanMempool(1, 4096, 2, 0, 0);
  EXPECT_THAT(Codes(facts), ::testing::IsEmpty());
}

TEST(SelfCheckRules, RssKeyNotSymmetric) {
  SelfCheckFacts facts = TunedHost();
  facts.port.driver = "net_ice";
  facts.port.rss_symmetric = false;
  const SelfCheckWarning warning = OnlyWarning(facts);
  EXPECT_EQ(warning.code, "rss_not_symmetric");
  EXPECT_THAT(warning.message, HasSubstr("(firmware-notes/ice-e810.md)"));
}

TEST(SelfCheckRules, FewerQueuesThanWorkers) {
  SelfCheckFacts facts = TunedHost();
  facts.port.max_rx_queues = 2;
  const SelfCheckWarning warning = OnlyWarning(facts);
  EXPECT_EQ(warning.code, "too_few_queues");
  EXPECT_THAT(warning.message, HasSubstr("has 2 RX queues for 4 workers"));
  EXPECT_THAT(warning.message, HasSubstr("(firmware-notes/sizing.md)"));
}

TEST(SelfCheckRules, MempoolSmallerThanRings) {
  SelfCheckFacts facts = TunedHost();
  facts.mempool.plan = PlanMempool(4, 4096, 5, 0, 8191);
  const SelfCheckWarning warning = OnlyWarning(facts);
  EXPECT_EQ(warning.code, "mempool_too_small");
  // 4 x 4096 + 5 x (256 + 64) + 1024.
  EXPECT_THAT(warning.message, HasSubstr("has 8191 mbufs but"));
  EXPECT_THAT(warning.message, HasSubstr("can hold 19008"));
}

TEST(SelfCheckRules, EveryWarningNamesAFirmwareNote) {
  SelfCheckFacts facts = TunedHost();
  facts.host.hugepages = false;
  facts.host.isolated_cpus = std::vector<int>{};
  facts.host.nohz_full_cpus = std::vector<int>{};
  facts.placements[0].cpus = {3, 4};
  facts.placements[1].socket = 1;
  facts.mempool.socket = 1;
  facts.port.link_up = false;
  facts.port.flow_control_on = true;
  facts.port.lro_on = true;
  facts.port.rss_symmetric = false;
  facts.port.max_rx_queues = 2;
  facts.mempool.plan.mbufs = 100;
  const std::vector<SelfCheckWarning> warnings = CheckSelfCheckFacts(facts);
  EXPECT_EQ(warnings.size(), 12u);
  for (const SelfCheckWarning& warning : warnings) {
    EXPECT_THAT(warning.message, ::testing::MatchesRegex(".*\\(firmware-notes/[a-z0-9-]+\\.md\\)"))
        << warning.code;
    EXPECT_EQ(warning.message.find('\n'), std::string::npos) << warning.code;
  }
}

TEST(SelfCheckReport, MapAndWarnings) {
  SelfCheckFacts facts = TunedHost();
  facts.port.flow_control_on = true;
  const std::string report = FormatSelfCheckReport(facts, CheckSelfCheckFacts(facts));
  EXPECT_THAT(report, HasSubstr("self-check: port 0 mlx5_pci (0000:3b:00.0), NUMA socket 0, "
                                "link up 100000 Mbps full-duplex, RX queues 4 (max 1024) x "
                                "4096 descriptors, RSS symmetric key, flow control on, LRO off\n"));
  EXPECT_THAT(report,
              HasSubstr("self-check: queue 3 -> worker 3 on lcore 6, CPU 6, NUMA socket 0\n"));
  EXPECT_THAT(report, HasSubstr("self-check: mempool sensor_mbufs_p0 on NUMA socket 0: 32767 "
                                "mbufs x 2176 bytes"));
  EXPECT_THAT(report, HasSubstr("self-check: warning flow_control_on: port 0 has Ethernet"));
  EXPECT_THAT(report, HasSubstr("self-check: 1 warning\n"));
}

TEST(MempoolPlan, FormulaAndRounding) {
  const MempoolPlan plan = PlanMempool(2, 1024, 3, 0, 0);
  EXPECT_EQ(plan.required, 2u * 1024 + 3u * (256 + 64) + 1024);
  EXPECT_EQ(plan.mbufs, 4095u);
  EXPECT_FALSE(plan.overridden);
  EXPECT_EQ(DescribeMempoolPlan(plan),
            "RX queues 2 x descriptors 1024 + lcores 3 x (cache 256 + burst 64) + 1024 in "
            "flight = 4032 needed; 4095 mbufs (rounded up to 2^n-1)");
}

TEST(MempoolPlan, PowerOfTwoRequirementRoundsUp) {
  // 2 x 1024 + 1 x 320 + 704 queued + 1024 = 4096, which 4095 would not hold.
  const MempoolPlan plan = PlanMempool(2, 1024, 1, 704, 0);
  EXPECT_EQ(plan.required, 4096u);
  EXPECT_EQ(plan.mbufs, 8191u);
}

TEST(MempoolPlan, OverrideIsKept) {
  const MempoolPlan plan = PlanMempool(2, 1024, 3, 0, 50000);
  EXPECT_EQ(plan.mbufs, 50000u);
  EXPECT_TRUE(plan.overridden);
  EXPECT_THAT(DescribeMempoolPlan(plan), HasSubstr("50000 mbufs (--mbufs)"));
}

TEST(CpuList, ParsesKernelFormat) {
  EXPECT_EQ(ParseCpuList("2-5,8\n"), (std::vector<int>{2, 3, 4, 5, 8}));
  EXPECT_EQ(ParseCpuList("0"), (std::vector<int>{0}));
  EXPECT_EQ(ParseCpuList(""), (std::vector<int>{}));
  EXPECT_EQ(ParseCpuList("\n"), (std::vector<int>{}));
}

TEST(CpuList, RejectsInvalidText) {
  EXPECT_EQ(ParseCpuList("a"), std::nullopt);
  EXPECT_EQ(ParseCpuList("5-2"), std::nullopt);
  EXPECT_EQ(ParseCpuList("1,,2"), std::nullopt);
  EXPECT_EQ(ParseCpuList("-3"), std::nullopt);
  EXPECT_EQ(ParseCpuList("0-99999999"), std::nullopt);
}

TEST(CpuList, FormatsRuns) {
  EXPECT_EQ(FormatCpuList({8, 2, 3, 4}), "2-4,8");
  EXPECT_EQ(FormatCpuList({1}), "1");
  EXPECT_EQ(FormatCpuList({}), "none");
}

TEST(EalLcores, CountsEachForm) {
  EXPECT_EQ(CountEalLcores("-l 0-4 -a 0000:3b:00.0"), 5u);
  EXPECT_EQ(CountEalLcores("-l2-18 --main-lcore 2"), 17u);
  EXPECT_EQ(CountEalLcores("--lcores=(0-2)@(0,1) --no-huge"), 3u);
  EXPECT_EQ(CountEalLcores("--lcores (0-2)@(0,1),3@1,4"), 5u);
  EXPECT_EQ(CountEalLcores("-c 0xf"), 4u);
  EXPECT_EQ(CountEalLcores("-c f0"), 4u);
}

TEST(EalLcores, AbsentOrInvalid) {
  EXPECT_EQ(CountEalLcores("-a 0000:3b:00.0 -n 4"), std::nullopt);
  EXPECT_EQ(CountEalLcores("-l"), std::nullopt);
  EXPECT_EQ(CountEalLcores("-l x-y"), std::nullopt);
  EXPECT_EQ(CountEalLcores("-c 0xg"), std::nullopt);
}

TEST(RunPlacement, TooFewLcoresForWorkers) {
  const absl::Status status = CheckRunPlacement("-l 2-9 -a 0000:3b:00.0", 16, 0, 32);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("--workers 16 needs 17 lcores (one per worker and the main lcore) but "
                        "--eal gives 8"));
}

TEST(RunPlacement, PortOutOfRange) {
  const absl::Status status = CheckRunPlacement("-l 0-4", 4, 32, 32);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("--port 32 is out of range"));
}

TEST(RunPlacement, EnoughLcores) {
  EXPECT_TRUE(CheckRunPlacement("-l 2-18 --main-lcore 2", 16, 0, 32).ok());
  EXPECT_TRUE(CheckRunPlacement("-a 0000:3b:00.0", 64, 0, 32).ok());
}

TEST(NicNote, ByDriver) {
  EXPECT_EQ(NicNoteForDriver("mlx5_pci"), "firmware-notes/mlx5-connectx.md");
  EXPECT_EQ(NicNoteForDriver("net_ice"), "firmware-notes/ice-e810.md");
  EXPECT_EQ(NicNoteForDriver("net_ixgbe"), "firmware-notes/README.md");
}

}  // namespace
}  // namespace sensor
