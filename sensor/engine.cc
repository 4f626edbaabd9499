#include "sensor/engine.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ctrlplane/log.h"
#include "dataplane/records.h"
#include "dataplane/rss.h"

namespace sensor {
namespace {

constexpr size_t kDrainBurst = 64;
constexpr auto kPortStatsInterval = std::chrono::seconds(1);

absl::Status DpdkError(absl::string_view what, int error) {
  return absl::InternalError(absl::StrCat(what, ": ", rte_strerror(error < 0 ? -error : error)));
}

// Work launched on one lcore, with the counter of running lcores that the control loop
// watches.
struct LcoreJob {
  std::function<void()> body;
  std::atomic<uint32_t>* running = nullptr;
};

int RunLcoreJob(void* arg) {
  auto* job = static_cast<LcoreJob*>(arg);
  job->body();
  job->running->fetch_sub(1, std::memory_order_release);
  return 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options,
                                                       ctl::SnapshotPublisher* publisher) {
  std::unique_ptr<Engine> engine(new Engine(options));
  engine->publisher_ = publisher;
  const uint32_t workers = options.workers;
  const bool distribute = options.replay && workers > 1;
  const uint32_t needed = workers + (distribute ? 1 : 0);
  if (rte_lcore_count() < needed + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(needed, " lcores besides the main one are needed for ", workers,
                     " workers, but EAL has ", rte_lcore_count() - 1));
  }

  // Workers take the first lcores after the main one, and the replay RX lcore the next.
  for (unsigned lcore = rte_get_next_lcore(-1, 1, 0);
       lcore < RTE_MAX_LCORE && engine->worker_lcores_.size() < workers;
       lcore = rte_get_next_lcore(lcore, 1, 0)) {
    engine->worker_lcores_.push_back(lcore);
  }

  const uint16_t rx_queues = options.replay ? 1 : static_cast<uint16_t>(workers);
  engine->mempool_plan_ =
      PlanMempool(rx_queues, options.rx_descriptors, needed + 1,
                  distribute ? uint64_t{workers} * options.packet_ring_size : 0, options.mbufs);
  const MempoolPlan& plan = engine->mempool_plan_;
  // On the port's NUMA socket, so the NIC writes packets into local memory.
  engine->pool_ = rte_pktmbuf_pool_create(
      absl::StrCat("sensor_mbufs_p", options.port).c_str(), plan.mbufs,
      std::min<uint32_t>(plan.cache, RTE_MEMPOOL_CACHE_MAX_SIZE), 0, RTE_MBUF_DEFAULT_BUF_SIZE,
      rte_eth_dev_socket_id(options.port));
  if (engine->pool_ == nullptr) {
    return DpdkError(absl::StrCat("cannot create a mempool of ", plan.mbufs, " mbufs (",
                                  DescribeMempoolPlan(plan),
                                  "); give EAL more memory, or lower --workers, "
                                  "--rx-descriptors or --mbufs"),
                     rte_errno);
  }
  if (absl::Status status = engine->ConfigurePort(rx_queues); !status.ok()) return status;

  engine->resolved_drained_.assign(workers, 0);
  engine->resolved_applied_ = std::make_unique<std::atomic<uint64_t>[]>(workers);
  for (uint32_t i = 0; i < workers; ++i) {
    rte_ring* records = rte_ring_create_elem(absl::StrCat("records_", i).c_str(),
                                             sizeof(dp::WorkerRecord), options.record_ring_size,
                                             rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (records == nullptr) return DpdkError("cannot create a record ring", rte_errno);
    engine->record_rings_.push_back(records);
    if (distribute) {
      rte_ring* packets =
          rte_ring_create(absl::StrCat("packets_", i).c_str(), options.packet_ring_size,
                          rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
      if (packets == nullptr) return DpdkError("cannot create a packet ring", rte_errno);
      engine->packet_rings_.push_back(packets);
    }
    engine->counters_.push_back(std::make_unique<dp::WorkerCounters>());
  }

  dp::RxInput port_input;
  port_input.kind = dp::RxInput::Kind::kPort;
  port_input.port = options.port;
  port_input.stop = options.stop;
  if (options.replay) {
    engine->limit_.packets = options.capture_packets;
    // An empty capture has no pass to repeat.
    engine->limit_.passes = options.capture_packets == 0 ? 1 : options.replay_passes;
    // net_pcap timestamps are microseconds; round up so passes never overlap.
    engine->limit_.pass_shift_us = (options.pass_shift_ns + 999) / 1000;
    engine->limit_.pass_gap_us = options.pass_gap_ns / 1000;
    port_input.limit = &engine->limit_;
    port_input.timestamp_offset =
        rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, nullptr);
    const int flag_bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, nullptr);
    port_input.timestamp_flag = flag_bit >= 0 ? uint64_t{1} << flag_bit : 0;
    if (options.speed > 0) {
      engine->pacer_.speed = options.speed;
      engine->pacer_.tsc_hz = rte_get_tsc_hz();
      port_input.pacer = &engine->pacer_;
    }
  }

