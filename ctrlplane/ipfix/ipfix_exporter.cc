#include "ctrlplane/ipfix/ipfix_exporter.h"

#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ctrlplane/absl_bridge.h"

namespace sensor::ctl {
namespace {

constexpr size_t kIpv4HeaderLength = 20;
constexpr size_t kIpv6HeaderLength = 40;
constexpr size_t kUdpHeaderLength = 8;
constexpr size_t kTcpHeaderLength = 20;
constexpr size_t kMaxMessageLength = 65535;  // The header's Length field is 16 bits.
constexpr auto kPeerCheckInterval = std::chrono::milliseconds(100);
constexpr auto kCloseWait = std::chrono::seconds(2);
// UDP: how long a message may wait for room in the socket buffer before it is dropped.
constexpr auto kUdpSendWait = std::chrono::seconds(1);

std::string_view TransportName(IpfixTransport transport) {
  return transport == IpfixTransport::kUdp ? "udp" : "tcp";
}

std::string ErrorText(int error) { return error == 0 ? "closed by peer" : std::strerror(error); }

uint64_t WallClockNs() {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(now.tv_nsec);
}

size_t RecordLength(const IpfixFlowTemplates& templates, const dp::FlowRecord& record) {
  return templates.record_length(record.tuple.ip_version == 6);
}

// Reads one part of a parsed URL; empty when the part is absent.
std::string UrlPart(CURLU* handle, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(handle, part, &value, 0) != CURLUE_OK || value == nullptr) return "";
  std::string text(value);
  curl_free(value);
  return text;
}

}  // namespace

absl::StatusOr<IpfixCollectorUrl> ParseIpfixUrl(std::string_view url) {
  auto invalid = [&](std::string_view problem) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --ipfix URL '", ToAbsl(url), "': ", ToAbsl(problem),
                     "; use udp://HOST:PORT or tcp://HOST:PORT, with an IPv6 address in "
                     "brackets (udp://[::1]:4739)"));
  };
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), curl_url_cleanup);
  if (handle == nullptr) return absl::ResourceExhaustedError("cannot allocate a URL handle");
  const std::string text(url);
  if (text.find("://") == std::string::npos) return invalid("the scheme is missing");
  if (CURLUcode code =
          curl_url_set(handle.get(), CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME);
      code != CURLUE_OK) {
    return invalid(curl_url_strerror(code));
  }

  IpfixCollectorUrl collector;
  collector.text = text;
  const std::string scheme = absl::AsciiStrToLower(UrlPart(handle.get(), CURLUPART_SCHEME));
  if (scheme == "udp") {
    collector.transport = IpfixTransport::kUdp;
  } else if (scheme == "tcp") {
    collector.transport = IpfixTransport::kTcp;
  } else {
    return invalid(absl::StrCat("the scheme '", scheme, "' is neither udp nor tcp"));
  }
  if (!UrlPart(handle.get(), CURLUPART_USER).empty() ||
      !UrlPart(handle.get(), CURLUPART_QUERY).empty() ||
      !UrlPart(handle.get(), CURLUPART_FRAGMENT).empty()) {
    return invalid("a user, query or fragment has no meaning for a collector");
  }
  const std::string path = UrlPart(handle.get(), CURLUPART_PATH);
  if (!path.empty() && path != "/") return invalid("a path has no meaning for a collector");

  std::string host = UrlPart(handle.get(), CURLUPART_HOST);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return invalid("the host is missing");
  collector.host = host;

  const std::string port = UrlPart(handle.get(), CURLUPART_PORT);
  if (!port.empty()) {
    const int value = std::atoi(port.c_str());
    if (value <= 0 || value > 65535) return invalid("the port must be 1 to 65535");
    collector.port = static_cast<uint16_t>(value);
  }
  return collector;
}

