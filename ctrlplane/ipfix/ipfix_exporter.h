// IPFIX Exporting Process (RFC 7011): turns the flow records that workers send at flow
// end and at each active timeout into IPFIX messages to one collector, over UDP or TCP,
// IPv4 or IPv6.
//
// Records are batched into messages that fit the path MTU. A message goes out when it is
// full, when its oldest record has waited `flush_interval`, and at Finish(). Sequence
// numbers count the Data Records sent before each message, per Observation Domain and
// transport session, as RFC 7011 section 3.1 defines them.
//
// UDP: the templates go in the first message and again every `template_refresh` or every
// `template_refresh_messages` messages, whichever comes first (RFC 7011 section 8.4). A
// message that the socket refuses is counted as a send error and its records as dropped.
//
// TCP: each connection is a new transport session, so the templates are sent once at its
// start and the sequence number restarts at 0. A failed or closed connection is retried
// with exponential backoff. Meanwhile records wait in a bounded backlog, and a message
// that was being written when the connection broke is sent again on the next one. Records
// that find the backlog full, or are still waiting when Finish() gives up, are counted by
// reason.
// NOTE: records that the kernel accepted before a connection broke cannot be distinguished
// from delivered ones, because IPFIX over TCP has no acknowledgements.
//
// Time: flowStartMilliseconds and flowEndMilliseconds are packet times. The message
// header's Export Time is the wall clock in live mode; in replay
// (`export_time_from_records`) it is the latest flowEnd time seen so far, so a replay
// exports the same messages however fast it runs. The UDP template refresh interval is
// measured on the same clock as the Export Time.
//
// Control thread only; never blocks longer than a poll of a few milliseconds, except in
// Finish() and when `wait_for_collector` is set (replay).
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ctrlplane/ipfix/ipfix_encoder.h"
#include "ctrlplane/log.h"
#include "dataplane/records.h"

