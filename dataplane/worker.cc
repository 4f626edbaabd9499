#include "dataplane/worker.h"

#include <hs/hs.h>
#include <rte_cycles.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <sched.h>

#include <algorithm>
#include <cstring>
#include <span>

#include "dataplane/decode/decoder.h"

namespace sensor::dp {
namespace {

bool IsTruncatedTransport(DecodeStatus status) {
  return status == DecodeStatus::kTruncatedTcp || status == DecodeStatus::kBadTcpHeaderLength ||
         status == DecodeStatus::kTruncatedUdp || status == DecodeStatus::kTruncatedIcmp ||
         status == DecodeStatus::kTruncatedIcmpv6;
}


constexpr uint16_t kBurstSize = 32;
// The flow table is swept for timeouts in steps, each checking the buckets for its share
// of kSweepPeriodNs of elapsed packet time. So the whole table is checked once per period
// whatever the packet rate, and an idle flow ends or a delayed alert is written at most
// this long after it is due. Each burst checks at least kMinSweepBuckets, so a replay of
// a short capture still passes over the table.
constexpr uint64_t kSweepPeriodNs = 1'000'000'000;
constexpr uint32_t kMinSweepBuckets = 4;
// Idle polls of a live port between two sweeps, so that flows and alerts of a link that
// went quiet still time out (a poll of an empty queue takes tens of nanoseconds).
constexpr uint32_t kIdlePollsPerSweep = 4096;

FlowTuple OrientedTuple(const Flow& flow, bool from_initiator) {
  const bool src_is_a = flow.initiator_is_a == from_initiator;
  FlowTuple tuple;
  tuple.src = src_is_a ? flow.key.a : flow.key.b;
  tuple.dst = src_is_a ? flow.key.b : flow.key.a;
  tuple.src_port = src_is_a ? flow.key.port_a : flow.key.port_b;
  tuple.dst_port = src_is_a ? flow.key.port_b : flow.key.port_a;
  tuple.vlan_outer = flow.key.vlan_outer;
  tuple.vlan_inner = flow.key.vlan_inner;
  tuple.vlan_count = flow.vlan_count;
  tuple.protocol = flow.key.protocol;
  tuple.ip_version = flow.key.a.IsV4() ? 4 : 6;
  return tuple;
}

// Wall-clock nanoseconds from the TSC, for live traffic without hardware timestamps.
struct TscClock {
  uint64_t base_ns = 0;
  uint64_t base_tsc = 0;
  uint64_t hz = 1;
  uint64_t Now() const {
    const uint64_t delta = rte_rdtsc() - base_tsc;
    return base_ns + static_cast<uint64_t>(static_cast<double>(delta) * 1e9 / hz);
  }
};

}  // namespace

Worker::Worker(const WorkerConfig& config)
    : config_(config),
      flows_(config.flows, uint64_t{config.index} << 56),
      sessions_(config.sessions),
      quic_(QuicInitialDecryptor::Create()),
      dns_(std::make_unique<DnsMessage>()),
      url_(std::make_unique<UrlBuffer>()),
      linear_frame_(std::make_unique<std::byte[]>(kMaxLinearFrame)) {}

void Worker::Run() {
  Attach();
  timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  TscClock clock{static_cast<uint64_t>(wall.tv_sec) * 1'000'000'000 + wall.tv_nsec, rte_rdtsc(),
                 rte_get_tsc_hz()};

  rte_mbuf* mbufs[kBurstSize];
  uint32_t idle_polls = 0;
  uint32_t idle_polls_since_sweep = 0;
  const bool live_clock = config_.input.timestamp_offset < 0;
  while (true) {
    const uint16_t count = config_.input.Receive(mbufs, kBurstSize);
    if (count == 0) {
      rte_rcu_qsbr_quiescent(config_.qsbr, config_.index);
      if (config_.input.Ended()) break;
      // A replay's clock is its packets, so only a live worker's time moves while idle.
      if (live_clock && ++idle_polls_since_sweep >= kIdlePollsPerSweep) {
        idle_polls_since_sweep = 0;
        now_ns_ = std::max(now_ns_, clock.Now());
        SweepFlows();
      }
      if (config_.idle_polls_before_yield != 0 && ++idle_polls >= config_.idle_polls_before_yield) {
        idle_polls = 0;
        sched_yield();
      }
      continue;
    }
    idle_polls = 0;
    ProcessReceived(mbufs, count, live_clock ? clock.Now() : now_ns_);
    rte_pktmbuf_free_bulk(mbufs, count);
    // Live ports never run dry on a busy link, so a stop request is also checked here.
    // The burst in hand is processed first, so the worker counts every packet that the
    // port counted for its queue.
    if (config_.input.stop != nullptr && config_.input.stop->load(std::memory_order_relaxed)) {
      break;
    }
  }

  config_.input.Release();
  Detach();
}

void Worker::Attach() {
  StreamStatePool::BindToThisThread(config_.stream_pool);
  rte_rcu_qsbr_thread_register(config_.qsbr, config_.index);
  rte_rcu_qsbr_thread_online(config_.qsbr, config_.index);
}

void Worker::Detach() {
  flows_.Flush([this](Flow& flow, FlowEndReason reason) { EndFlow(flow, reason); });
  rte_rcu_qsbr_thread_offline(config_.qsbr, config_.index);
  rte_rcu_qsbr_thread_unregister(config_.qsbr, config_.index);
  StreamStatePool::BindToThisThread(nullptr);
}

void Worker::ProcessReceived(rte_mbuf** mbufs, uint16_t count, uint64_t clock_ns) {
  // One acquire load per burst: the snapshot stays valid until the quiescent report.
  const Snapshot* snapshot = AdoptSnapshot();
  now_ns_ = clock_ns;
  ProcessBurst(mbufs, count, snapshot);
  SweepFlows();
  rte_rcu_qsbr_quiescent(config_.qsbr, config_.index);
}

void Worker::SweepFlows() {
  // Elapsed time times buckets, carried over between steps so that short steps add up.
  if (last_sweep_ns_ == 0 || now_ns_ < last_sweep_ns_) last_sweep_ns_ = now_ns_;
  const uint64_t buckets = flows_.capacity() / FlowTable::kBucketSlots;
  const uint64_t elapsed = std::min(now_ns_ - last_sweep_ns_, kSweepPeriodNs);
  last_sweep_ns_ = now_ns_;
  sweep_credit_ += elapsed * buckets;
  uint64_t step = sweep_credit_ / kSweepPeriodNs;
  sweep_credit_ %= kSweepPeriodNs;
  step = std::clamp<uint64_t>(step, kMinSweepBuckets, buckets);
  flows_.Sweep(
      now_ns_, static_cast<uint32_t>(step),
      [this](Flow& flow, FlowEndReason reason) { EndFlow(flow, reason); },
      [this](const Flow& flow) {
        return SendFlowRecord(flow, FlowEndReason::kActiveTimeout, /*final=*/false,
                              /*for_export=*/false);
      },
      [this](Flow& flow) { EndPeriod(flow); });
}

const Snapshot* Worker::AdoptSnapshot() {
  const Snapshot* snapshot = config_.snapshot->load(std::memory_order_acquire);
  if (snapshot->version != snapshot_version_) {
    // Streams belong to the database they were opened with; the old one may be freed
    // once this worker reports quiescence, so they cannot outlive this burst. Snapshots
    // that only change other parts (resolved addresses) share the database and keep
    // the streams, so a match across segments is not lost.
    if (snapshot_version_ != 0 && snapshot->patterns.get() != stream_patterns_) {
      CloseAllStreams();
    }
    stream_patterns_ = snapshot->patterns.get();
    snapshot_version_ = snapshot->version;
    config_.counters->Add(Counter::kSnapshotSwitches, 1);
  }
  return snapshot;
}

const Snapshot* Worker::WaitForResolved() {
  resolved_waiting_ = false;
  while (config_.resolved_applied->load(std::memory_order_acquire) < resolved_sent_) {
    rte_rcu_qsbr_quiescent(config_.qsbr, config_.index);
    rte_pause();
  }
  rte_rcu_qsbr_quiescent(config_.qsbr, config_.index);
  return AdoptSnapshot();
}

void Worker::ProcessBurst(rte_mbuf** mbufs, uint16_t count, const Snapshot*& snapshot) {
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < count; ++i) {
    if (i + 3 < count) rte_prefetch0(rte_pktmbuf_mtod(mbufs[i + 3], void*));
    bytes += mbufs[i]->pkt_len;
    ProcessPacket(mbufs[i], *snapshot);
    if (resolved_waiting_) snapshot = WaitForResolved();
  }
  config_.counters->Add(Counter::kRxPackets, count);
  config_.counters->Add(Counter::kRxBytes, bytes);
  for (int status = 0; status < kDecodeStatusCount; ++status) {
    if (burst_decode_[status] == 0) continue;
    config_.counters->AddDecode(static_cast<DecodeStatus>(status), burst_decode_[status]);
    burst_decode_[status] = 0;
  }
}

