// Records that workers hand to the control thread over one ring per worker: an alert
// record when a flow direction first matches an indicator, and a flow record when a flow
// ends. Flows with alerts also send one when the alert delay has passed, and long flows
// one at each active timeout. Both kinds share one ring so that the control thread always
// sees a flow's alerts before its end.
//
// Plain data copied by value into rte_ring element slots; sizes are multiples of 4 bytes
// as rte_ring_enqueue_elem requires.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/decode/packet.h"

namespace sensor::dp {

// The tuple of one direction of a flow, as a packet of that direction carries it.
struct FlowTuple {
  IpAddress src;
  IpAddress dst;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t vlan_outer = 0;
  uint16_t vlan_inner = 0;
  uint8_t protocol = 0;
  uint8_t vlan_count = 0;
  uint8_t ip_version = 0;
  uint8_t reserved = 0;
};

// The kind of traffic element that matched an indicator.
enum class MatchSource : uint8_t {
  kAddress = 0,  // Source or destination address.
  kPayload,      // A payload pattern (block or stream mode).
  kDnsQuery,     // A DNS question name.
  kDnsAnswer,    // A DNS answer owner or CNAME target name.
  kDnsResolved,  // An address a DNS answer gave for a listed domain.
  kTlsSni,       // TLS ClientHello server_name.
  kQuicSni,      // server_name of the ClientHello in a QUIC Initial.
  kHttpHost,     // HTTP/1.x Host header.
  kHttpUrl,      // The absolute URL of an HTTP/1.x request.
};

inline constexpr size_t kObservedMax = 192;

struct AlertRecord {
  uint64_t flow_id = 0;
  uint64_t snapshot_version = 0;
  uint64_t packet_time_ns = 0;  // Time of the packet that matched.
  uint64_t flow_start_ns = 0;   // Time of the flow's first packet.
  FlowTuple tuple;              // Direction of the packet that matched.
  uint32_t indicator = 0;       // Index into the snapshot's indicator table.
  uint8_t matched_side = 0;     // kSideSource or kSideDestination of `tuple`.
  MatchSource source = MatchSource::kAddress;
  uint8_t observed_length = 0;  // Bytes used in `observed`.
  uint8_t reserved = 0;
  // The traffic value that matched (name, URL), possibly cut at kObservedMax; empty for
  // address and payload matches.
  char observed[kObservedMax] = {};
};

enum class FlowEndReason : uint8_t {
  kIdleTimeout = 1,  // Values follow IPFIX flowEndReason (RFC 5102).
  kActiveTimeout = 2,
  kEndOfFlow = 3,
  kForcedEnd = 4,
  kLackOfResources = 5,
};

// A flow's counts when it ends or an interim record is due. Two kinds of interim record
// exist: for the alert delay (alerts only) and for the active timeout (flow export).
struct FlowRecord {
  uint64_t flow_id = 0;
  // The whole flow from its first packet, which is what alerts report.
  uint64_t first_ns = 0;
  uint64_t last_ns = 0;
  uint64_t bytes[2] = {};  // [0] initiator to responder, [1] the reverse.
  uint32_t packets[2] = {};
  // The period since the flow's previous exported record (or its start), which is what
  // flow export reports: IPFIX delta counters and the TCP flags seen in the period.
  uint64_t delta_first_ns = 0;
  uint64_t delta_bytes[2] = {};
  uint32_t delta_packets[2] = {};
  uint32_t alerts = 0;  // Alert records the flow queued from its start.
  FlowTuple tuple;      // Oriented from the initiator (the sender of the first packet seen).
  uint8_t tcp_flags[2] = {};
  FlowEndReason reason = FlowEndReason::kIdleTimeout;
  uint8_t has_alerts = 0;
  bool final = true;  // False for an interim record sent while the flow goes on.
  // True if the record closes an export period: a flow end or an active timeout, with at
  // least one packet in the period. False for alert-delay records.
  bool for_export = false;
  uint8_t reserved[2] = {};
};

// An address from a DNS answer for a name that matched a domain indicator; the control
// thread watches it as an indicator with the domain's context until it expires.
struct ResolvedRecord {
  uint64_t snapshot_version = 0;
  uint64_t packet_time_ns = 0;
  IpAddress address;
  uint32_t indicator = 0;  // The domain's index in that snapshot's indicator table.
  uint32_t ttl = 0;        // Seconds, from the DNS answer.
};

enum class RecordKind : uint32_t { kAlert = 1, kFlow = 2, kResolved = 3 };

struct WorkerRecord {
  RecordKind kind = RecordKind::kAlert;
  uint32_t reserved = 0;
  union {
    AlertRecord alert;
    FlowRecord flow;
    ResolvedRecord resolved;
  };
  WorkerRecord() : alert() {}
};

static_assert(sizeof(WorkerRecord) % 4 == 0);

}  // namespace sensor::dp
