#include "dataplane/rx_distributor.h"

#include <rte_pause.h>
#include <sched.h>

#include <array>
#include <span>

#include "dataplane/decode/decoder.h"
#include "dataplane/rss.h"

namespace sensor::dp {
namespace {

constexpr uint16_t kBurstSize = 32;

}  // namespace

void RxDistributor::Run(RxDistributorStats& stats) {
  const uint32_t worker_count = static_cast<uint32_t>(config_.rings.size());
  std::vector<std::array<rte_mbuf*, kBurstSize>> batches(worker_count);
  std::vector<uint16_t> batch_sizes(worker_count, 0);
  rte_mbuf* mbufs[kBurstSize];
  uint32_t idle_polls = 0;

  while (true) {
    const uint16_t count = config_.input.Receive(mbufs, kBurstSize);
    if (count == 0) {
      if (config_.input.Ended()) break;
      if (++idle_polls >= config_.idle_polls_before_yield) {
        idle_polls = 0;
        sched_yield();
      }
      continue;
    }
    idle_polls = 0;
    stats.packets.store(stats.packets.load(std::memory_order_relaxed) + count,
                        std::memory_order_relaxed);

    for (uint16_t i = 0; i < count; ++i) {
      PacketInfo info;
      const auto* data = rte_pktmbuf_mtod(mbufs[i], const std::byte*);
      DecodeEthernet(std::span(data, mbufs[i]->data_len), info);
      const uint32_t hash = SymmetricRssHash(info);
      mbufs[i]->hash.rss = hash;
      const uint32_t worker = WorkerFor(hash, worker_count);
      batches[worker][batch_sizes[worker]++] = mbufs[i];
    }

    for (uint32_t worker = 0; worker < worker_count; ++worker) {
      uint16_t sent = 0;
      while (sent < batch_sizes[worker]) {
        sent += static_cast<uint16_t>(rte_ring_sp_enqueue_burst(
            config_.rings[worker], reinterpret_cast<void**>(batches[worker].data() + sent),
            batch_sizes[worker] - sent, nullptr));
        if (sent < batch_sizes[worker]) {
          stats.ring_full_waits.store(stats.ring_full_waits.load(std::memory_order_relaxed) + 1,
                                      std::memory_order_relaxed);
          sched_yield();
        }
      }
      batch_sizes[worker] = 0;
    }
  }
  config_.input.Release();
  config_.done->store(true, std::memory_order_release);
}

}  // namespace sensor::dp
