// The whole worker pipeline fed from memory: the traffic mix of tests/data/pcap preloaded
// into mbufs and handed to Worker::ProcessReceived in bursts of 32, over and over, with
// 1M address and 1M domain indicators loaded. Other variants add 10k payload patterns, or
// load the addresses only. Reports packets per second and cycles per packet for 1 and 2
// workers, each worker on its own thread with its own mbufs, flow table and record ring.
//
// Receiving and freeing the mbufs is not measured: perf/bare_pcap_loop.cc measures
// that part of a replay. EAL runs with --no-huge --no-pci, so no NIC or hugepages are
// needed.

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/match/domain_name.h"
#include "dataplane/worker.h"
#include "perf/bench_util.h"

namespace sensor::dp {
namespace {

constexpr int kMaxWorkers = 2;
constexpr uint16_t kBurst = 32;
constexpr size_t kIndicators = 1'000'000;

// State shared by every benchmark of the process: the mempool, the QSBR variable and one
// snapshot per variant, built once because 1M + 1M indicators take seconds to build.
struct Shared {
  rte_mempool* pool = nullptr;
  rte_rcu_qsbr* qsbr = nullptr;
  std::vector<std::vector<std::byte>> frames;
  std::shared_ptr<const IpSet> addresses;
  std::shared_ptr<const DomainSet> domains;
  // One per benchmark argument (see BM_WorkerPipeline).
  std::unique_ptr<Snapshot> snapshots[3];
  std::atomic<const Snapshot*> current[3];
};

Shared& shared() {
  static Shared instance;
  return instance;
}

// 1M random address indicators (one in eight a /24) plus 8.8.8.8, the address the demo
// event lists, which the mix contacts.
std::shared_ptr<const IpSet> BuildAddresses() {
  IpSetBuilder builder;
  std::mt19937_64 random(5);
  for (size_t i = 0; i < kIndicators; ++i) {
    const bool prefix = (i & 7) == 0;
    builder.Add(IpAddress::FromV4(static_cast<uint32_t>(random())), prefix ? 24 : 32,
                {static_cast<uint32_t>(i), 0, kSideEither});
  }
  builder.Add(IpAddress::FromV4(0x08080808), 32,
              {static_cast<uint32_t>(kIndicators), 0, kSideDestination});
  return std::make_shared<const IpSet>(std::move(builder).Build());
}

// 1M random domain indicators plus google.com, which the mix looks up.
std::shared_ptr<const DomainSet> BuildDomains() {
  DomainSetBuilder builder;
  std::mt19937_64 random(6);
  for (size_t i = 0; i < kIndicators; ++i) {
    (void)builder.Add(bench::RandomDomain(random), DomainMatchKind::kDomain,
                      static_cast<uint32_t>(i));
  }
  (void)builder.Add("google.com", DomainMatchKind::kDomain, static_cast<uint32_t>(kIndicators));
  return std::make_shared<const DomainSet>(std::move(builder).Build());
}

bool SetUpShared() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    Shared& s = shared();
    s.frames = bench::LoadTrafficMix();
    if (s.frames.empty()) return;
    s.pool = rte_pktmbuf_pool_create("bench_mbufs", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                     static_cast<int>(rte_socket_id()));
    const size_t qsbr_bytes = rte_rcu_qsbr_get_memsize(kMaxWorkers);
    s.qsbr = static_cast<rte_rcu_qsbr*>(aligned_alloc(RTE_CACHE_LINE_SIZE, qsbr_bytes));
    if (s.pool == nullptr || s.qsbr == nullptr || rte_rcu_qsbr_init(s.qsbr, kMaxWorkers) != 0) {
      return;
    }
    s.addresses = BuildAddresses();
    s.domains = BuildDomains();
    std::vector<RejectedPattern> rejected;
    auto patterns = PatternDatabase::Compile(bench::RandomPatterns(10'000), kMaxWorkers, rejected);
    if (!patterns.ok() || *patterns == nullptr) return;
    for (int variant = 0; variant < 3; ++variant) {
      auto snapshot = std::make_unique<Snapshot>();
      snapshot->version = 1;
      snapshot->addresses = s.addresses;
      if (variant != 2) snapshot->domains = s.domains;
      if (variant == 1) snapshot->patterns = std::move(*patterns);
      s.current[variant].store(snapshot.get());
      s.snapshots[variant] = std::move(snapshot);
    }
    ok = true;
  });
  return ok;
}

// One worker with its own copy of the mix in mbufs, as a worker lcore would see it.
class WorkerHarness {
 public:
  // Stream state blocks as the engine sizes them: twice the database's state, for twice
  // the sessions.
  WorkerHarness(uint32_t index, int variant)
      : stream_pool_(StreamBlockBytes(variant), 2 * WorkerConfig{}.sessions) {
    Shared& s = shared();
    char name[32];
    std::snprintf(name, sizeof(name), "bench_records_%u_%d", index, variant);
    records_ = rte_ring_create_elem(name, sizeof(WorkerRecord), 1 << 16,
                                    static_cast<int>(rte_socket_id()),
                                    RING_F_SP_ENQ | RING_F_SC_DEQ);
    WorkerConfig config;
    config.index = index;
    config.record_ring = records_;
    config.snapshot = &s.current[variant];
    config.qsbr = s.qsbr;
    config.counters = &counters_;
    config.stream_pool = &stream_pool_;
    config.export_flows = true;
    worker_ = std::make_unique<Worker>(config);
    for (const auto& frame : s.frames) {
      rte_mbuf* mbuf = rte_pktmbuf_alloc(s.pool);
      if (mbuf == nullptr) break;
      char* data = rte_pktmbuf_append(mbuf, static_cast<uint16_t>(frame.size()));
      if (data == nullptr) {
        rte_pktmbuf_free(mbuf);
        continue;
      }
      std::memcpy(data, frame.data(), frame.size());
      mbufs_.push_back(mbuf);
    }
  }

