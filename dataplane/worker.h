// The worker burst loop: receive a burst, decode, track flows, match indicators, hand
// alert and flow records to the control thread, report quiescence.
//
// One Worker per worker lcore; Run() executes on that lcore until its input ends or the
// stop flag is raised. Per packet it never allocates, locks, logs or makes a system call.
// Live mode and replay run this same code: only the input (NIC queue or ring fed by the
// replay RX lcore) and the clock differ.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "dataplane/counters.h"
#include "dataplane/flow_table.h"
#include "dataplane/match/domain_name.h"
#include "dataplane/match/url.h"
#include "dataplane/pattern/stream_pool.h"
#include "dataplane/proto/dns.h"
#include "dataplane/proto/quic_initial.h"
#include "dataplane/records.h"
#include "dataplane/rx_input.h"
#include "dataplane/session_table.h"
#include "dataplane/snapshot.h"

struct rte_ring;
struct rte_rcu_qsbr;

namespace sensor::dp {

struct WorkerConfig {
  uint32_t index = 0;  // Worker number, also its thread id in the RCU QSBR variable.
  RxInput input;
  // Alert and flow records to the control thread; elements are WorkerRecord. Single
  // producer (this worker), single consumer (the control thread).
  rte_ring* record_ring = nullptr;
  const std::atomic<const Snapshot*>* snapshot = nullptr;
  rte_rcu_qsbr* qsbr = nullptr;
  WorkerCounters* counters = nullptr;
  FlowTableConfig flows;
  // Replay: yield the CPU after this many empty polls in a row, because replay may run
  // more lcores than cores. 0 polls without pause, as live mode on isolated cores does.
  uint32_t idle_polls_before_yield = 0;
  uint32_t sessions = 2048;         // Flows with payload state (streams, reassembly) at once.
  uint64_t stream_depth = 1 << 20;  // Bytes per TCP direction scanned for patterns.
  StreamStatePool* stream_pool = nullptr;  // Bound to the worker's thread by Run().
  // Replay: wait for room in the record ring instead of dropping, because replay must
  // lose nothing and the control thread drains the ring continuously.
  bool wait_on_full_ring = false;
  // Flow export: every flow sends a record when it ends and at each active timeout.
  // Without it only flows with alerts do, because only the alert path reads them.
  bool export_flows = false;
  // Replay: after sending a resolved address, wait between packets until the control
  // thread has applied it (resolved_applied reaches the number sent), so a connection
  // that follows a DNS answer in the capture meets the watched address, as it would in
  // capture time. Null in live mode, where workers never wait.
  const std::atomic<uint64_t>* resolved_applied = nullptr;
};

// Sequence number of a packet whose TCP header the decoder found in `frame`.
uint32_t TcpSequence(const std::byte* frame, const PacketInfo& info);

class Worker {
 public:
  explicit Worker(const WorkerConfig& config);

  // Runs the loop until the input ends; ends all flows before returning.
  void Run();

  // The pieces of Run() for a caller that feeds packets itself (the pipeline benchmark
  // feeds preloaded mbufs). Attach() binds the stream pool and registers the calling
  // thread with the RCU QSBR variable. Detach() ends every flow and undoes that.
  void Attach();
  void Detach();
  // Processes one received burst as Run() does: adopts the current snapshot, handles each
  // packet, sweeps the flow table and reports quiescence. Does not free the mbufs.
  // `clock_ns` is the time given to packets without a timestamp.
  void ProcessReceived(struct rte_mbuf** mbufs, uint16_t count, uint64_t clock_ns);

