// The dataplane of one sensor process: mempool, port queues, per-worker rings and the
// worker lcores, plus the control loop that drains worker records into the alert path.
//
// Live mode and replay build the same Engine; replay differs only in reading one
// net_pcap queue (spread to workers by an RX lcore when there are several workers), in
// taking time from the capture, and in ending at the end of the file.
//
// Created and run on the main lcore after EAL initialisation.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ctrlplane/alert_pipeline.h"
#include "ctrlplane/snapshot_publisher.h"
#include "dataplane/counters.h"
#include "dataplane/flow_table.h"
#include "dataplane/rx_distributor.h"
#include "dataplane/rx_input.h"
#include "dataplane/worker.h"
#include "sensor/self_check.h"

struct rte_mempool;
struct rte_ring;

namespace sensor {

struct EngineOptions {
  uint16_t port = 0;
  uint32_t workers = 1;
  bool replay = false;
  uint64_t capture_packets = 0;  // Replay: readable packets found by the capture scan.
  uint64_t replay_passes = 1;    // Replay: times the capture is read; 0 until stopped.
  uint64_t pass_shift_ns = 0;    // Replay: timestamp shift from one pass to the next.
  uint64_t pass_gap_ns = 0;      // Replay: part of the shift that --speed does not wait.
  double speed = 0;              // Replay pacing; 0 is as fast as possible.
  dp::FlowTableConfig flows;
  uint32_t record_ring_size = 1 << 14;  // Alert and flow records per worker.
  uint32_t packet_ring_size = 1 << 11;  // Replay: packets queued per worker.
  uint16_t rx_descriptors = 1024;  // Per RX queue; the driver may round it.
  uint32_t mbufs = 0;              // Mempool size; 0 sizes it with PlanMempool().
  uint32_t sessions = 2048;                 // Per worker: flows with payload state at once.
  uint64_t stream_depth = 1 << 20;          // Per TCP direction, bytes scanned for patterns.
  size_t stream_state_bytes = 0;            // Hyperscan stream state of the first snapshot.
  const std::atomic<bool>* stop = nullptr;  // Live mode: raised by signals.
  bool export_flows = false;                // Every flow sends records (IPFIX export).
};

// Counters of one RX queue (rte_eth_stats q_ipackets, q_ibytes, q_errors).
struct QueueStats {
  uint64_t ipackets = 0;
  uint64_t ibytes = 0;
  uint64_t errors = 0;
};

// Port counters (rte_eth_stats), read by the control loop once a second and at the end.
struct PortStats {
  uint64_t ipackets = 0;
  uint64_t ibytes = 0;
  uint64_t imissed = 0;
  uint64_t ierrors = 0;
  uint64_t rx_nombuf = 0;
  // One per RX queue, up to RTE_ETHDEV_QUEUE_STAT_CNTRS queues; drivers without queue
  // counters report zeros.
  std::vector<QueueStats> queues;
};

struct EngineReport {
  std::vector<const dp::WorkerCounters*> workers;
  const dp::WorkerCounters* totals = nullptr;  // Sum over workers, built by Report().
  PortStats port;
  uint64_t replay_packets_taken = 0;      // Over all passes.
  uint64_t replay_passes = 0;             // Passes started.
  int replay_restart_error = 0;           // errno of a failed restart between passes.
  uint64_t replay_packets_discarded = 0;  // Read by the device after the last good one.
  uint64_t distributor_packets = 0;
  uint64_t distributor_ring_full_waits = 0;
  uint64_t records_drained = 0;
  uint64_t mbufs_in_use_at_exit = 0;
  double run_seconds = 0;
};

class Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Create(const EngineOptions& options,
                                                        ctl::SnapshotPublisher* publisher);
  ~Engine();

  // Launches the lcores and runs the control loop on the calling thread until the input
  // ends (replay) or `stop` is raised (live). `on_tick` runs on each control-loop pass.
  absl::Status Run(ctl::AlertPipeline& pipeline, const std::function<void()>& on_tick);

  // Sums the counters and stops the port; call once, after Run().
  EngineReport Report();

  // Hands the records queued by the workers to `pipeline` and returns how many there
  // were. Control thread only: Run() calls it, and so may `on_tick` while Run() runs.
  size_t DrainRecords(ctl::AlertPipeline& pipeline);

  // For the control thread while Run() runs (from `on_tick`): each worker's counters and
  // the lcore it runs on, and the port's counters.
  std::vector<const dp::WorkerCounters*> worker_counters() const;
  const std::vector<unsigned>& worker_lcores() const { return worker_lcores_; }
  // The port counters of the last periodic read.
  PortStats ReadPortStats() const { return port_stats_; }

  // For the start-up self-check, after Create().
  const MempoolPlan& mempool_plan() const { return mempool_plan_; }
  const rte_mempool* mempool() const { return pool_; }
  uint16_t rx_queues() const { return rx_queues_; }
  uint16_t rx_descriptors() const { return rx_descriptors_; }
  uint64_t rx_offloads() const { return rx_offloads_; }  // RTE_ETH_RX_OFFLOAD_* configured.

 private:
  explicit Engine(const EngineOptions& options) : options_(options) {}
  absl::Status ConfigurePort(uint16_t rx_queues);
  void DisableFlowControl();
  PortStats QueryPortStats() const;
  void StopPort();

  EngineOptions options_;
  ctl::SnapshotPublisher* publisher_ = nullptr;
  rte_mempool* pool_ = nullptr;
  MempoolPlan mempool_plan_;
  uint16_t rx_queues_ = 0;
  uint16_t rx_descriptors_ = 0;
  uint64_t rx_offloads_ = 0;
  PortStats port_stats_;
  bool port_started_ = false;
  std::vector<rte_ring*> record_rings_;
  // Replay: resolved-address records drained per worker, and the count each worker may
  // take as applied once the control loop has published them (see WorkerConfig).
  std::vector<uint64_t> resolved_drained_;
  std::unique_ptr<std::atomic<uint64_t>[]> resolved_applied_;
  std::vector<rte_ring*> packet_rings_;
  std::vector<std::unique_ptr<dp::WorkerCounters>> counters_;
  dp::WorkerCounters totals_;
  std::vector<std::unique_ptr<dp::StreamStatePool>> stream_pools_;
  std::vector<std::unique_ptr<dp::Worker>> workers_;
  std::unique_ptr<dp::RxDistributor> distributor_;
  dp::RxDistributorStats distributor_stats_;
  dp::CaptureLimit limit_;
  dp::Pacer pacer_;
  std::atomic<bool> distributor_done_{false};
  std::atomic<uint32_t> lcores_running_{0};
  std::vector<unsigned> worker_lcores_;  // Chosen by Create(); the RX lcore follows them.
  uint64_t records_drained_ = 0;
  double run_seconds_ = 0;
};

}  // namespace sensor