void Worker::ProcessPacket(rte_mbuf* mbuf, const Snapshot& snapshot) {
  now_ns_ = config_.input.PacketTimeNs(mbuf, now_ns_);
  const auto* data = rte_pktmbuf_mtod(mbuf, const std::byte*);
  uint32_t frame_length = mbuf->data_len;
  if (mbuf->nb_segs > 1) [[unlikely]] {
    // A jumbo frame in a chain of segments: copied into one buffer so that headers and
    // payload past the first segment are decoded and scanned like any other frame.
    frame_length = std::min<uint32_t>(mbuf->pkt_len, kMaxLinearFrame);
    data = static_cast<const std::byte*>(
        rte_pktmbuf_read(mbuf, 0, frame_length, linear_frame_.get()));
    config_.counters->Add(Counter::kMultiSegmentFrames, 1);
  }
  PacketInfo info;
  const DecodeStatus status = DecodeEthernet(std::span(data, frame_length), info);
  ++burst_decode_[static_cast<int>(status)];
  if (status != DecodeStatus::kOk) {
    // A capture with a short snap length cuts transport headers but keeps the addresses:
    // the packet is still counted under its status, and tracked and matched without
    // ports, like a later fragment.
    if (!IsTruncatedTransport(status) || info.ip_version == 0) return;
    info.has_ports = false;
    info.src_port = 0;
    info.dst_port = 0;
    info.tcp_flags = 0;
    info.payload_length = 0;
  }

  WorkerCounters& counters = *config_.counters;
  counters.Add(Counter::kDecodedPackets, 1);
  counters.Add(info.ip_version == 4 ? Counter::kIpv4Packets : Counter::kIpv6Packets, 1);
  if (info.is_fragment) counters.Add(Counter::kFragments, 1);

  bool a_is_src = true;
  const FlowKey key = MakeFlowKey(info, a_is_src);
  bool created = false;
  Flow* flow = flows_.FindOrCreate(key, HashFlowKey(key), now_ns_, created,
                                   [this](Flow& old, FlowEndReason reason) {
                                     if (reason == FlowEndReason::kLackOfResources) {
                                       config_.counters->Add(Counter::kFlowsEvicted, 1);
                                     }
                                     EndFlow(old, reason);
                                   });
  if (created) {
    flow->initiator_is_a = a_is_src;
    flow->vlan_count = info.vlan_count;
    counters.Add(Counter::kFlowsCreated, 1);
  }

  if (flows_.ActiveTimeoutDue(*flow, now_ns_)) [[unlikely]] {
    EndPeriod(*flow);
  }
  if (flow->period_first_ns == 0) flow->period_first_ns = now_ns_;

  const int direction = a_is_src == flow->initiator_is_a ? 0 : 1;
  const uint32_t ip_bytes = info.ip_length;
  flow->packets[direction] += 1;
  flow->bytes[direction] += ip_bytes;
  flow->last_ns = std::max(flow->last_ns, now_ns_);
  if (info.protocol == kIpProtoTcp && info.has_ports) {
    flow->tcp_flags[direction] |= info.tcp_flags;
    if (info.tcp_flags & kTcpRst) flow->state = FlowState::kClosed;
    if (info.tcp_flags & kTcpFin) {
      flow->fin_seen |= static_cast<uint8_t>(1 << direction);
      flow->state = flow->fin_seen == 3 ? FlowState::kClosed : FlowState::kClosing;
    }
  }

  if (flow->snapshot_version != snapshot.version) {
    flow->snapshot_version = snapshot.version;
    flow->matched_directions = 0;
  }
  const uint8_t direction_bit = static_cast<uint8_t>(1 << direction);
  if ((flow->matched_directions & direction_bit) == 0 &&
      MatchDirection(*flow, info, direction, snapshot)) {
    flow->matched_directions |= direction_bit;
  }
  if ((snapshot.domains != nullptr || snapshot.urls != nullptr) && info.payload_length > 0) {
    InspectApplication(*flow, info, data, direction, snapshot);
  }
  if (snapshot.patterns != nullptr && info.payload_length > 0) {
    ScanPayload(*flow, info, data, direction, snapshot);
  }
}