 private:
  void ProcessBurst(struct rte_mbuf** mbufs, uint16_t count, const Snapshot*& snapshot);
  // One step of the timeout sweep at now_ns_ (see kSweepPeriodNs in worker.cc).
  void SweepFlows();
  // Loads the current snapshot; closes the pattern streams when its database changed.
  const Snapshot* AdoptSnapshot();
  // Replay: reports quiescence until the resolved addresses sent so far are applied,
  // then returns the snapshot that holds them.
  const Snapshot* WaitForResolved();
  void ProcessPacket(struct rte_mbuf* mbuf, const Snapshot& snapshot);
  // Matches one direction's addresses and queues an alert record per rule. Returns
  // false if a record found the ring full, so the next packet retries.
  bool MatchDirection(Flow& flow, const PacketInfo& info, int direction, const Snapshot& snapshot);
  // Queues one alert record; returns false when the ring is full.
  bool EmitAlert(Flow& flow, int direction, uint32_t indicator, uint8_t side, MatchSource source,
                 std::string_view observed, const Snapshot& snapshot);
  // Reads names and URLs (DNS, TLS and QUIC SNI, HTTP Host and URL) and matches them
  // against the snapshot's domain and URL sets. Defined in worker_app.cc.
  void InspectApplication(Flow& flow, const PacketInfo& info, const std::byte* frame, int direction,
                          const Snapshot& snapshot);
  void InspectDns(Flow& flow, std::span<const std::byte> message, int direction,
                  const Snapshot& snapshot);
  void InspectClientStream(Flow& flow, const PacketInfo& info, const std::byte* frame,
                           const Snapshot& snapshot);
  void InspectQuic(Flow& flow, const PacketInfo& info, const std::byte* frame,
                   const Snapshot& snapshot);
  // Canonicalises `name` and alerts on every domain rule it matches; returns how many.
  // With `resolved` (an A or AAAA answer for `name`), each matching rule also watches the
  // answer's address, from the same lookup.
  int MatchName(Flow& flow, int direction, std::string_view name, MatchSource source,
                const Snapshot& snapshot, const DnsAnswer* resolved = nullptr);
  bool SendResolved(uint32_t indicator, const IpAddress& address, uint32_t ttl,
                    const Snapshot& snapshot);
  void ScanPayload(Flow& flow, const PacketInfo& info, const std::byte* frame, int direction,
                   const Snapshot& snapshot);
  void ScanStream(Flow& flow, Session& session, const PacketInfo& info, const std::byte* frame,
                  int direction, const Snapshot& snapshot);
  // Returns the flow's session, taking one from the pool if it has none; null (and
  // counted) when the pool is empty.
  Session* SessionFor(Flow& flow);
  // Closes the streams of every session; they reopen on the new snapshot's database.
  void CloseAllStreams();
  void CloseStreams(Session& session);
  void EndFlow(Flow& flow, FlowEndReason reason);
  // Sends the active-timeout record of `flow` and restarts its period once it is queued.
  // When the ring is full the period goes on, so the next packet or sweep retries.
  void EndPeriod(Flow& flow);
  // Queues a flow record; `for_export` marks flow ends and active timeouts. Returns false
  // when the ring is full (counted), true when queued or when no record is needed.
  bool SendFlowRecord(const Flow& flow, FlowEndReason reason, bool final, bool for_export);
  // Enqueues one record; in replay waits for room, live returns false when full.
  bool EnqueueRecord(const WorkerRecord& record);

  WorkerConfig config_;
  FlowTable flows_;
  SessionTable sessions_;
  std::unique_ptr<QuicInitialDecryptor> quic_;  // Per worker: OpenSSL contexts.
  std::unique_ptr<DnsMessage> dns_;             // Parse buffers kept off the stack.
  std::unique_ptr<UrlBuffer> url_;
  // A frame of several segments, made contiguous; the largest frame an mbuf chain holds.
  static constexpr uint32_t kMaxLinearFrame = 65535;
  std::unique_ptr<std::byte[]> linear_frame_;
  uint64_t now_ns_ = 0;  // Time of the newest packet seen; the flow table's clock.
  uint64_t last_sweep_ns_ = 0;  // now_ns_ at the previous sweep step.
  uint64_t sweep_credit_ = 0;   // Nanoseconds x buckets not yet swept.
  uint64_t snapshot_version_ = 0;
  const PatternDatabase* stream_patterns_ = nullptr;  // Database of the open streams.
  uint64_t resolved_sent_ = 0;
  bool resolved_waiting_ = false;
  std::array<uint64_t, kDecodeStatusCount> burst_decode_{};
  // The last canonical name that matched no domain rule, and the version of the snapshot
  // it was looked up in. DNS answers repeat the question's name and responses repeat the
  // query's, so MatchName skips the lookup for a repeat (worker_pipeline_bench, variant 0).
  DomainNameBuffer unmatched_name_;
  uint64_t unmatched_version_ = 0;
};

}  // namespace sensor::dp