absl::StatusOr<std::unique_ptr<IpfixExporter>> IpfixExporter::Create(
    const IpfixExporterOptions& options) {
  if (options.enterprise_number == 0 || options.enterprise_number == kReverseEnterpriseNumber) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid IPFIX enterprise number ", options.enterprise_number,
        ": 0 marks IANA elements and 29305 reverse elements (RFC 5103); use the PEN of your "
        "organisation or the default ",
        kDefaultEnterpriseNumber));
  }

  const IpfixCollectorUrl& collector = options.collector;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = collector.transport == IpfixTransport::kUdp ? SOCK_DGRAM : SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(collector.port);
  if (int rc = getaddrinfo(collector.host.c_str(), port.c_str(), &hints, &found);
      rc != 0 || found == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot resolve the IPFIX collector ", collector.text,
                                            ": ", gai_strerror(rc),
                                            "; check the host name or give an address"));
  }
  sockaddr_storage address{};
  const socklen_t address_length = found->ai_addrlen;
  std::memcpy(&address, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);

  std::unique_ptr<IpfixExporter> exporter(new IpfixExporter(options, address, address_length));
  const size_t needed = kIpfixMessageHeaderLength + exporter->templates_.template_set_length() +
                        kIpfixSetHeaderLength + exporter->templates_.record_length(true);
  if (exporter->max_message_length_ < needed) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ipfix-mtu ", options.path_mtu, " leaves ", exporter->max_message_length_,
                     " bytes for an IPFIX message, but one with ",
                     "the templates and a record needs ", needed, "; raise the MTU"));
  }

  if (collector.transport == IpfixTransport::kUdp) {
    const int fd = socket(address.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return absl::InternalError(
          absl::StrCat("cannot open a UDP socket for ", collector.text, ": ", ErrorText(errno)));
    }
    exporter->fd_ = fd;
    // A connected UDP socket reports ICMP errors (port unreachable) on later sends.
    if (connect(fd, reinterpret_cast<const sockaddr*>(&address), address_length) != 0) {
      return absl::UnavailableError(absl::StrCat("cannot reach the IPFIX collector ",
                                                 collector.text, ": ", ErrorText(errno)));
    }
    exporter->state_ = State::kConnected;
  } else {
    exporter->StartConnect(Clock::now());
  }
  LogInfo("ipfix",
          "event=exporter_started collector={} transport={} observation_domain={} "
          "max_message_bytes={}",
          collector.text, TransportName(collector.transport), options.observation_domain,
          exporter->max_message_length_);
  return exporter;
}

IpfixExporter::IpfixExporter(const IpfixExporterOptions& options, const sockaddr_storage& address,
                             socklen_t address_length)
    : options_(options),
      address_(address),
      address_length_(address_length),
      templates_(options.enterprise_number),
      max_message_length_(std::min(
          kMaxMessageLength,
          options.path_mtu -
              std::min<size_t>(
                  options.path_mtu,
                  (address.ss_family == AF_INET6 ? kIpv6HeaderLength : kIpv4HeaderLength) +
                      (options.collector.transport == IpfixTransport::kUdp ? kUdpHeaderLength
                                                                           : kTcpHeaderLength)))),
      builder_(max_message_length_),
      backoff_(options.reconnect_initial) {}

IpfixExporter::~IpfixExporter() {
  if (fd_ >= 0) close(fd_);
}

void IpfixExporter::OnFlowRecord(const dp::FlowRecord& record) {
  if (!record.for_export) return;
  ++stats_.records_received;
  latest_record_ns_ = std::max(latest_record_ns_, record.last_ns);
  Clock::time_point now = Clock::now();

  if (backlog_.size() >= options_.backlog_records && options_.wait_for_collector) {
    // Replay must lose nothing while a collector is connected and merely slow.
    const Clock::time_point deadline = now + options_.drain_timeout;
    while (backlog_.size() >= options_.backlog_records && state_ != State::kDisconnected &&
           now < deadline) {
      Pump(now, /*flush=*/false);
      if (backlog_.size() >= options_.backlog_records) {
        WaitWritable(std::chrono::milliseconds(50));
      }
      now = Clock::now();
    }
  }
  if (backlog_.size() >= options_.backlog_records) {
    ++stats_.dropped_backlog_full;
    uint64_t suppressed = 0;
    if (error_log_.Allow(suppressed)) {
      LogWarn("ipfix",
              "event=record_dropped reason=backlog_full collector={} backlog={} "
              "repeats_not_logged={}",
              options_.collector.text, backlog_.size(), suppressed);
    }
    return;
  }

  if (backlog_.empty()) oldest_queued_ = now;
  backlog_.push_back(record);
  backlog_bytes_ += RecordLength(templates_, record);
  Pump(now, /*flush=*/false);
}