  // Room for twice the first database's stream state, so a reload with somewhat more
  // patterns still fits; a larger state falls back to per-packet scanning (counted).
  const size_t stream_block = std::max<size_t>(2 * options.stream_state_bytes, 1024);
  dp::StreamStatePool::InstallStreamAllocator();
  for (uint32_t i = 0; i < workers; ++i) {
    engine->stream_pools_.push_back(std::make_unique<dp::StreamStatePool>(
        options.stream_state_bytes == 0 ? 0 : stream_block,
        options.stream_state_bytes == 0 ? 0 : 2 * options.sessions));
    dp::WorkerConfig config;
    config.index = i;
    config.sessions = options.sessions;
    config.stream_depth = options.stream_depth;
    config.stream_pool = engine->stream_pools_[i].get();
    config.record_ring = engine->record_rings_[i];
    config.snapshot = publisher->current_pointer();
    config.qsbr = publisher->qsbr();
    config.counters = engine->counters_[i].get();
    config.flows = options.flows;
    config.idle_polls_before_yield = options.replay ? 64 : 0;
    config.wait_on_full_ring = options.replay;
    if (options.replay) config.resolved_applied = &engine->resolved_applied_[i];
    config.export_flows = options.export_flows;
    if (distribute) {
      config.input.kind = dp::RxInput::Kind::kRing;
      config.input.ring = engine->packet_rings_[i];
      config.input.producer_done = &engine->distributor_done_;
      config.input.timestamp_offset = port_input.timestamp_offset;
      config.input.timestamp_flag = port_input.timestamp_flag;
    } else {
      config.input = port_input;
      config.input.queue = static_cast<uint16_t>(i);
    }
    engine->workers_.push_back(std::make_unique<dp::Worker>(config));
  }
  if (distribute) {
    dp::RxDistributorConfig config;
    config.input = port_input;
    config.rings = engine->packet_rings_;
    config.done = &engine->distributor_done_;
    engine->distributor_ = std::make_unique<dp::RxDistributor>(config);
  }
  return engine;
}

absl::Status Engine::ConfigurePort(uint16_t rx_queues) {
  const uint16_t port = options_.port;
  rte_eth_dev_info info;
  if (int rc = rte_eth_dev_info_get(port, &info); rc != 0) {
    return DpdkError(absl::StrCat("cannot read port ", port, " information"), rc);
  }
  if (rx_queues > info.max_rx_queues) {
    return absl::InvalidArgumentError(
        absl::StrCat("port ", port, " (", info.driver_name, ") has at most ",
                     info.max_rx_queues, " RX queues but ", rx_queues,
                     " workers need one each: lower --workers to ", info.max_rx_queues,
                     " or give the port more queues"));
  }

  rte_eth_conf conf;
  std::memset(&conf, 0, sizeof(conf));
  // Symmetric RSS so that both directions of a flow reach the same queue and worker.
  std::array<uint8_t, 64> key{};
  if (rx_queues > 1 && info.flow_type_rss_offloads != 0) {
    const size_t key_size = info.hash_key_size != 0 ? info.hash_key_size : dp::kRssKeyLength;
    for (size_t i = 0; i < key_size && i < key.size(); ++i) {
      key[i] = dp::SymmetricRssKey()[i % 2];
    }
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = key.data();
    conf.rx_adv_conf.rss_conf.rss_key_len = static_cast<uint8_t>(std::min(key_size, key.size()));
    conf.rx_adv_conf.rss_conf.rss_hf =
        (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
  } else if (rx_queues > 1) {
    ctl::LogWarn("port",
                 "event=no_rss port={} driver={} queues={} detail=\"the device cannot "
                 "hash flows, so both directions of a flow may reach different workers\"",
                 port, info.driver_name, rx_queues);
  }

  int rc = rte_eth_dev_configure(port, rx_queues, 1, &conf);
  if (rc != 0 && conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS) {
    // Some drivers list RSS offloads but reject a key of their own size or these hash
    // types. The sensor then runs without RSS rather than not at all.
    ctl::LogWarn("port",
                 "event=no_rss port={} driver={} queues={} error=\"{}\" detail=\"the device "
                 "rejected the symmetric RSS configuration, so both directions of a flow may "
                 "reach different workers\"",
                 port, info.driver_name, rx_queues, rte_strerror(-rc));
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
    conf.rx_adv_conf.rss_conf = {};
    rc = rte_eth_dev_configure(port, rx_queues, 1, &conf);
  }
  if (rc != 0) return DpdkError(absl::StrCat("cannot configure port ", port), rc);
  uint16_t rx_descriptors = options_.rx_descriptors;
  uint16_t tx_descriptors = 64;
  rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_descriptors, &tx_descriptors);
  const int socket = rte_eth_dev_socket_id(port);
  for (uint16_t queue = 0; queue < rx_queues; ++queue) {
    if (int rc = rte_eth_rx_queue_setup(port, queue, rx_descriptors, socket, nullptr, pool_);
        rc != 0) {
      return DpdkError(absl::StrCat("cannot set up RX queue ", queue, " of port ", port), rc);
    }
  }
  if (int rc = rte_eth_tx_queue_setup(port, 0, tx_descriptors, socket, nullptr); rc != 0) {
    return DpdkError(absl::StrCat("cannot set up the TX queue of port ", port), rc);
  }
  if (int rc = rte_eth_dev_start(port); rc != 0) {
    return DpdkError(absl::StrCat("cannot start port ", port), rc);
  }
  port_started_ = true;
  if (conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS) {
    // Some drivers (net_null among them) keep their default key at configure time and
    // take a key only through the update call. The self-check reads the key back.
    rte_eth_dev_rss_hash_update(port, &conf.rx_adv_conf.rss_conf);
  }
  rx_queues_ = rx_queues;
  rx_descriptors_ = rx_descriptors;
  rx_offloads_ = conf.rxmode.offloads;
  if (!options_.replay) {
    rte_eth_promiscuous_enable(port);
    DisableFlowControl();
  }
  port_stats_ = QueryPortStats();
  return absl::OkStatus();
}

void Engine::DisableFlowControl() {
  // A mirror port must drop what the sensor cannot take: pause frames would slow the
  // mirror source instead. Drivers that do not implement flow control return -ENOTSUP.
  rte_eth_fc_conf fc;
  std::memset(&fc, 0, sizeof(fc));
  if (rte_eth_dev_flow_ctrl_get(options_.port, &fc) != 0 || fc.mode == RTE_ETH_FC_NONE) return;
  fc.mode = RTE_ETH_FC_NONE;
  if (int rc = rte_eth_dev_flow_ctrl_set(options_.port, &fc); rc != 0) {
    ctl::LogWarn("port", "event=flow_control_on port={} error=\"{}\"", options_.port,
                 rte_strerror(-rc));
  }
}

size_t Engine::DrainRecords(ctl::AlertPipeline& pipeline) {
  size_t drained = 0;
  dp::WorkerRecord records[kDrainBurst];
  for (size_t worker = 0; worker < record_rings_.size(); ++worker) {
    rte_ring* ring = record_rings_[worker];
    while (true) {
      const unsigned count = rte_ring_sc_dequeue_burst_elem(ring, records, sizeof(dp::WorkerRecord),
                                                            kDrainBurst, nullptr);
      for (unsigned i = 0; i < count; ++i) {
        pipeline.OnRecord(records[i]);
        if (records[i].kind == dp::RecordKind::kResolved) ++resolved_drained_[worker];
      }
      drained += count;
      if (count < kDrainBurst) break;
    }
  }
  records_drained_ += drained;
  return drained;
}

absl::Status Engine::Run(ctl::AlertPipeline& pipeline, const std::function<void()>& on_tick) {
  std::vector<std::unique_ptr<LcoreJob>> jobs;
  for (auto& worker : workers_) {
    dp::Worker* raw = worker.get();
    jobs.push_back(std::make_unique<LcoreJob>(LcoreJob{[raw] { raw->Run(); }, &lcores_running_}));
  }
  if (distributor_) {
    jobs.push_back(std::make_unique<LcoreJob>(
        LcoreJob{[this] { distributor_->Run(distributor_stats_); }, &lcores_running_}));
  }

  const auto start = std::chrono::steady_clock::now();
  unsigned lcore = worker_lcores_.empty() ? rte_get_next_lcore(-1, 1, 0) : worker_lcores_[0];
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (i < worker_lcores_.size()) lcore = worker_lcores_[i];
    lcores_running_.fetch_add(1, std::memory_order_relaxed);
    if (int rc = rte_eal_remote_launch(RunLcoreJob, jobs[i].get(), lcore); rc != 0) {
      lcores_running_.fetch_sub(1, std::memory_order_relaxed);
      rte_eal_mp_wait_lcore();
      return DpdkError(absl::StrCat("cannot launch lcore ", lcore), rc);
    }
    lcore = rte_get_next_lcore(lcore, 1, 0);
  }