namespace sensor::ctl {

enum class IpfixTransport : uint8_t { kUdp, kTcp };

// A collector address as given on the command line: udp://HOST:PORT or tcp://HOST:PORT,
// with an IPv6 address in brackets (udp://[::1]:4739). The port defaults to 4739.
struct IpfixCollectorUrl {
  IpfixTransport transport = IpfixTransport::kUdp;
  std::string host;  // Without brackets.
  uint16_t port = kIpfixDefaultPort;
  std::string text;  // The URL as given, for messages.
};

// Parses `url`; the error names the URL and the expected form.
absl::StatusOr<IpfixCollectorUrl> ParseIpfixUrl(std::string_view url);

struct IpfixExporterOptions {
  IpfixCollectorUrl collector;
  uint32_t observation_domain = 1;
  uint32_t enterprise_number = kDefaultEnterpriseNumber;  // PEN of our own elements.
  uint32_t path_mtu = 1500;  // Messages fit this IP MTU with their IP and UDP/TCP headers.
  std::chrono::seconds template_refresh{600};  // UDP only; 0 disables the timer.
  uint32_t template_refresh_messages = 100;    // UDP only; 0 disables the count.
  bool export_time_from_records = false;       // Replay: Export Time from packet times.
  std::chrono::milliseconds flush_interval{1000};
  size_t backlog_records = 1 << 16;  // Records waiting for a TCP connection.
  // Replay: when the UDP socket buffer or the TCP backlog is full, wait for the collector
  // (up to 1 s per UDP message, `drain_timeout` per record while TCP is connected) instead
  // of dropping at once.
  bool wait_for_collector = false;
  std::chrono::milliseconds reconnect_initial{250};
  std::chrono::milliseconds reconnect_max{30'000};
  std::chrono::milliseconds drain_timeout{10'000};  // Finish(): time to deliver the rest.
};

struct IpfixExporterStats {
  uint64_t records_received = 0;  // Exportable flow records handed to the exporter.
  uint64_t records_exported = 0;  // Data Records in messages the socket accepted.
  uint64_t packets_exported = 0;  // Sum of packetDeltaCount, both directions.
  uint64_t octets_exported = 0;   // Sum of octetDeltaCount, both directions (IP bytes).
  uint64_t messages_sent = 0;
  uint64_t bytes_sent = 0;  // IPFIX message bytes, without IP and UDP/TCP headers.
  uint64_t template_sets_sent = 0;
  uint64_t send_errors = 0;  // Failed sends and broken connections.
  uint64_t connections = 0;  // TCP connections made.
  uint64_t connect_failures = 0;
  // Records that were not exported, by reason; `records_dropped()` is their sum.
  uint64_t dropped_send_error = 0;    // UDP: the socket refused their message.
  uint64_t dropped_backlog_full = 0;  // No room in the backlog while TCP was down.
  uint64_t dropped_at_exit = 0;       // Still waiting when Finish() gave up.
  uint64_t records_dropped() const {
    return dropped_send_error + dropped_backlog_full + dropped_at_exit;
  }
};

class IpfixExporter {
 public:
  using Clock = std::chrono::steady_clock;

  // Resolves the collector's address and opens the UDP socket (TCP connects on first use).
  static absl::StatusOr<std::unique_ptr<IpfixExporter>> Create(const IpfixExporterOptions& options);
  ~IpfixExporter();

  // Queues `record` if it closes an export period (for_export); others are ignored.
  void OnFlowRecord(const dp::FlowRecord& record);
  // Sends what is due and advances the TCP connection; call on every control-loop pass.
  void Tick();
  // Sends everything still queued, waiting up to `drain_timeout` for a TCP collector,
  // then closes the connection.
  void Finish();

  const IpfixExporterStats& stats() const { return stats_; }
  const IpfixExporterOptions& options() const { return options_; }
  size_t max_message_length() const { return max_message_length_; }

 private:
  enum class State : uint8_t { kDisconnected, kConnecting, kConnected };

  IpfixExporter(const IpfixExporterOptions& options, const sockaddr_storage& address,
                socklen_t address_length);

  // Sends messages while the transport takes them; with `flush` also a last partial one.
  void Pump(Clock::time_point now, bool flush);
  // True when a message may be written now; starts or completes a TCP connection.
  bool EnsureConnected(Clock::time_point now);
  void StartConnect(Clock::time_point now);
  void OnConnected();
  void OnConnectFailed(Clock::time_point now, int error);
  // Closes a broken TCP connection and puts the records of a half-written message back.
  void Disconnect(Clock::time_point now, int error);
  // Reads (and discards) what the collector sent, to notice that it closed.
  void CheckPeer(Clock::time_point now);
  // Moves records from the backlog into a new message in `out_`.
  void BuildMessage();
  bool TemplatesDue() const;
  // Writes `out_`; returns true when the whole message went out or was dropped.
  bool WriteMessage(Clock::time_point now);
  void CommitMessage();
  void DropMessage(int error);
  // Waits up to `timeout` for the socket to become writable (or connected).
  void WaitWritable(std::chrono::milliseconds timeout);
  uint32_t ExportTimeSeconds() const;
  uint64_t ExportClockNs() const;

  IpfixExporterOptions options_;
  sockaddr_storage address_{};
  socklen_t address_length_ = 0;
  IpfixFlowTemplates templates_;
  size_t max_message_length_ = 0;
  IpfixMessageBuilder builder_;

  int fd_ = -1;
  State state_ = State::kDisconnected;
  Clock::time_point next_connect_{};
  std::chrono::milliseconds backoff_;
  Clock::time_point next_peer_check_{};

  std::deque<dp::FlowRecord> backlog_;
  size_t backlog_bytes_ = 0;  // Encoded size of the backlog's records.
  Clock::time_point oldest_queued_{};
  // The message being written and its records, kept until the socket took all of it.
  std::vector<uint8_t> out_;
  size_t out_offset_ = 0;
  std::vector<dp::FlowRecord> in_flight_;
  bool in_flight_has_templates_ = false;

  uint32_t sequence_ = 0;  // Data Records sent in this transport session, modulo 2^32.
  bool session_templates_sent_ = false;
  uint32_t messages_since_templates_ = 0;
  uint64_t templates_sent_ns_ = 0;  // Export clock when the templates were last sent.
  uint64_t latest_record_ns_ = 0;
  IpfixExporterStats stats_;
  RateLimitedLog error_log_{5, std::chrono::seconds(10)};
};

}  // namespace sensor::ctl