void IpfixExporter::Tick() {
  const Clock::time_point now = Clock::now();
  if (options_.collector.transport == IpfixTransport::kTcp) {
    EnsureConnected(now);
    CheckPeer(now);
  }
  Pump(now, /*flush=*/false);
}

void IpfixExporter::Finish() {
  const Clock::time_point deadline = Clock::now() + options_.drain_timeout;
  while (true) {
    const Clock::time_point now = Clock::now();
    Pump(now, /*flush=*/true);
    if (backlog_.empty() && out_.empty()) break;
    if (now >= deadline) break;
    WaitWritable(std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(50),
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
            std::chrono::milliseconds(1)));
  }

  const uint64_t left = backlog_.size() + in_flight_.size();
  if (left != 0) {
    stats_.dropped_at_exit += left;
    LogError("ipfix",
             "event=records_not_exported collector={} records={} detail=\"the collector did "
             "not take them within the drain timeout\"",
             options_.collector.text, left);
  }
  backlog_.clear();
  backlog_bytes_ = 0;
  in_flight_.clear();
  out_.clear();

  if (fd_ >= 0 && options_.collector.transport == IpfixTransport::kTcp &&
      state_ == State::kConnected) {
    // Half-close and wait for the collector to close its side, so that it has read
    // everything before this process exits.
    shutdown(fd_, SHUT_WR);
    const Clock::time_point close_deadline = Clock::now() + kCloseWait;
    char discard[512];
    while (Clock::now() < close_deadline) {
      pollfd poll_fd{fd_, POLLIN, 0};
      if (poll(&poll_fd, 1, 50) < 0 && errno != EINTR) break;
      const ssize_t n = recv(fd_, discard, sizeof(discard), MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
    }
  }
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  state_ = State::kDisconnected;
  LogInfo("ipfix",
          "event=exporter_finished collector={} records_exported={} messages={} "
          "records_dropped={}",
          options_.collector.text, stats_.records_exported, stats_.messages_sent,
          stats_.records_dropped());
}

void IpfixExporter::Pump(Clock::time_point now, bool flush) {
  while (true) {
    if (!out_.empty()) {
      if (!WriteMessage(now)) return;
      continue;
    }
    if (backlog_.empty()) return;
    const bool full = backlog_bytes_ + kIpfixMessageHeaderLength + 2 * kIpfixSetHeaderLength >=
                      max_message_length_;
    if (!flush && !full && now - oldest_queued_ < options_.flush_interval) return;
    if (!EnsureConnected(now)) return;
    BuildMessage();
  }
}

bool IpfixExporter::EnsureConnected(Clock::time_point now) {
  switch (state_) {
    case State::kConnected:
      return true;
    case State::kDisconnected:
      if (now < next_connect_) return false;
      StartConnect(now);
      return state_ == State::kConnected;
    case State::kConnecting: {
      pollfd poll_fd{fd_, POLLOUT, 0};
      if (poll(&poll_fd, 1, 0) <= 0) return false;
      int error = 0;
      socklen_t length = sizeof(error);
      if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
      if (error != 0) {
        OnConnectFailed(now, error);
        return false;
      }
      OnConnected();
      return true;
    }
  }
  return false;
}

void IpfixExporter::StartConnect(Clock::time_point now) {
  fd_ = socket(address_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    OnConnectFailed(now, errno);
    return;
  }
  if (connect(fd_, reinterpret_cast<const sockaddr*>(&address_), address_length_) == 0) {
    OnConnected();
  } else if (errno == EINPROGRESS) {
    state_ = State::kConnecting;
  } else {
    OnConnectFailed(now, errno);
  }
}