  auto next_port_stats = start + kPortStatsInterval;
  while (lcores_running_.load(std::memory_order_acquire) > 0) {
    if (DrainRecords(pipeline) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (const auto now = std::chrono::steady_clock::now(); now >= next_port_stats) {
      port_stats_ = QueryPortStats();
      next_port_stats = now + kPortStatsInterval;
    }
    if (on_tick) on_tick();
    // on_tick has published what the drained resolved records changed.
    for (size_t worker = 0; worker < resolved_drained_.size(); ++worker) {
      resolved_applied_[worker].store(resolved_drained_[worker], std::memory_order_release);
    }
  }
  rte_eal_mp_wait_lcore();
  DrainRecords(pipeline);
  run_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return absl::OkStatus();
}

EngineReport Engine::Report() {
  EngineReport report;
  for (int c = 0; c < dp::kCounterCount; ++c) {
    uint64_t sum = 0;
    for (const auto& counters : counters_) sum += counters->Get(static_cast<dp::Counter>(c));
    totals_.values[c].store(sum, std::memory_order_relaxed);
  }
  for (int d = 0; d < dp::kDecodeStatusCount; ++d) {
    uint64_t sum = 0;
    for (const auto& counters : counters_) {
      sum += counters->GetDecode(static_cast<dp::DecodeStatus>(d));
    }
    totals_.decode[d].store(sum, std::memory_order_relaxed);
  }
  for (const auto& counters : counters_) report.workers.push_back(counters.get());
  report.totals = &totals_;

  report.port = QueryPortStats();
  // Stopping the port returns the mbufs its RX descriptors hold, so what is still in use
  // afterwards is a leak.
  StopPort();
  report.replay_packets_taken = limit_.taken_total;
  report.replay_passes = options_.replay ? limit_.pass + 1 : 0;
  report.replay_restart_error = limit_.restart_error;
  report.replay_packets_discarded = limit_.discarded;
  report.distributor_packets = distributor_stats_.packets.load(std::memory_order_relaxed);
  report.distributor_ring_full_waits =
      distributor_stats_.ring_full_waits.load(std::memory_order_relaxed);
  report.records_drained = records_drained_;
  report.mbufs_in_use_at_exit = pool_ != nullptr ? rte_mempool_in_use_count(pool_) : 0;
  report.run_seconds = run_seconds_;
  return report;
}

std::vector<const dp::WorkerCounters*> Engine::worker_counters() const {
  std::vector<const dp::WorkerCounters*> counters;
  for (const auto& worker : counters_) counters.push_back(worker.get());
  return counters;
}

PortStats Engine::QueryPortStats() const {
  rte_eth_stats stats;
  if (!port_started_ || rte_eth_stats_get(options_.port, &stats) != 0) return port_stats_;
  PortStats port{stats.ipackets, stats.ibytes, stats.imissed, stats.ierrors, stats.rx_nombuf, {}};
  const uint16_t queues = std::min<uint16_t>(rx_queues_, RTE_ETHDEV_QUEUE_STAT_CNTRS);
  for (uint16_t queue = 0; queue < queues; ++queue) {
    port.queues.push_back({stats.q_ipackets[queue], stats.q_ibytes[queue], stats.q_errors[queue]});
  }
  return port;
}

void Engine::StopPort() {
  if (!port_started_) return;
  rte_eth_dev_stop(options_.port);
  rte_eth_dev_close(options_.port);
  port_started_ = false;
}

Engine::~Engine() {
  StopPort();
  for (rte_ring* ring : record_rings_) rte_ring_free(ring);
  for (rte_ring* ring : packet_rings_) rte_ring_free(ring);
  rte_mempool_free(pool_);
}

}  // namespace sensor