bool Worker::MatchDirection(Flow& flow, const PacketInfo& info, int direction,
                            const Snapshot& snapshot) {
  bool all_sent = true;
  int matches = 0;
  auto emit = [&](const AddressRule& rule, MatchSide side) {
    ++matches;
    all_sent &=
        EmitAlert(flow, direction, rule.indicator, side, MatchSource::kAddress, {}, snapshot);
  };
  const uint16_t src_port = info.has_ports ? info.src_port : 0;
  const uint16_t dst_port = info.has_ports ? info.dst_port : 0;
  snapshot.addresses->Match(info.src, kSideSource, src_port,
                            [&](const AddressRule& rule) { emit(rule, kSideSource); });
  snapshot.addresses->Match(info.dst, kSideDestination, dst_port,
                            [&](const AddressRule& rule) { emit(rule, kSideDestination); });
  if (snapshot.resolved != nullptr) {
    auto emit_resolved = [&](const AddressRule& rule, MatchSide side) {
      ++matches;
      all_sent &=
          EmitAlert(flow, direction, rule.indicator, side, MatchSource::kDnsResolved, {}, snapshot);
    };
    snapshot.resolved->Match(info.src, kSideSource, 0,
                             [&](const AddressRule& rule) { emit_resolved(rule, kSideSource); });
    snapshot.resolved->Match(info.dst, kSideDestination, 0, [&](const AddressRule& rule) {
      emit_resolved(rule, kSideDestination);
    });
  }
  if (matches > 0) config_.counters->Add(Counter::kAddressMatches, 1);
  return all_sent;
}