void IpfixExporter::OnConnected() {
  state_ = State::kConnected;
  ++stats_.connections;
  backoff_ = options_.reconnect_initial;
  // A new connection is a new transport session: sequence numbers restart and the
  // templates go first.
  sequence_ = 0;
  session_templates_sent_ = false;
  LogInfo("ipfix", "event=connected collector={} connections={}", options_.collector.text,
          stats_.connections);
}

void IpfixExporter::OnConnectFailed(Clock::time_point now, int error) {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  state_ = State::kDisconnected;
  ++stats_.connect_failures;
  next_connect_ = now + backoff_;
  uint64_t suppressed = 0;
  if (error_log_.Allow(suppressed)) {
    LogWarn("ipfix",
            "event=connect_failed collector={} error=\"{}\" retry_in_ms={} backlog={} "
            "repeats_not_logged={}",
            options_.collector.text, ErrorText(error), backoff_.count(), backlog_.size(),
            suppressed);
  }
  backoff_ = std::min(backoff_ * 2, options_.reconnect_max);
}

void IpfixExporter::Disconnect(Clock::time_point now, int error) {
  ++stats_.send_errors;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  state_ = State::kDisconnected;
  next_connect_ = now + backoff_;
  // The collector has not seen the whole message, so it is rebuilt for the next
  // connection, with that connection's sequence numbers and templates.
  const size_t requeued = in_flight_.size();
  for (auto it = in_flight_.rbegin(); it != in_flight_.rend(); ++it) {
    backlog_.push_front(*it);
    backlog_bytes_ += RecordLength(templates_, *it);
  }
  if (requeued != 0) oldest_queued_ = now;
  in_flight_.clear();
  out_.clear();
  out_offset_ = 0;
  session_templates_sent_ = false;
  uint64_t suppressed = 0;
  if (error_log_.Allow(suppressed)) {
    LogWarn("ipfix",
            "event=connection_lost collector={} error=\"{}\" records_requeued={} "
            "retry_in_ms={} repeats_not_logged={}",
            options_.collector.text, ErrorText(error), requeued, backoff_.count(), suppressed);
  }
}

void IpfixExporter::CheckPeer(Clock::time_point now) {
  if (state_ != State::kConnected || fd_ < 0 || now < next_peer_check_) return;
  next_peer_check_ = now + kPeerCheckInterval;
  char discard[512];
  while (true) {
    const ssize_t n = recv(fd_, discard, sizeof(discard), MSG_DONTWAIT);
    if (n > 0) continue;
    if (n == 0) {
      Disconnect(now, 0);
    } else if (errno == EINTR) {
      continue;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
      Disconnect(now, errno);
    }
    return;
  }
}

bool IpfixExporter::TemplatesDue() const {
  if (!session_templates_sent_) return true;
  if (options_.collector.transport == IpfixTransport::kTcp) return false;
  if (options_.template_refresh_messages != 0 &&
      messages_since_templates_ >= options_.template_refresh_messages) {
    return true;
  }
  const uint64_t refresh_ns =
      static_cast<uint64_t>(options_.template_refresh.count()) * 1'000'000'000;
  const uint64_t clock_ns = ExportClockNs();
  return refresh_ns != 0 && clock_ns >= templates_sent_ns_ &&
         clock_ns - templates_sent_ns_ >= refresh_ns;
}

void IpfixExporter::BuildMessage() {
  builder_.Reset();
  in_flight_.clear();
  in_flight_has_templates_ = TemplatesDue();
  if (in_flight_has_templates_) templates_.AppendTemplateSet(builder_);

  size_t set_record_length = 0;
  while (!backlog_.empty()) {
    const dp::FlowRecord& record = backlog_.front();
    const bool ipv6 = record.tuple.ip_version == 6;
    const uint16_t template_id = templates_.template_id(ipv6);
    const size_t length = templates_.record_length(ipv6);
    const bool same_set = builder_.in_set() && builder_.set_id() == template_id;
    // Closing a set may add up to 3 bytes of padding.
    const size_t needed = length + (same_set ? 0 : kIpfixSetHeaderLength + 3);
    if (needed > builder_.room()) break;
    if (!same_set) {
      if (builder_.in_set()) builder_.EndSet(set_record_length);
      builder_.BeginSet(template_id);
      set_record_length = length;
    }
    templates_.EncodeRecord(record, builder_.Append(length));
    in_flight_.push_back(record);
    backlog_bytes_ -= length;
    backlog_.pop_front();
  }
  if (builder_.in_set()) builder_.EndSet(set_record_length);
  const std::span<const uint8_t> message =
      builder_.Finish(ExportTimeSeconds(), sequence_, options_.observation_domain);
  out_.assign(message.begin(), message.end());
  out_offset_ = 0;
}

