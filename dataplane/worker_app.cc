// Application-layer inspection of the worker: the names and URLs that domain and URL
// indicators match. Runs on the worker lcore for packets with payload when the snapshot
// holds domain or URL indicators; it never allocates (buffers are per worker or per
// session) and parses only within the packet or the session's reassembly buffer.

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <span>

#include "dataplane/match/domain_name.h"
#include "dataplane/match/url.h"
#include "dataplane/proto/dns.h"
#include "dataplane/proto/http_request.h"
#include "dataplane/proto/tls_client_hello.h"
#include "dataplane/worker.h"

namespace sensor::dp {
namespace {

constexpr uint16_t kDnsPort = 53;
constexpr uint16_t kQuicPort = 443;

}  // namespace

void Worker::InspectApplication(Flow& flow, const PacketInfo& info, const std::byte* frame,
                                int direction, const Snapshot& snapshot) {
  const std::span<const std::byte> payload(frame + info.payload_offset, info.payload_length);
  if (!info.has_ports) return;
  const bool dns_port = info.src_port == kDnsPort || info.dst_port == kDnsPort;
  if (info.protocol == kIpProtoUdp) {
    if (dns_port) {
      InspectDns(flow, payload, direction, snapshot);
    } else if (info.dst_port == kQuicPort && (std::to_integer<uint8_t>(payload[0]) & 0x80) != 0) {
      InspectQuic(flow, info, frame, snapshot);
    }
    return;
  }
  if (info.protocol != kIpProtoTcp) return;
  if (dns_port) {
    // DNS over TCP is read when a segment holds whole messages; a message split across
    // segments is not reassembled.
    DnsTcpFrame dns_frame;
    if (NextDnsTcpMessage(payload, dns_frame) == DnsTcpStatus::kComplete) {
      InspectDns(flow, dns_frame.message, direction, snapshot);
    }
    return;
  }
  if (direction == 0) InspectClientStream(flow, info, frame, snapshot);
}

int Worker::MatchName(Flow& flow, int direction, std::string_view name, MatchSource source,
                      const Snapshot& snapshot, const DnsAnswer* resolved) {
  if (snapshot.domains == nullptr || name.empty()) return 0;
  DomainNameBuffer canonical;
  if (CanonicalizeAsciiDomainName(name, canonical) != DomainNameStatus::kOk) {
    config_.counters->Add(Counter::kNamesNotCanonical, 1);
    return 0;
  }
  const std::string_view canonical_name = canonical.view();
  // Snapshot versions are never reused, so an equal version means the same domain set.
  if (unmatched_version_ == snapshot.version && canonical_name == unmatched_name_.view()) {
    return 0;
  }
  const int matches = snapshot.domains->Match(canonical_name, [&](const DomainRule& rule) {
    EmitAlert(flow, direction, rule.indicator, kSideSource, source, canonical_name, snapshot);
    if (resolved != nullptr) {
      SendResolved(rule.indicator, resolved->address, resolved->ttl, snapshot);
    }
  });
  if (matches > 0) {
    config_.counters->Add(Counter::kNameMatches, 1);
  } else {
    std::memcpy(unmatched_name_.bytes.data(), canonical_name.data(), canonical_name.size());
    unmatched_name_.length = canonical_name.size();
    unmatched_version_ = snapshot.version;
  }
  return matches;
}

void Worker::InspectDns(Flow& flow, std::span<const std::byte> message, int direction,
                        const Snapshot& snapshot) {
  DnsMessage& dns = *dns_;
  if (ParseDnsMessage(message, dns) != DnsStatus::kOk) {
    config_.counters->Add(Counter::kDnsMalformed, 1);
    return;
  }
  config_.counters->Add(Counter::kDnsMessages, 1);
  for (uint8_t i = 0; i < dns.question_count; ++i) {
    MatchName(flow, direction, dns.questions[i].name.view(), MatchSource::kDnsQuery, snapshot);
  }
  if (!dns.is_response || snapshot.domains == nullptr) return;

  for (uint8_t i = 0; i < dns.answer_count; ++i) {
    const DnsAnswer& answer = dns.answers[i];
    // The address of a listed name is watched with that name's context, so connections
    // to it alert even when they use no name the sensor can see. One canonicalisation
    // and lookup serve both the alert on the name and the watch on the address.
    const bool has_address = answer.type == kDnsTypeA || answer.type == kDnsTypeAaaa;
    MatchName(flow, direction, answer.name.view(), MatchSource::kDnsAnswer, snapshot,
              has_address ? &answer : nullptr);
    if (answer.type == kDnsTypeCname) {
      MatchName(flow, direction, answer.target.view(), MatchSource::kDnsAnswer, snapshot);
    }
  }
}

bool Worker::SendResolved(uint32_t indicator, const IpAddress& address, uint32_t ttl,
                          const Snapshot& snapshot) {
  WorkerRecord slot;
  slot.kind = RecordKind::kResolved;
  slot.resolved = ResolvedRecord{};
  slot.resolved.snapshot_version = snapshot.version;
  slot.resolved.packet_time_ns = now_ns_;
  slot.resolved.address = address;
  slot.resolved.indicator = indicator;
  slot.resolved.ttl = ttl;
  if (!EnqueueRecord(slot)) {
    config_.counters->Add(Counter::kResolvedRingFull, 1);
    return false;
  }
  config_.counters->Add(Counter::kResolvedQueued, 1);
  if (config_.resolved_applied != nullptr) {
    // Every record counts, because the control thread applies them in order. The wait
    // is needed only when the snapshot does not watch the address for this indicator
    // yet: a capture that repeats an answer (or a looped replay) then runs without
    // stopping, and the record still refreshes the watch's expiry.
    ++resolved_sent_;
    bool watched = false;
    if (snapshot.resolved != nullptr) {
      snapshot.resolved->Match(address, kSideDestination, 0, [&](const AddressRule& rule) {
        watched |= rule.indicator == indicator;
      });
    }
    if (!watched) resolved_waiting_ = true;
  }
  return true;
}

void Worker::InspectClientStream(Flow& flow, const PacketInfo& info, const std::byte* frame,
                                 const Snapshot& snapshot) {
  Session* session = SessionFor(flow);
  if (session == nullptr) return;
  if (session->handshake_done) return;
  if (!session->StoreHandshakeSegment(TcpSequence(frame, info), frame + info.payload_offset,
                                      info.payload_length)) {
    session->handshake_done = true;
    config_.counters->Add(Counter::kHandshakeGivenUp, 1);
    return;
  }
  const std::span<const std::byte> stream(session->handshake, session->ContiguousHandshakeBytes());
  if (stream.empty()) return;
  // A TLS handshake record starts with 0x16 and an HTTP request with an upper-case method.
  // Other bytes may be the middle of either, when the first segment is late, so wait for
  // a few more segments before giving up on the connection.
  constexpr uint8_t kMaxSegmentsWithoutStart = 4;
  const auto first = std::to_integer<uint8_t>(stream[0]);
  if (first != 0x16 && !(first >= 'A' && first <= 'Z')) {
    if (++session->segments_without_start >= kMaxSegmentsWithoutStart) {
      session->handshake_done = true;
      config_.counters->Add(Counter::kHandshakeGivenUp, 1);
    }
    return;
  }

  ClientHelloInfo hello;
  const TlsStatus tls = ParseClientHelloRecords(stream, hello);
  if (tls == TlsStatus::kNeedMoreBytes) return;
  if (tls == TlsStatus::kOk) {
    session->handshake_done = true;
    config_.counters->Add(Counter::kTlsClientHellos, 1);
    if (hello.has_server_name) {
      MatchName(flow, 0, hello.server_name_view(), MatchSource::kTlsSni, snapshot);
    }
    return;
  }

  HttpRequestInfo request;
  const HttpStatus http = ParseHttpRequest(stream, request);
  if (http == HttpStatus::kNeedMoreBytes) return;
  session->handshake_done = true;
  if (http != HttpStatus::kOk) return;
  config_.counters->Add(Counter::kHttpRequests, 1);
  if (request.has_host) MatchName(flow, 0, request.host, MatchSource::kHttpHost, snapshot);
  if (snapshot.urls == nullptr) return;
  // The Host header with its port, as the request-target is joined to it.
  char authority_buffer[kMaxHttpHostLength + 8];
  std::string_view authority = request.host;
  if (request.has_port) {
    const int length = std::snprintf(authority_buffer, sizeof(authority_buffer), "%.*s:%u",
                                     static_cast<int>(request.host.size()), request.host.data(),
                                     static_cast<unsigned>(request.port));
    authority = std::string_view(authority_buffer, static_cast<size_t>(length));
  }
  UrlBuffer& url = *url_;
  if (NormalizeHttpRequest("http", authority, request.target, url) != UrlStatus::kOk) return;
  const int matches = snapshot.urls->Match(url.view(), [&](const UrlRule& rule) {
    EmitAlert(flow, 0, rule.indicator, kSideSource, MatchSource::kHttpUrl, url.view(), snapshot);
  });
  if (matches > 0) config_.counters->Add(Counter::kUrlMatches, 1);
}

void Worker::InspectQuic(Flow& flow, const PacketInfo& info, const std::byte* frame,
                         const Snapshot& snapshot) {
  if (quic_ == nullptr) return;
  Session* session = SessionFor(flow);
  if (session == nullptr) return;
  if (session->quic_done) return;
  ClientHelloInfo hello;
  const QuicStatus status = quic_->ProcessClientDatagram(
      std::span(frame + info.payload_offset, info.payload_length), session->quic, hello);
  if (status == QuicStatus::kNeedMorePackets) return;
  session->quic_done = true;
  if (status != QuicStatus::kOk) return;
  config_.counters->Add(Counter::kQuicClientHellos, 1);
  // The direction toward port 443 is the client's, whichever side sent the first packet.
  const int direction = flow.initiator_is_a == (info.src == flow.key.a) ? 0 : 1;
  if (hello.has_server_name) {
    MatchName(flow, direction, hello.server_name_view(), MatchSource::kQuicSni, snapshot);
  }
}

}  // namespace sensor::dp
