// Replay RX lcore: reads the single net_pcap queue and spreads packets to the workers'
// rings by the symmetric RSS hash, standing in for the NIC's RSS in live mode.
//
// Runs on its own lcore. It never drops a packet: when a worker's ring is full it waits
// (and counts the wait), because replay must process every packet of the capture.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/rx_input.h"

namespace sensor::dp {

struct RxDistributorConfig {
  RxInput input;                      // The replay port queue, with its capture limit.
  std::vector<rte_ring*> rings;       // One per worker, single producer.
  std::atomic<bool>* done = nullptr;  // Raised after the last enqueue.
  WorkerCounters* counters = nullptr;
  uint32_t idle_polls_before_yield = 64;
};

// Counters that only the distributor owns, reported beside the worker counters.
struct RxDistributorStats {
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> ring_full_waits{0};
};

class RxDistributor {
 public:
  explicit RxDistributor(const RxDistributorConfig& config) : config_(config) {}
  void Run(RxDistributorStats& stats);

  // Worker index for a packet: the hash's low bits through a 128-entry indirection
  // table, as NICs map RSS hashes to queues.
  static uint32_t WorkerFor(uint32_t hash, uint32_t worker_count) {
    return (hash & 127) % worker_count;
  }

 private:
  RxDistributorConfig config_;
};

}  // namespace sensor::dp