bool IpfixExporter::WriteMessage(Clock::time_point now) {
  if (options_.collector.transport == IpfixTransport::kUdp) {
    const Clock::time_point give_up = now + kUdpSendWait;
    while (true) {
      const ssize_t n = send(fd_, out_.data(), out_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n == static_cast<ssize_t>(out_.size())) {
        CommitMessage();
        return true;
      }
      const int error = n < 0 ? errno : EMSGSIZE;
      if (error == EINTR) continue;
      const bool no_room = error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS;
      if (no_room && options_.wait_for_collector && Clock::now() < give_up) {
        WaitWritable(std::chrono::milliseconds(10));
        continue;
      }
      DropMessage(error);
      return true;
    }
  }

  while (out_offset_ < out_.size()) {
    const ssize_t n = send(fd_, out_.data() + out_offset_, out_.size() - out_offset_,
                           MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      out_offset_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    Disconnect(now, n < 0 ? errno : 0);
    return false;
  }
  CommitMessage();
  return true;
}

void IpfixExporter::CommitMessage() {
  ++stats_.messages_sent;
  stats_.bytes_sent += out_.size();
  stats_.records_exported += in_flight_.size();
  for (const dp::FlowRecord& record : in_flight_) {
    stats_.packets_exported += uint64_t{record.delta_packets[0]} + record.delta_packets[1];
    stats_.octets_exported += record.delta_bytes[0] + record.delta_bytes[1];
  }
  sequence_ += static_cast<uint32_t>(in_flight_.size());
  if (in_flight_has_templates_) {
    ++stats_.template_sets_sent;
    session_templates_sent_ = true;
    messages_since_templates_ = 1;
    templates_sent_ns_ = ExportClockNs();
  } else {
    ++messages_since_templates_;
  }
  in_flight_.clear();
  out_.clear();
  out_offset_ = 0;
}

void IpfixExporter::DropMessage(int error) {
  ++stats_.send_errors;
  stats_.dropped_send_error += in_flight_.size();
  uint64_t suppressed = 0;
  if (error_log_.Allow(suppressed)) {
    LogWarn("ipfix",
            "event=send_failed collector={} error=\"{}\" records_dropped={} "
            "repeats_not_logged={}",
            options_.collector.text, ErrorText(error), in_flight_.size(), suppressed);
  }
  // The sequence number stays: the collector never saw these records.
  in_flight_.clear();
  out_.clear();
  out_offset_ = 0;
}

void IpfixExporter::WaitWritable(std::chrono::milliseconds timeout) {
  if (fd_ >= 0 && state_ != State::kDisconnected) {
    pollfd poll_fd{fd_, POLLOUT, 0};
    poll(&poll_fd, 1, static_cast<int>(timeout.count()));
    return;
  }
  // Waiting for the next connection attempt.
  const auto until_retry = next_connect_ - Clock::now();
  if (until_retry > Clock::duration::zero()) {
    std::this_thread::sleep_for(std::min<Clock::duration>(until_retry, timeout));
  }
}

uint64_t IpfixExporter::ExportClockNs() const {
  return options_.export_time_from_records ? latest_record_ns_ : WallClockNs();
}

uint32_t IpfixExporter::ExportTimeSeconds() const {
  return static_cast<uint32_t>(ExportClockNs() / 1'000'000'000);
}

}  // namespace sensor::ctl