bool Worker::EmitAlert(Flow& flow, int direction, uint32_t indicator, uint8_t side,
                       MatchSource source, std::string_view observed, const Snapshot& snapshot) {
  WorkerRecord slot;
  slot.kind = RecordKind::kAlert;
  AlertRecord& record = slot.alert;
  record.flow_id = flows_.history(flow).id;
  record.snapshot_version = snapshot.version;
  record.packet_time_ns = now_ns_;
  record.flow_start_ns = flow.first_ns;
  record.tuple = OrientedTuple(flow, direction == 0);
  record.indicator = indicator;
  record.matched_side = side;
  record.source = source;
  const size_t length = std::min(observed.size(), kObservedMax);
  std::memcpy(record.observed, observed.data(), length);
  record.observed_length = static_cast<uint8_t>(length);
  if (!EnqueueRecord(slot)) {
    config_.counters->Add(Counter::kAlertRingFull, 1);
    return false;
  }
  config_.counters->Add(Counter::kAlertsQueued, 1);
  ++flow.alerts;
  if (flow.first_alert_ns == 0) flow.first_alert_ns = now_ns_;
  return true;
}

namespace {

// Context of one Hyperscan scan call, passed through its void* argument.
struct ScanContext {
  Worker* worker;
  Flow* flow;
  int direction;
  const Snapshot* snapshot;
  bool (Worker::*emit)(Flow&, int, uint32_t, uint8_t, MatchSource, std::string_view,
                       const Snapshot&);
  WorkerCounters* counters;
};

int OnPatternMatch(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/,
                   unsigned int /*flags*/, void* context) {
  auto* scan = static_cast<ScanContext*>(context);
  scan->counters->Add(Counter::kPatternMatches, 1);
  (scan->worker->*scan->emit)(*scan->flow, scan->direction, id, kSideSource, MatchSource::kPayload,
                              {}, *scan->snapshot);
  return 0;  // Keep scanning: other patterns may match too.
}

}  // namespace

