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
// reader takes exactly that many packets per pass and frees anything beyond them.
//
// With several passes the reader stops and starts the device at the end of each pass.
// net_pcap closes the file on stop and opens it again on start (drivers/net/pcap in
// DPDK 22.11), so the next pass reads it from the first packet. Each further pass adds
// `pass_shift_us` to the timestamps, so packet time keeps going forward. The shift includes
// a gap between passes (longer than the flow timeouts) that the pacer does not wait for.
struct CaptureLimit {
  uint64_t packets = 0;        // Good packets in the file, taken once per pass.
  uint64_t passes = 1;         // Passes to replay; 0 replays until the stop flag.
  uint64_t pass_shift_us = 0;  // Timestamp shift from one pass to the next.
  uint64_t pass_gap_us = 0;    // Part of the shift between passes that pacing skips.
  uint64_t pass = 0;           // Index of the current pass, from 0.
  uint64_t taken = 0;          // In the current pass.
  uint64_t taken_total = 0;    // Over all passes, less those a stop left unprocessed.
  uint64_t discarded = 0;      // Packets the device returned after the last good one.
  uint64_t device_base = 0;    // Device ipackets plus ierrors when the pass began.
  uint64_t shift_us = 0;       // Added to the timestamps of the current pass.
  int restart_error = 0;       // errno of a failed device restart; no pass follows it.

  bool MorePasses() const {
    return restart_error == 0 && (passes == 0 || pass + 1 < passes);
  }
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
  // Restarts the device for the next pass; false (and `limit->restart_error` set) if it
  // cannot be restarted.
  bool StartNextPass();
  // True when the device has returned or rejected every packet of the current pass.
  bool DeviceFinishedPass() const;
  uint16_t TakeDuePackets(rte_mbuf** mbufs, uint16_t max);
};

}  // namespace sensor::dp
