// The source of a worker's packets, and the end-of-capture check of the lcore that reads
// a NIC queue or the replay device.
//
// RxInput::Receive runs on one lcore at a time (the worker, or the replay RX lcore).
#pragma once

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>

namespace sensor::dp {

// Replay only: net_pcap gives no end-of-file signal and, after a damaged record, reads
// the bytes that follow as packets. The capture is scanned with libpcap first; the
// reader takes exactly that many packets and frees anything beyond them.
struct CaptureLimit {
  uint64_t packets = 0;  // Good packets in the file.
  uint64_t taken = 0;
  uint64_t discarded = 0;  // Packets the device returned after the last good one.
};

// Paces replay at `speed` times the recorded rate, from the packets' own timestamps.
// Packets of a burst that are not yet due wait in `held` and are handed out one by one
// as their time comes, so each is processed (and alerts) at its own time.
struct Pacer {
  double speed = 0;  // 0 or less: as fast as possible.
  uint64_t first_packet_ns = 0;
  uint64_t start_tsc = 0;
  uint64_t tsc_hz = 0;
  bool started = false;
  rte_mbuf* held[64] = {};
  uint16_t held_start = 0;
  uint16_t held_count = 0;
};

struct RxInput {
  enum class Kind : uint8_t { kPort, kRing };
  Kind kind = Kind::kPort;
  uint16_t port = 0;
  uint16_t queue = 0;
  rte_ring* ring = nullptr;  // kRing: fed by the replay RX lcore.
  // kRing: raised by the producer after its last enqueue.
  const std::atomic<bool>* producer_done = nullptr;
  // kPort: raised by the control thread to stop (live mode, signals).
  const std::atomic<bool>* stop = nullptr;
  CaptureLimit* limit = nullptr;  // kPort in replay.
  Pacer* pacer = nullptr;         // kPort in replay with --speed.
  int timestamp_offset = -1;      // mbuf dynfield holding the RX timestamp, if any.
  uint64_t timestamp_flag = 0;

  // Receives up to `max` mbufs. Returns 0 both when idle and at the end, so call Ended() to tell them apart.
  uint16_t Receive(rte_mbuf** mbufs, uint16_t max);
  bool Ended() const;
  // Frees packets still held by the pacer; called once after the input has ended.
  void Release();

  // Packet time in nanoseconds since the Unix epoch: the capture's timestamp in replay,
  // else `fallback_ns` (the burst's clock reading in live mode).
  uint64_t PacketTimeNs(const rte_mbuf* mbuf, uint64_t fallback_ns) const {
    if (timestamp_offset >= 0 && (mbuf->ol_flags & timestamp_flag) != 0) {
      // net_pcap stores microseconds since the epoch in the RX timestamp field.
      return *RTE_MBUF_DYNFIELD(mbuf, timestamp_offset, const uint64_t*) * 1000;
    }
    return fallback_ns;
  }

 private:
  uint16_t ReceiveFromPort(rte_mbuf** mbufs, uint16_t max);
  uint16_t TakeDuePackets(rte_mbuf** mbufs, uint16_t max);
};

}  // namespace sensor::dp