uint32_t TcpSequence(const std::byte* frame, const PacketInfo& info) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    value = value << 8 | std::to_integer<uint32_t>(frame[info.l4_offset + 4 + i]);
  }
  return value;
}

Session* Worker::SessionFor(Flow& flow) {
  if (Session* session = sessions_.Get(flow); session != nullptr) return session;
  Session* session = sessions_.Acquire(flow);
  if (session == nullptr) config_.counters->Add(Counter::kSessionTableFull, 1);
  return session;
}

void Worker::ScanPayload(Flow& flow, const PacketInfo& info, const std::byte* frame, int direction,
                         const Snapshot& snapshot) {
  const PatternDatabase& patterns = *snapshot.patterns;
  if (info.protocol == kIpProtoTcp && info.has_ports) {
    if (Session* session = SessionFor(flow); session != nullptr) {
      if (!session->stream_done[direction]) {
        ScanStream(flow, *session, info, frame, direction, snapshot);
        return;
      }
      // Past the depth limit nothing more is scanned in this direction.
      if (session->scanned[direction] >= config_.stream_depth) return;
    }
  }
  ScanContext context{this, &flow, direction, &snapshot, &Worker::EmitAlert, config_.counters};
  config_.counters->Add(Counter::kPayloadBlockScans, 1);
  hs_scan(patterns.block(), reinterpret_cast<const char*>(frame + info.payload_offset),
          info.payload_length, 0, patterns.scratch(config_.index), OnPatternMatch, &context);
}

void Worker::ScanStream(Flow& flow, Session& session, const PacketInfo& info,
                        const std::byte* frame, int direction, const Snapshot& snapshot) {
  const PatternDatabase& patterns = *snapshot.patterns;
  hs_scratch* scratch = patterns.scratch(config_.index);
  ScanContext context{this, &flow, direction, &snapshot, &Worker::EmitAlert, config_.counters};
  if (session.streams[direction] == nullptr) {
    if (hs_open_stream(patterns.stream(), 0, &session.streams[direction]) != HS_SUCCESS ||
        session.streams[direction] == nullptr) {
      session.streams[direction] = nullptr;
      session.stream_done[direction] = true;
      config_.counters->Add(Counter::kStreamOpenFailed, 1);
      hs_scan(patterns.block(), reinterpret_cast<const char*>(frame + info.payload_offset),
              info.payload_length, 0, scratch, OnPatternMatch, &context);
      return;
    }
    config_.counters->Add(Counter::kStreamsOpened, 1);
  }

  // Feed the stream in sequence order: skip bytes already scanned (retransmissions) and,
  // after a gap, carry on from the new segment so one lost segment cannot stall it.
  const uint32_t seq = TcpSequence(frame, info);
  const char* data = reinterpret_cast<const char*>(frame + info.payload_offset);
  uint32_t length = info.payload_length;
  if (session.seq_known[direction]) {
    const int32_t ahead = static_cast<int32_t>(seq - session.next_seq[direction]);
    if (ahead < 0) {
      const uint32_t old_bytes = static_cast<uint32_t>(-ahead);
      if (old_bytes >= length) return;
      data += old_bytes;
      length -= old_bytes;
    } else if (ahead > 0) {
      config_.counters->Add(Counter::kStreamGaps, 1);
    }
  }
  session.seq_known[direction] = true;
  session.next_seq[direction] = seq + info.payload_length;

  const uint64_t room = config_.stream_depth - session.scanned[direction];
  if (length > room) length = static_cast<uint32_t>(room);
  hs_scan_stream(session.streams[direction], data, length, 0, scratch, OnPatternMatch, &context);
  session.scanned[direction] += length;
  config_.counters->Add(Counter::kPayloadStreamBytes, length);
  if (session.scanned[direction] >= config_.stream_depth) {
    hs_close_stream(session.streams[direction], scratch, OnPatternMatch, &context);
    session.streams[direction] = nullptr;
    session.stream_done[direction] = true;
    config_.counters->Add(Counter::kStreamDepthReached, 1);
  }
}

