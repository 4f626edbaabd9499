#include "ctrlplane/ipfix/ipfix_exporter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "tests/ctrlplane/ipfix/ipfix_test_parser.h"

namespace sensor::ctl {
namespace {

using testing::IpfixReader;
using testing::ParsedMessage;
using testing::ReadBig;
using namespace std::chrono_literals;

constexpr uint64_t kBaseNs = 1'494'364'058'000'000'000;

dp::FlowRecord MakeRecord(uint32_t index, bool ipv6 = false) {
  dp::FlowRecord record;
  record.flow_id = index;
  record.first_ns = kBaseNs + uint64_t{index} * 1'000'000;
  record.delta_first_ns = record.first_ns;
  record.last_ns = record.first_ns + 500'000'000;
  record.delta_packets[0] = 2;
  record.delta_packets[1] = 1;
  record.delta_bytes[0] = 100 + index;
  record.delta_bytes[1] = 60;
  record.tuple.ip_version = ipv6 ? 6 : 4;
  record.tuple.src = ipv6 ? dp::IpAddress{} : dp::IpAddress::FromV4(0xC0000200 + (index & 0xff));
  record.tuple.dst = dp::IpAddress::FromV4(0xC6336401);
  if (ipv6) record.tuple.dst = dp::IpAddress{};
  record.tuple.protocol = 17;
  record.tuple.src_port = static_cast<uint16_t>(10000 + index);
  record.tuple.dst_port = 53;
  record.reason = dp::FlowEndReason::kIdleTimeout;
  record.for_export = true;
  return record;
}

// A socket bound to a random loopback port; for TCP, listening only once Listen() is called.
class Collector {
 public:
  Collector(int type, bool ipv6) {
    fd_ = socket(ipv6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_storage address{};
    socklen_t length = 0;
    if (ipv6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
      in6->sin6_family = AF_INET6;
      in6->sin6_addr = in6addr_loopback;
      length = sizeof(*in6);
    } else {
      auto* in4 = reinterpret_cast<sockaddr_in*>(&address);
      in4->sin_family = AF_INET;
      in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      length = sizeof(*in4);
    }
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0) {
      if (fd_ >= 0) close(fd_);
      fd_ = -1;
      return;
    }
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(ipv6 ? reinterpret_cast<sockaddr_in6*>(&address)->sin6_port
                       : reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  }
  ~Collector() {
    for (int fd : accepted_) close(fd);
    if (fd_ >= 0) close(fd_);
  }

  bool ok() const { return fd_ >= 0; }
  uint16_t port() const { return port_; }
  void Listen() { listen(fd_, 8); }

  // UDP: every datagram that arrives until none has come for `quiet`.
  std::vector<std::vector<uint8_t>> ReceiveDatagrams(std::chrono::milliseconds quiet = 300ms) {
    std::vector<std::vector<uint8_t>> datagrams;
    while (true) {
      pollfd poll_fd{fd_, POLLIN, 0};
      if (poll(&poll_fd, 1, static_cast<int>(quiet.count())) <= 0) break;
      std::vector<uint8_t> buffer(65536);
      const ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
      if (n <= 0) break;
      buffer.resize(static_cast<size_t>(n));
      datagrams.push_back(std::move(buffer));
    }
    return datagrams;
  }

  // TCP: accepts the next connection; -1 if none comes within `timeout`.
  int Accept(std::chrono::milliseconds timeout = 2000ms) {
    pollfd poll_fd{fd_, POLLIN, 0};
    if (poll(&poll_fd, 1, static_cast<int>(timeout.count())) <= 0) return -1;
    const int fd = accept(fd_, nullptr, nullptr);
    if (fd >= 0) accepted_.push_back(fd);
    return fd;
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::vector<int> accepted_;
};

// Reads `connection` until the peer closes it or nothing arrives for `quiet`.
std::vector<uint8_t> ReadStream(int connection, std::chrono::milliseconds quiet = 2000ms) {
  std::vector<uint8_t> stream;
  uint8_t buffer[4096];
  while (true) {
    pollfd poll_fd{connection, POLLIN, 0};
    if (poll(&poll_fd, 1, static_cast<int>(quiet.count())) <= 0) break;
    const ssize_t n = recv(connection, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    stream.insert(stream.end(), buffer, buffer + n);
  }
  return stream;
}

// Splits a TCP byte stream into messages by their header Length fields.
std::vector<std::vector<uint8_t>> SplitMessages(const std::vector<uint8_t>& stream) {
  std::vector<std::vector<uint8_t>> messages;
  size_t offset = 0;
  while (stream.size() - offset >= 16) {
    const size_t length = ReadBig(std::span<const uint8_t>(stream).subspan(offset + 2, 2));
    if (length < 16 || offset + length > stream.size()) break;
    messages.emplace_back(stream.begin() + offset, stream.begin() + offset + length);
    offset += length;
  }
  EXPECT_EQ(offset, stream.size()) << "trailing bytes in the TCP stream";
  return messages;
}

IpfixExporterOptions Options(std::string url) {
  IpfixExporterOptions options;
  auto parsed = ParseIpfixUrl(url);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (parsed.ok()) options.collector = *parsed;
  options.observation_domain = 7;
  options.export_time_from_records = true;
  options.flush_interval = std::chrono::hours(1);  // Only full messages, until Finish().
  options.reconnect_initial = 20ms;
  options.reconnect_max = 100ms;
  options.drain_timeout = 2000ms;
  return options;
}

// Checks the sequence numbers and returns the number of Data Records in `messages`.
size_t CheckSequence(const std::vector<std::vector<uint8_t>>& messages, IpfixReader& reader,
                     uint32_t domain, size_t max_length) {
  size_t records = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    const ParsedMessage message = reader.Read(messages[i]);
    EXPECT_EQ(message.error, "") << "message " << i;
    EXPECT_EQ(message.version, 10);
    EXPECT_EQ(message.domain, domain);
    EXPECT_LE(messages[i].size(), max_length) << "message " << i;
    // RFC 7011 section 3.1: Data Records sent before this message in the session.
    EXPECT_EQ(message.sequence, records) << "message " << i;
    records += message.records.size();
  }
  return records;
}

TEST(ParseIpfixUrl, AcceptsUdpTcpAndIpv6) {
  auto udp = ParseIpfixUrl("udp://127.0.0.1:9995");
  ASSERT_TRUE(udp.ok()) << udp.status();
  EXPECT_EQ(udp->transport, IpfixTransport::kUdp);
  EXPECT_EQ(udp->host, "127.0.0.1");
  EXPECT_EQ(udp->port, 9995);

  auto tcp = ParseIpfixUrl("TCP://collector.example:4740/");
  ASSERT_TRUE(tcp.ok()) << tcp.status();
  EXPECT_EQ(tcp->transport, IpfixTransport::kTcp);
  EXPECT_EQ(tcp->host, "collector.example");
  EXPECT_EQ(tcp->port, 4740);

  auto v6 = ParseIpfixUrl("udp://[::1]:4739");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "::1");

  auto default_port = ParseIpfixUrl("udp://[2001:db8::5]");
  ASSERT_TRUE(default_port.ok()) << default_port.status();
  EXPECT_EQ(default_port->port, 4739);
}

TEST(ParseIpfixUrl, RejectsInvalidUrls) {
  for (const char* url : {"http://127.0.0.1:80", "udp://", "udp://host:0", "udp://host:70000",
                          "127.0.0.1:4739", "udp://host:4739/path", "udp://user@host:4739",
                          "udp://host:4739?x=1", "sctp://host:4739", "udp://[::1:4739"}) {
    auto parsed = ParseIpfixUrl(url);
    EXPECT_FALSE(parsed.ok()) << url;
    if (!parsed.ok()) {
      EXPECT_NE(std::string(parsed.status().message()).find(url), std::string::npos) << url;
    }
  }
}

TEST(IpfixExporter, RejectsReservedEnterpriseNumbers) {
  IpfixExporterOptions options = Options("udp://127.0.0.1:4739");
  options.enterprise_number = kReverseEnterpriseNumber;
  EXPECT_FALSE(IpfixExporter::Create(options).ok());
  options.enterprise_number = 0;
  EXPECT_FALSE(IpfixExporter::Create(options).ok());
}

TEST(IpfixExporter, RejectsMtuTooSmallForTemplates) {
  IpfixExporterOptions options = Options("udp://127.0.0.1:4739");
  options.path_mtu = 300;
  auto exporter = IpfixExporter::Create(options);
  ASSERT_FALSE(exporter.ok());
  EXPECT_NE(std::string(exporter.status().message()).find("--ipfix-mtu"), std::string::npos);
}

TEST(IpfixExporter, UdpSequenceAndTemplateRefresh) {
  Collector collector(SOCK_DGRAM, /*ipv6=*/false);
  ASSERT_TRUE(collector.ok());
  IpfixExporterOptions options = Options("udp://127.0.0.1:" + std::to_string(collector.port()));
  options.template_refresh_messages = 3;
  options.path_mtu = 600;
  auto exporter = IpfixExporter::Create(options);
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  EXPECT_EQ((*exporter)->max_message_length(), 600u - 20 - 8);
  for (uint32_t i = 0; i < 50; ++i) (*exporter)->OnFlowRecord(MakeRecord(i, i % 7 == 3));
  (*exporter)->Finish();

  const auto datagrams = collector.ReceiveDatagrams();
  const IpfixExporterStats& stats = (*exporter)->stats();
  ASSERT_EQ(datagrams.size(), stats.messages_sent);
  IpfixReader reader;
  EXPECT_EQ(CheckSequence(datagrams, reader, 7, 572), 50u);
  // Templates in the first message and then every third one.
  IpfixReader template_reader;
  for (size_t i = 0; i < datagrams.size(); ++i) {
    const ParsedMessage message = template_reader.Read(datagrams[i]);
    EXPECT_EQ(message.template_records, i % 3 == 0 ? 2 : 0) << "message " << i;
  }
  EXPECT_EQ(stats.template_sets_sent, (datagrams.size() + 2) / 3);
  EXPECT_EQ(stats.records_received, 50u);
  EXPECT_EQ(stats.records_exported, 50u);
  EXPECT_EQ(stats.records_dropped(), 0u);
  EXPECT_EQ(stats.packets_exported, 150u);
  size_t bytes = 0;
  for (const auto& datagram : datagrams) bytes += datagram.size();
  EXPECT_EQ(stats.bytes_sent, bytes);
}

TEST(IpfixExporter, UdpExportTimeFromRecords) {
  Collector collector(SOCK_DGRAM, /*ipv6=*/false);
  ASSERT_TRUE(collector.ok());
  auto exporter =
      IpfixExporter::Create(Options("udp://127.0.0.1:" + std::to_string(collector.port())));
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  (*exporter)->OnFlowRecord(MakeRecord(3));
  (*exporter)->OnFlowRecord(MakeRecord(1));
  (*exporter)->Finish();
  const auto datagrams = collector.ReceiveDatagrams();
  ASSERT_EQ(datagrams.size(), 1u);
  IpfixReader reader;
  const ParsedMessage message = reader.Read(datagrams[0]);
  // The latest flowEnd: record 3 ends at kBaseNs + 3 ms + 500 ms.
  EXPECT_EQ(message.export_time, (kBaseNs + 503'000'000) / 1'000'000'000);
  EXPECT_EQ(message.records.size(), 2u);
}

TEST(IpfixExporter, UdpOverIpv6) {
  Collector collector(SOCK_DGRAM, /*ipv6=*/true);
  if (!collector.ok()) GTEST_SKIP() << "no IPv6 loopback on this host";
  auto exporter = IpfixExporter::Create(Options("udp://[::1]:" + std::to_string(collector.port())));
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  EXPECT_EQ((*exporter)->max_message_length(), 1500u - 40 - 8);
  for (uint32_t i = 0; i < 20; ++i) (*exporter)->OnFlowRecord(MakeRecord(i, true));
  (*exporter)->Finish();
  const auto datagrams = collector.ReceiveDatagrams();
  IpfixReader reader;
  EXPECT_EQ(CheckSequence(datagrams, reader, 7, 1452), 20u);
}

TEST(IpfixExporter, IgnoresRecordsNotForExport) {
  Collector collector(SOCK_DGRAM, /*ipv6=*/false);
  ASSERT_TRUE(collector.ok());
  auto exporter =
      IpfixExporter::Create(Options("udp://127.0.0.1:" + std::to_string(collector.port())));
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  dp::FlowRecord alert_delay_record = MakeRecord(1);
  alert_delay_record.for_export = false;
  (*exporter)->OnFlowRecord(alert_delay_record);
  (*exporter)->Finish();
  EXPECT_EQ((*exporter)->stats().records_received, 0u);
  EXPECT_EQ((*exporter)->stats().messages_sent, 0u);
  EXPECT_TRUE(collector.ReceiveDatagrams(100ms).empty());
}

TEST(IpfixExporter, UdpRefusedSendsCounted) {
  uint16_t port = 0;
  {
    Collector closed(SOCK_DGRAM, /*ipv6=*/false);
    ASSERT_TRUE(closed.ok());
    port = closed.port();
  }
  IpfixExporterOptions options = Options("udp://127.0.0.1:" + std::to_string(port));
  options.flush_interval = 0ms;  // One message per record.
  auto exporter = IpfixExporter::Create(options);
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  for (uint32_t i = 0; i < 6; ++i) {
    (*exporter)->OnFlowRecord(MakeRecord(i));
    std::this_thread::sleep_for(20ms);  // Lets the ICMP port unreachable come back.
  }
  (*exporter)->Finish();
  const IpfixExporterStats& stats = (*exporter)->stats();
  // Linux reports the ICMP error on the send after the refused datagram.
  EXPECT_GE(stats.send_errors, 1u);
  EXPECT_EQ(stats.dropped_send_error, stats.send_errors);
  EXPECT_EQ(stats.records_exported + stats.records_dropped(), 6u);
}

TEST(IpfixExporter, TcpTemplatesOncePerConnection) {
  Collector collector(SOCK_STREAM, /*ipv6=*/false);
  ASSERT_TRUE(collector.ok());
  collector.Listen();
  IpfixExporterOptions options = Options("tcp://127.0.0.1:" + std::to_string(collector.port()));
  options.template_refresh_messages = 1;  // UDP only: must not resend on TCP.
  auto exporter = IpfixExporter::Create(options);
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  const int connection = collector.Accept();
  ASSERT_GE(connection, 0);
  for (uint32_t i = 0; i < 60; ++i) {
    (*exporter)->OnFlowRecord(MakeRecord(i, i % 5 == 0));
    (*exporter)->Tick();
  }
  (*exporter)->Finish();

  const auto messages = SplitMessages(ReadStream(connection));
  ASSERT_GE(messages.size(), 2u);
  IpfixReader reader;
  EXPECT_EQ(CheckSequence(messages, reader, 7, 1460), 60u);
  IpfixReader template_reader;
  for (size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(template_reader.Read(messages[i]).template_records, i == 0 ? 2 : 0) << i;
  }
  EXPECT_EQ((*exporter)->stats().connections, 1u);
  EXPECT_EQ((*exporter)->stats().records_exported, 60u);
}

TEST(IpfixExporter, TcpReconnectsAfterCollectorCloses) {
  Collector collector(SOCK_STREAM, /*ipv6=*/false);
  ASSERT_TRUE(collector.ok());
  collector.Listen();
  IpfixExporterOptions options = Options("tcp://127.0.0.1:" + std::to_string(collector.port()));
  options.flush_interval = 0ms;
  auto exporter = IpfixExporter::Create(options);
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  const int first = collector.Accept();
  ASSERT_GE(first, 0);
  for (uint32_t i = 0; i < 5; ++i) (*exporter)->OnFlowRecord(MakeRecord(i));
  const auto first_messages = SplitMessages(ReadStream(first, 300ms));
  shutdown(first, SHUT_RDWR);

  // The exporter notices the close on a tick and connects again after its backoff.
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while ((*exporter)->stats().connections < 2 && std::chrono::steady_clock::now() < deadline) {
    (*exporter)->Tick();
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ((*exporter)->stats().connections, 2u);
  const int second = collector.Accept();
  ASSERT_GE(second, 0);
  for (uint32_t i = 5; i < 12; ++i) (*exporter)->OnFlowRecord(MakeRecord(i));
  (*exporter)->Finish();
  const auto second_messages = SplitMessages(ReadStream(second));

  IpfixReader first_reader;
  EXPECT_EQ(CheckSequence(first_messages, first_reader, 7, 1460), 5u);
  // A new connection is a new transport session: templates first, sequence from 0.
  IpfixReader second_reader;
  ASSERT_FALSE(second_messages.empty());
  EXPECT_EQ(second_reader.Read(second_messages[0]).template_records, 2);
  IpfixReader sequence_reader;
  EXPECT_EQ(CheckSequence(second_messages, sequence_reader, 7, 1460), 7u);
  EXPECT_EQ((*exporter)->stats().records_exported, 12u);
  EXPECT_EQ((*exporter)->stats().records_dropped(), 0u);
}

TEST(IpfixExporter, TcpBacklogWaitsForCollector) {
  Collector collector(SOCK_STREAM, /*ipv6=*/false);
  ASSERT_TRUE(collector.ok());  // Bound but not listening: connections are refused.
  IpfixExporterOptions options = Options("tcp://127.0.0.1:" + std::to_string(collector.port()));
  options.flush_interval = 0ms;
  auto exporter = IpfixExporter::Create(options);
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  for (uint32_t i = 0; i < 10; ++i) {
    (*exporter)->OnFlowRecord(MakeRecord(i));
    (*exporter)->Tick();
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GE((*exporter)->stats().connect_failures, 2u);
  EXPECT_EQ((*exporter)->stats().records_exported, 0u);

  collector.Listen();
  (*exporter)->Finish();
  const int connection = collector.Accept();
  ASSERT_GE(connection, 0);
  const auto messages = SplitMessages(ReadStream(connection));
  IpfixReader reader;
  EXPECT_EQ(CheckSequence(messages, reader, 7, 1460), 10u);
  EXPECT_EQ((*exporter)->stats().records_exported, 10u);
  EXPECT_EQ((*exporter)->stats().records_dropped(), 0u);
}

TEST(IpfixExporter, TcpBacklogFullAndExitDropsCounted) {
  Collector collector(SOCK_STREAM, /*ipv6=*/false);
  ASSERT_TRUE(collector.ok());  // Never listens.
  IpfixExporterOptions options = Options("tcp://127.0.0.1:" + std::to_string(collector.port()));
  options.backlog_records = 2;
  options.wait_for_collector = true;  // Waits only while connected, so drops here.
  options.drain_timeout = 100ms;
  auto exporter = IpfixExporter::Create(options);
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  for (uint32_t i = 0; i < 5; ++i) (*exporter)->OnFlowRecord(MakeRecord(i));
  (*exporter)->Finish();
  const IpfixExporterStats& stats = (*exporter)->stats();
  EXPECT_EQ(stats.records_received, 5u);
  EXPECT_EQ(stats.dropped_backlog_full, 3u);
  EXPECT_EQ(stats.dropped_at_exit, 2u);
  EXPECT_EQ(stats.records_exported, 0u);
}

}  // namespace
}  // namespace sensor::ctl
