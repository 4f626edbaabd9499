// Micro benchmarks of the per-packet header path: decode, flow lookup, address and domain
// lookups with large indicator sets, and payload scanning. Each reports items per second
// and cycles per item, measured around the loop on one core, and the memory of the
// structure it exercises as a counter (bytes per flow, per indicator, per domain).
//
// The 10M-indicator sizes run only when SENSOR_BENCH_FULL=1, because building them takes
// minutes and several GB.

#include <hs/hs.h>

#include <algorithm>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "dataplane/decode/decoder.h"
#include "dataplane/flow_table.h"
#include "dataplane/match/domain_name.h"
#include "dataplane/match/domain_set.h"
#include "dataplane/match/ip_set.h"
#include "dataplane/pattern/pattern_database.h"
#include "perf/bench_util.h"

namespace sensor::dp {
namespace {

using bench::FullRun;
using bench::HeapInUse;
using bench::LoadFrames;
using bench::LoadTrafficMix;
using bench::RandomDomain;
using bench::RandomPatterns;
using bench::ReportCycles;

void IndicatorSizes(benchmark::internal::Benchmark* benchmark) {
  benchmark->Arg(1'000'000);
  if (FullRun()) benchmark->Arg(10'000'000);
}

void BM_DecodeEthernet(benchmark::State& state) {
  const auto frames = LoadTrafficMix();
  if (frames.empty()) {
    state.SkipWithError("captures not found; set SENSOR_TEST_DATA");
    return;
  }
  uint64_t items = 0;
  const bench::LoopStart start;
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

// Flow keys of the traffic mix, then `extra` synthetic keys (random IPv4 5-tuples) so the
// table contains as many flows as a busy worker does and lookups miss the cache as they would.
std::vector<FlowKey> FlowKeys(size_t extra) {
  std::vector<FlowKey> keys;
  for (const auto& frame : LoadTrafficMix()) {
    PacketInfo info;
    if (DecodeEthernet(frame, info) != DecodeStatus::kOk) continue;
    bool a_is_src;
    keys.push_back(MakeFlowKey(info, a_is_src));
  }
  std::mt19937 random(3);
  for (size_t i = 0; i < extra; ++i) {
    PacketInfo info;
    info.src = IpAddress::FromV4(random());
    info.dst = IpAddress::FromV4(random());
    info.src_port = static_cast<uint16_t>(random());
    info.dst_port = 443;
    info.protocol = kIpProtoTcp;
    bool a_is_src;
    keys.push_back(MakeFlowKey(info, a_is_src));
  }
  std::shuffle(keys.begin(), keys.end(), random);
  return keys;
}

// Argument: synthetic flows besides the mix's own. The table is sized for 64k flows, the
// default of `--flow-capacity`.
void BM_FlowTableFindOrCreate(benchmark::State& state) {
  const auto keys = FlowKeys(static_cast<size_t>(state.range(0)));
  std::vector<uint32_t> hashes;
  for (const FlowKey& key : keys) hashes.push_back(HashFlowKey(key));
  const size_t heap_before = HeapInUse();
  FlowTable table(FlowTableConfig{}, 0);
  const size_t table_bytes = HeapInUse() - heap_before;
  uint64_t items = 0;
  uint64_t now = 1;
  const bench::LoopStart start;
  for (auto _ : state) {
    for (size_t i = 0; i < keys.size(); ++i) {
      bool created;
      Flow* flow =
          table.FindOrCreate(keys[i], hashes[i], ++now, created, [](Flow&, FlowEndReason) {});
      benchmark::DoNotOptimize(flow);
    }
    items += keys.size();
  }
  ReportCycles(state, start, items);
  state.counters["sizeof_flow"] = sizeof(Flow);
  // The whole table (flows, their histories and signatures) divided by its slots.
  state.counters["bytes_per_flow"] =
      static_cast<double>(table_bytes) / static_cast<double>(table.capacity());
}
BENCHMARK(BM_FlowTableFindOrCreate)->Arg(0)->Arg(30'000);

// Hashing the key is part of every packet's flow lookup, so it gets its own figure.
void BM_FlowKeyHash(benchmark::State& state) {
  const auto keys = FlowKeys(0);
  uint64_t items = 0;
  const bench::LoopStart start;
  for (auto _ : state) {
    for (const FlowKey& key : keys) benchmark::DoNotOptimize(HashFlowKey(key));
    items += keys.size();
  }
  ReportCycles(state, start, items);
}
BENCHMARK(BM_FlowKeyHash);

IpAddress RandomV6(std::mt19937_64& random) {
  IpAddress address;
  const uint64_t high = random();
  const uint64_t low = random();
  for (int b = 0; b < 8; ++b) {
    address.bytes[b] = static_cast<uint8_t>(high >> (56 - 8 * b));
    address.bytes[8 + b] = static_cast<uint8_t>(low >> (56 - 8 * b));
  }
  address.bytes[0] = 0x20 | (address.bytes[0] & 0x1F);  // Global unicast, 2000::/3.
  return address;
}

IpAddress RandomAddress(bool v4, std::mt19937_64& random) {
  return v4 ? IpAddress::FromV4(static_cast<uint32_t>(random())) : RandomV6(random);
}

// One in eight indicators is a prefix (/24 for IPv4, /48 for IPv6), the rest single
// addresses, as in MISP feeds. The first `sample.size()` addresses are copied to `sample`.
IpSet RandomSet(bool v4, size_t count, std::mt19937_64& random, std::vector<IpAddress>& sample) {
  IpSetBuilder builder;
  for (size_t i = 0; i < count; ++i) {
    const bool prefix = (i & 7) == 0;
    const IpAddress address = RandomAddress(v4, random);
    if (i < sample.size()) sample[i] = address;
    int length = v4 ? 32 : 128;
    if (prefix) length = v4 ? 24 : 48;
    builder.Add(address, length, {static_cast<uint32_t>(i), 0, kSideEither});
  }
  return std::move(builder).Build();
}

// Google Benchmark calls a benchmark function several times while it settles the
// iteration count. Large fixtures are built on the first call and kept, one per type, until
// a benchmark requests a different one, so the 10M sets are never held twice.
template <typename Fixture, typename Build>
const Fixture& Cached(const std::string& key, Build&& build) {
  static std::string cached_key;
  static std::unique_ptr<Fixture> cached;
  if (cached == nullptr || cached_key != key) {
    cached.reset();
    cached = build();
    cached_key = key;
  }
  return *cached;
}

struct IpFixture {
  std::unique_ptr<IpSet> set;
  size_t heap_bytes = 0;  // Heap the set keeps, measured around its build.
  std::vector<IpAddress> probes;
};

// Probes: half are listed addresses (hits), half random (misses, which try every prefix
// length of the set, the common case on a real link).
std::unique_ptr<IpFixture> BuildIpFixture(bool v4, size_t count) {
  auto fixture = std::make_unique<IpFixture>();
  std::mt19937_64 random(1);
  std::vector<IpAddress> listed(2048);
  const size_t heap_before = HeapInUse();
  fixture->set = std::make_unique<IpSet>(RandomSet(v4, count, random, listed));
  fixture->heap_bytes = HeapInUse() - heap_before;
  for (const IpAddress& address : listed) {
    fixture->probes.push_back(address);
    fixture->probes.push_back(RandomAddress(v4, random));
  }
  return fixture;
}

void RunIpSetMatch(benchmark::State& state, bool v4) {
  const size_t count = static_cast<size_t>(state.range(0));
  const IpFixture& fixture = Cached<IpFixture>(
      (v4 ? "v4/" : "v6/") + std::to_string(count), [&] { return BuildIpFixture(v4, count); });
  uint64_t items = 0;
  int hits = 0;
  const bench::LoopStart start;
  for (auto _ : state) {
    for (const IpAddress& probe : fixture.probes) {
      hits += fixture.set->Match(probe, kSideSource, 0, [](const AddressRule&) {}) > 0 ? 1 : 0;
    }
    items += fixture.probes.size();
  }
  ReportCycles(state, start, items);
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(items);
  state.counters["bytes_per_indicator"] =
      static_cast<double>(fixture.heap_bytes) / static_cast<double>(count);
  state.counters["set_mib"] = static_cast<double>(fixture.heap_bytes) / (1 << 20);
}

void BM_IpSetMatchV4(benchmark::State& state) { RunIpSetMatch(state, /*v4=*/true); }
BENCHMARK(BM_IpSetMatchV4)->Apply(IndicatorSizes)->Unit(benchmark::kMillisecond);

void BM_IpSetMatchV6(benchmark::State& state) { RunIpSetMatch(state, /*v4=*/false); }
BENCHMARK(BM_IpSetMatchV6)->Apply(IndicatorSizes)->Unit(benchmark::kMillisecond);

struct DomainFixture {
  std::unique_ptr<DomainSet> set;  // Null when the build failed.
  size_t heap_bytes = 0;
  std::vector<std::string> probes;
};

// Random names, one in four a hostname rule and the rest domain rules. Probes: a third
// are listed names, a third are hosts below a listed name ("www." prefix, upper case and
// a trailing dot, which canonicalisation removes), a third are unlisted.
std::unique_ptr<DomainFixture> BuildDomainFixture(size_t count) {
  auto fixture = std::make_unique<DomainFixture>();
  std::mt19937_64 random(4);
  std::vector<std::string> names;
  names.reserve(count);
  for (size_t i = 0; i < count; ++i) names.push_back(RandomDomain(random));
  const size_t heap_before = HeapInUse();
  {
    DomainSetBuilder builder;
    for (size_t i = 0; i < count; ++i) {
      const auto kind = (i & 3) == 0 ? DomainMatchKind::kHostname : DomainMatchKind::kDomain;
      if (!builder.Add(names[i], kind, static_cast<uint32_t>(i)).ok()) return fixture;
    }
    fixture->set = std::make_unique<DomainSet>(std::move(builder).Build());
  }
  fixture->heap_bytes = HeapInUse() - heap_before;
  for (int i = 0; i < 4096; ++i) {
    const std::string& listed = names[random() % count];
    if (i % 3 == 0) fixture->probes.push_back(listed);
    if (i % 3 == 1) fixture->probes.push_back("WWW." + listed + ".");
    if (i % 3 == 2) fixture->probes.push_back("cdn." + RandomDomain(random));
  }
  return fixture;
}

// Domain indicators with the real matcher: each name is canonicalised as a worker does
// with names from the wire (CanonicalizeAsciiDomainName), then matched against the name
// and each parent.
void BM_DomainSetMatch(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  const DomainFixture& fixture = Cached<DomainFixture>(
      std::to_string(count), [&] { return BuildDomainFixture(count); });
  if (fixture.set == nullptr) {
    state.SkipWithError("domain set build failed");
    return;
  }
  uint64_t items = 0;
  int hits = 0;
  const bench::LoopStart start;
  for (auto _ : state) {
    for (const std::string& probe : fixture.probes) {
      DomainNameBuffer canonical;
      if (CanonicalizeAsciiDomainName(probe, canonical) != DomainNameStatus::kOk) continue;
      hits += fixture.set->Match(canonical.view(), [](const DomainRule&) {}) > 0 ? 1 : 0;
    }
    items += fixture.probes.size();
  }
  ReportCycles(state, start, items);
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(items);
  state.counters["bytes_per_domain"] =
      static_cast<double>(fixture.heap_bytes) / static_cast<double>(count);
  state.counters["set_mib"] = static_cast<double>(fixture.heap_bytes) / (1 << 20);
}
BENCHMARK(BM_DomainSetMatch)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

// Transport payloads of the traffic mix, as the worker hands them to Hyperscan.
std::vector<std::vector<std::byte>> MixPayloads() {
  std::vector<std::vector<std::byte>> payloads;
  for (const auto& frame : LoadTrafficMix()) {
    PacketInfo info;
    if (DecodeEthernet(frame, info) != DecodeStatus::kOk || info.payload_length == 0) continue;
    const auto* begin = frame.data() + info.payload_offset;
    payloads.emplace_back(begin, begin + info.payload_length);
  }
  return payloads;
}

void BM_PatternBlockScan(benchmark::State& state) {
  const auto payloads = MixPayloads();
  if (payloads.empty()) {
    state.SkipWithError("captures not found; set SENSOR_TEST_DATA");
    return;
  }
  const auto& database = Cached<std::unique_ptr<PatternDatabase>>(
      std::to_string(state.range(0)), [&] {
        std::vector<RejectedPattern> rejected;
        auto compiled = PatternDatabase::Compile(RandomPatterns(state.range(0)), 1, rejected);
        return std::make_unique<std::unique_ptr<PatternDatabase>>(
            compiled.ok() && rejected.empty() ? std::move(*compiled) : nullptr);
      });
  if (database == nullptr) {
    state.SkipWithError("pattern compile failed");
    return;
  }
  uint64_t bytes = 0;
  uint64_t items = 0;
  uint64_t matches = 0;
  const bench::LoopStart start;
  for (auto _ : state) {
    for (const auto& payload : payloads) {
      hs_scan(database->block(), reinterpret_cast<const char*>(payload.data()),
              static_cast<unsigned>(payload.size()), 0, database->scratch(0),
              [](unsigned, unsigned long long, unsigned long long, unsigned, void* context) {
                ++*static_cast<uint64_t*>(context);
                return 0;
              },
              &matches);
      bytes += payload.size();
    }
    items += payloads.size();
  }
  ReportCycles(state, start, items);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["cycles_per_byte"] = state.counters["cycles_per_item"].value *
                                      static_cast<double>(items) / static_cast<double>(bytes);
  state.counters["gbit_per_s"] =
      benchmark::Counter(static_cast<double>(bytes) * 8 / 1e9, benchmark::Counter::kIsRate);
  state.counters["mean_payload_bytes"] =
      static_cast<double>(bytes) / static_cast<double>(items == 0 ? 1 : items);
  state.counters["matches"] = static_cast<double>(matches);
}
BENCHMARK(BM_PatternBlockScan)->Arg(10'000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace sensor::dp

BENCHMARK_MAIN();
