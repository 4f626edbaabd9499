#include "dataplane/rx_input.h"

#include <rte_cycles.h>
#include <rte_pause.h>

#include <algorithm>
#include <iterator>

namespace sensor::dp {

uint16_t RxInput::Receive(rte_mbuf** mbufs, uint16_t max) {
  if (kind == Kind::kRing) {
    return static_cast<uint16_t>(
        rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(mbufs), max, nullptr));
  }
  return ReceiveFromPort(mbufs, max);
}

uint16_t RxInput::ReceiveFromPort(rte_mbuf** mbufs, uint16_t max) {
  if (pacer != nullptr && pacer->held_count > 0) return TakeDuePackets(mbufs, max);
  if (limit != nullptr && limit->restart_error != 0) return 0;
  if (limit != nullptr && limit->taken >= limit->packets) {
    if (limit->MorePasses()) {
      if (!StartNextPass()) return 0;
    } else {
      // Drain whatever the device still returns so that those mbufs go back to the pool.
      const uint16_t extra = rte_eth_rx_burst(port, queue, mbufs, max);
      limit->discarded += extra;
      rte_pktmbuf_free_bulk(mbufs, extra);
      return 0;
    }
  }

  uint16_t count = rte_eth_rx_burst(port, queue, mbufs, max);
  if (limit != nullptr && count == 0) {
    // A pass can also end on a record the device rejected (see Ended()).
    if (limit->MorePasses() && DeviceFinishedPass()) StartNextPass();
    return 0;
  }
  if (limit != nullptr) {
    const uint64_t room = limit->packets - limit->taken;
    if (count > room) {
      limit->discarded += count - room;
      rte_pktmbuf_free_bulk(mbufs + room, count - static_cast<uint16_t>(room));
      count = static_cast<uint16_t>(room);
    }
    limit->taken += count;
    limit->taken_total += count;
    if (limit->shift_us != 0 && timestamp_offset >= 0) {
      // Rewritten here, on the only lcore that reads the device, so that the pacer, the
      // distributor and the workers all see the shifted time.
      for (uint16_t i = 0; i < count; ++i) {
        if ((mbufs[i]->ol_flags & timestamp_flag) == 0) continue;
        *RTE_MBUF_DYNFIELD(mbufs[i], timestamp_offset, uint64_t*) += limit->shift_us;
      }
    }
  }
  if (pacer == nullptr || pacer->speed <= 0 || count == 0) return count;

  const uint16_t held = std::min<uint16_t>(count, std::size(pacer->held));
  std::copy(mbufs, mbufs + held, pacer->held);
  pacer->held_start = 0;
  pacer->held_count = held;
  return TakeDuePackets(mbufs, max);
}

bool RxInput::StartNextPass() {
  int rc = rte_eth_dev_stop(port);
  if (rc == 0) rc = rte_eth_dev_start(port);
  if (rc != 0) {
    limit->restart_error = rc < 0 ? -rc : rc;
    return false;
  }
  rte_eth_stats stats;
  limit->device_base = rte_eth_stats_get(port, &stats) == 0 ? stats.ipackets + stats.ierrors : 0;
  ++limit->pass;
  limit->taken = 0;
  limit->shift_us += limit->pass_shift_us;
  if (pacer != nullptr && pacer->started) pacer->first_packet_ns += limit->pass_gap_us * 1000;
  return true;
}

bool RxInput::DeviceFinishedPass() const {
  rte_eth_stats stats;
  return rte_eth_stats_get(port, &stats) == 0 &&
         stats.ipackets + stats.ierrors - limit->device_base >= limit->packets;
}

uint16_t RxInput::TakeDuePackets(rte_mbuf** mbufs, uint16_t max) {
  const uint64_t now_tsc = rte_rdtsc();
  uint16_t count = 0;
  while (pacer->held_count > 0 && count < max) {
    rte_mbuf* mbuf = pacer->held[pacer->held_start];
    const uint64_t packet_ns = PacketTimeNs(mbuf, 0);
    if (!pacer->started && packet_ns != 0) {
      pacer->started = true;
      pacer->first_packet_ns = packet_ns;
      pacer->start_tsc = now_tsc;
    }
    if (pacer->started && packet_ns > pacer->first_packet_ns) {
      const double offset_s =
          static_cast<double>(packet_ns - pacer->first_packet_ns) / 1e9 / pacer->speed;
      const uint64_t due = pacer->start_tsc + static_cast<uint64_t>(offset_s * pacer->tsc_hz);
      if (now_tsc < due) break;
    }
    mbufs[count++] = mbuf;
    ++pacer->held_start;
    --pacer->held_count;
  }
  return count;
}

void RxInput::Release() {
  if (pacer == nullptr || pacer->held_count == 0) return;
  // Read but never processed, because the replay was stopped before they were due.
  if (limit != nullptr) limit->taken_total -= pacer->held_count;
  rte_pktmbuf_free_bulk(pacer->held + pacer->held_start, pacer->held_count);
  pacer->held_count = 0;
}

bool RxInput::Ended() const {
  if (kind == Kind::kRing) {
    return producer_done->load(std::memory_order_acquire) && rte_ring_empty(ring);
  }
  if (stop != nullptr && stop->load(std::memory_order_relaxed)) return true;
  if (pacer != nullptr && pacer->held_count > 0) return false;
  if (limit == nullptr) return false;
  // A finished pass ends the input unless another pass follows; Receive() starts it.
  if (limit->taken >= limit->packets) return !limit->MorePasses();

  // A record that libpcap accepted but the device rejected (ierrors) never arrives;
  // count it as taken so replay still ends.
  if (DeviceFinishedPass()) return !limit->MorePasses();
  return false;
}

}  // namespace sensor::dp