  ~WorkerHarness() {
    for (rte_mbuf* mbuf : mbufs_) rte_pktmbuf_free(mbuf);
    rte_ring_free(records_);
  }

  static size_t StreamBlockBytes(int variant) {
    const auto& patterns = shared().snapshots[variant]->patterns;
    return std::max<size_t>(2 * (patterns ? patterns->stream_state_bytes() : 0), 1024);
  }

  bool ok() const { return records_ != nullptr && !mbufs_.empty(); }
  Worker& worker() { return *worker_; }

  // Feeds every preloaded packet once, in bursts, and returns the packets processed.
  uint64_t Pass(uint64_t clock_ns) {
    for (size_t i = 0; i < mbufs_.size(); i += kBurst) {
      const auto count = static_cast<uint16_t>(std::min<size_t>(kBurst, mbufs_.size() - i));
      worker_->ProcessReceived(&mbufs_[i], count, clock_ns);
    }
    Drain();
    return mbufs_.size();
  }

  // Takes the records off the ring, as the control thread does.
  void Drain() {
    WorkerRecord batch[64];
    while (rte_ring_sc_dequeue_burst_elem(records_, batch, sizeof(WorkerRecord), 64, nullptr) >
           0) {
    }
  }

  uint64_t Get(Counter counter) const { return counters_.Get(counter); }

 private:
  WorkerCounters counters_;
  StreamStatePool stream_pool_;
  rte_ring* records_ = nullptr;
  std::unique_ptr<Worker> worker_;
  std::vector<rte_mbuf*> mbufs_;
};

// The argument picks the snapshot. Variant 0 has 1M addresses and 1M domains, and variant
// 1 adds 10k payload patterns. Variant 2 has the addresses only, which leaves the header
// path (decode, flow, address match) without name inspection. Threads are workers.
void BM_WorkerPipeline(benchmark::State& state) {
  if (!SetUpShared()) {
    state.SkipWithError("setup failed: captures, mempool or patterns");
    return;
  }
  const int variant = static_cast<int>(state.range(0));
  WorkerHarness harness(static_cast<uint32_t>(state.thread_index()), variant);
  if (!harness.ok()) {
    state.SkipWithError("record ring or mbufs unavailable");
    return;
  }

  harness.worker().Attach();
  // A first pass creates the flows, as a capture's first packets would.
  uint64_t clock_ns = 1'700'000'000'000'000'000;
  harness.Pass(clock_ns);

  uint64_t packets = 0;
  const bench::LoopStart start;
  for (auto _ : state) {
    clock_ns += 1'000'000;
    packets += harness.Pass(clock_ns);
  }
  const double cpu_cycles =
      static_cast<double>(bench::ThreadCpuNs() - start.cpu_ns) * rte_get_tsc_hz() / 1e9;
  const double tsc = static_cast<double>(rte_rdtsc() - start.tsc);
  harness.worker().Detach();
  harness.Drain();

  state.SetItemsProcessed(static_cast<int64_t>(packets));
  // Per worker: CPU time at the TSC rate, and TSC ticks of wall time.
  state.counters["cycles_per_packet"] = benchmark::Counter(
      cpu_cycles / static_cast<double>(packets), benchmark::Counter::kAvgThreads);
  state.counters["tsc_per_packet"] =
      benchmark::Counter(tsc / static_cast<double>(packets), benchmark::Counter::kAvgThreads);
  state.counters["tsc_ghz"] = benchmark::Counter(static_cast<double>(rte_get_tsc_hz()) / 1e9,
                                                 benchmark::Counter::kAvgThreads);
  state.counters["alerts"] =
      static_cast<double>(harness.Get(Counter::kAlertsQueued));
  state.counters["packets_per_pass"] = benchmark::Counter(
      static_cast<double>(harness.Get(Counter::kRxPackets)) /
          static_cast<double>(state.iterations() + 1),
      benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_WorkerPipeline)
    ->ArgName("indicators")
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace sensor::dp

int main(int argc, char** argv) {
  const std::string prefix = "perf-pipeline-" + std::to_string(getpid());
  std::vector<std::string> eal_args = {"worker_pipeline_bench", "--no-huge", "--no-pci",
                                       "-m",         "512",     "--file-prefix",
                                       prefix,       "-l",      "0",
                                       "--log-level", "lib.eal:error"};
  std::vector<char*> eal_argv;
  for (auto& arg : eal_args) eal_argv.push_back(arg.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "worker_pipeline_bench: EAL initialisation failed: %s\n",
                 rte_strerror(rte_errno));
    return 1;
  }
  // EAL pins the main thread to lcore 0, and the benchmark's worker threads would inherit
  // that mask. Every CPU is allowed instead, so that two workers can run on two cores.
  cpu_set_t all_cpus;
  CPU_ZERO(&all_cpus);
  for (long cpu = 0; cpu < sysconf(_SC_NPROCESSORS_ONLN) && cpu < CPU_SETSIZE; ++cpu) {
    CPU_SET(static_cast<int>(cpu), &all_cpus);
  }
  pthread_setaffinity_np(pthread_self(), sizeof(all_cpus), &all_cpus);
  sensor::dp::StreamStatePool::InstallStreamAllocator();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  rte_eal_cleanup();
  return 0;
}
