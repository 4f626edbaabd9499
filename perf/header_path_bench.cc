// Micro benchmarks of the per-packet header path: decode, flow lookup, address lookup
// with large indicator sets, and payload scanning. Each reports packets (or lookups) per
// second and TSC cycles per item, measured around the loop on one core.

#include <pcap/pcap.h>
#include <rte_cycles.h>

#include <hs/hs.h>

#include <cstdlib>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "dataplane/decode/decoder.h"
#include "dataplane/flow_table.h"
#include "dataplane/match/ip_set.h"
#include "dataplane/pattern/pattern_database.h"

namespace sensor::dp {
namespace {

std::string DataPath(const std::string& name) {
  const char* root = std::getenv("SENSOR_TEST_DATA");
  return std::string(root != nullptr ? root : "tests/data") + "/" + name;
}

// All frames of a capture, each as its own byte vector.
std::vector<std::vector<std::byte>> LoadFrames(const std::string& name) {
  std::vector<std::vector<std::byte>> frames;
  char error[PCAP_ERRBUF_SIZE];
  pcap_t* pcap = pcap_open_offline(DataPath(name).c_str(), error);
  if (pcap == nullptr) return frames;
  pcap_pkthdr* header;
  const u_char* data;
  while (pcap_next_ex(pcap, &header, &data) == 1) {
    const auto* begin = reinterpret_cast<const std::byte*>(data);
    frames.emplace_back(begin, begin + header->caplen);
  }
  pcap_close(pcap);
  return frames;
}

void ReportCycles(benchmark::State& state, uint64_t start_tsc, uint64_t items) {
  const uint64_t cycles = rte_rdtsc() - start_tsc;
  state.counters["cycles_per_item"] =
      items == 0 ? 0 : static_cast<double>(cycles) / static_cast<double>(items);
  state.SetItemsProcessed(static_cast<int64_t>(items));
}

void BM_DecodeEthernet(benchmark::State& state) {
  const auto frames = LoadFrames("pcap/dns-v4v6-tcp-ipfrag.pcap");
  if (frames.empty()) {
    state.SkipWithError("capture not found; set SENSOR_TEST_DATA");
    return;
  }
  uint64_t items = 0;
  const uint64_t start = rte_rdtsc();
  for (auto _ : state) {
    for (const auto& frame : frames) {
      PacketInfo info;
      benchmark::DoNotOptimize(DecodeEthernet(frame, info));
    }
    items += frames.size();
  }
  ReportCycles(state, start, items);
}
BENCHMARK(BM_DecodeEthernet);

IpSet RandomV4Set(size_t count, std::mt19937& random) {
  IpSetBuilder builder;
  for (size_t i = 0; i < count; ++i) {
    // One in eight indicators is a /24, the rest single addresses, as MISP feeds are.
    const bool prefix = (i & 7) == 0;
    builder.Add(IpAddress::FromV4(random()), prefix ? 24 : 32,
                {static_cast<uint32_t>(i), 0, kSideEither});
  }
  return std::move(builder).Build();
}

void BM_IpSetMatchV4(benchmark::State& state) {
  std::mt19937 random(1);
  const IpSet set = RandomV4Set(static_cast<size_t>(state.range(0)), random);
  std::vector<IpAddress> probes;
  for (int i = 0; i < 4096; ++i) probes.push_back(IpAddress::FromV4(random()));
  uint64_t items = 0;
  int hits = 0;
  const uint64_t start = rte_rdtsc();
  for (auto _ : state) {
    for (const IpAddress& probe : probes) {
      hits += set.Match(probe, kSideSource, 0, [](const AddressRule&) {});
    }
    items += probes.size();
  }
  benchmark::DoNotOptimize(hits);
  state.counters["bytes_per_indicator"] =
      static_cast<double>(set.MemoryBytes()) / static_cast<double>(state.range(0));
  ReportCycles(state, start, items);
}
BENCHMARK(BM_IpSetMatchV4)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void BM_FlowTableFindOrCreate(benchmark::State& state) {
  const auto frames = LoadFrames("pcap/dns-v4v6-tcp-ipfrag.pcap");
  std::vector<FlowKey> keys;
  for (const auto& frame : frames) {
    PacketInfo info;
    if (DecodeEthernet(frame, info) != DecodeStatus::kOk) continue;
    bool a_is_src;
    keys.push_back(MakeFlowKey(info, a_is_src));
  }
  FlowTable table(FlowTableConfig{}, 0);
  uint64_t items = 0;
  uint64_t now = 1;
  const uint64_t start = rte_rdtsc();
  for (auto _ : state) {
    for (const FlowKey& key : keys) {
      bool created;
      Flow* flow = table.FindOrCreate(key, HashFlowKey(key), ++now, created,
                                      [](Flow&, FlowEndReason) {});
      benchmark::DoNotOptimize(flow);
    }
    items += keys.size();
  }
  state.counters["bytes_per_flow"] =
      static_cast<double>(sizeof(Flow) + sizeof(uint32_t));  // Entry plus its signature.
  ReportCycles(state, start, items);
}
BENCHMARK(BM_FlowTableFindOrCreate);

void BM_PatternBlockScan(benchmark::State& state) {
  const auto frames = LoadFrames("pcap/http-sqli-dvwa.pcapng");
  std::vector<PatternSource> patterns;
  std::mt19937 random(2);
  for (int i = 0; i < state.range(0); ++i) {
    std::string literal;
    for (int c = 0; c < 12; ++c) literal += static_cast<char>('a' + random() % 26);
    patterns.push_back(PatternFromMispValue(literal, static_cast<uint32_t>(i), "bench"));
  }
  std::vector<RejectedPattern> rejected;
  auto database = PatternDatabase::Compile(patterns, 1, rejected);
  if (!database.ok() || *database == nullptr) {
    state.SkipWithError("pattern compile failed");
    return;
  }
  uint64_t bytes = 0;
  uint64_t items = 0;
  const uint64_t start = rte_rdtsc();
  for (auto _ : state) {
    for (const auto& frame : frames) {
      hs_scan((*database)->block(), reinterpret_cast<const char*>(frame.data()),
              static_cast<unsigned>(frame.size()), 0, (*database)->scratch(0),
              [](unsigned, unsigned long long, unsigned long long, unsigned, void*) {
                return 0;
              },
              nullptr);
      bytes += frame.size();
    }
    items += frames.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  ReportCycles(state, start, items);
}
BENCHMARK(BM_PatternBlockScan)->Arg(10'000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace sensor::dp

BENCHMARK_MAIN();