void Worker::CloseStreams(Session& session) {
  for (hs_stream*& stream : session.streams) {
    // Without scratch Hyperscan only frees the state: end-of-data matches (patterns
    // anchored at the end) are not reported for streams cut this way.
    if (stream != nullptr) hs_close_stream(stream, nullptr, nullptr, nullptr);
    stream = nullptr;
  }
}

void Worker::CloseAllStreams() {
  sessions_.ForEach([this](Session& session) {
    CloseStreams(session);
    if (session.scanned[0] < config_.stream_depth) session.stream_done[0] = false;
    if (session.scanned[1] < config_.stream_depth) session.stream_done[1] = false;
  });
}

bool Worker::EnqueueRecord(const WorkerRecord& record) {
  // DPDK 22.11 takes a non-const pointer but only reads the record.
  void* source = const_cast<WorkerRecord*>(&record);
  while (rte_ring_sp_enqueue_elem(config_.record_ring, source, sizeof(record)) != 0) {
    if (!config_.wait_on_full_ring) return false;
    rte_pause();
  }
  return true;
}

void Worker::EndFlow(Flow& flow, FlowEndReason reason) {
  config_.counters->Add(Counter::kFlowsEnded, 1);
  if (Session* session = sessions_.Get(flow); session != nullptr) {
    CloseStreams(*session);
    sessions_.Release(flow);
  }
  SendFlowRecord(flow, reason, /*final=*/true, /*for_export=*/true);
}

void Worker::EndPeriod(Flow& flow) {
  if (SendFlowRecord(flow, FlowEndReason::kActiveTimeout, /*final=*/false,
                     /*for_export=*/true)) {
    flows_.RestartPeriod(flow);
  }
}

bool Worker::SendFlowRecord(const Flow& flow, FlowEndReason reason, bool final, bool for_export) {
  const bool has_alerts = flow.first_alert_ns != 0;
  // A period without packets (the flow went quiet right after an active timeout) has
  // nothing to export.
  const bool exported =
      for_export && config_.export_flows && flow.packets[0] + flow.packets[1] != 0;
  // The alert path reads records of flows with alerts only.
  if (!has_alerts && !exported) return true;
  WorkerRecord slot;
  slot.kind = RecordKind::kFlow;
  slot.flow = FlowRecord{};
  FlowRecord& record = slot.flow;
  const FlowHistory& history = flows_.history(flow);
  record.flow_id = history.id;
  record.first_ns = flow.first_ns;
  record.last_ns = flow.last_ns;
  record.delta_first_ns = flow.period_first_ns;
  for (int direction = 0; direction < 2; ++direction) {
    record.packets[direction] = history.earlier_packets[direction] + flow.packets[direction];
    record.bytes[direction] = history.earlier_bytes[direction] + flow.bytes[direction];
    record.delta_packets[direction] = flow.packets[direction];
    record.delta_bytes[direction] = flow.bytes[direction];
    record.tcp_flags[direction] = flow.tcp_flags[direction];
  }
  record.alerts = flow.alerts;
  record.tuple = OrientedTuple(flow, /*from_initiator=*/true);
  record.reason = reason;
  record.has_alerts = has_alerts ? 1 : 0;
  record.final = final;
  record.for_export = exported;
  if (!EnqueueRecord(slot)) {
    config_.counters->Add(Counter::kFlowRecordRingFull, 1);
    return false;
  }
  config_.counters->Add(Counter::kFlowRecordsQueued, 1);
  return true;
}

}  // namespace sensor::dp
