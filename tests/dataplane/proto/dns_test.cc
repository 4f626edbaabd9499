// Tests for the DNS parser. Real messages come from two public captures (see
// tests/data/pcap/SOURCES.md), read with libpcap and decoded by the sensor's decoder. The
// expected values are tshark 4.0's dissection of the same frames, named by field and frame
// number. Crafted messages cover compression loops, bad pointers and length limits.
#include "dataplane/proto/dns.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/decode/packet.h"
#include "tests/dataplane/proto/capture_payloads.h"

namespace sensor::dp {

// GoogleTest finds these printers by argument-dependent lookup.
void PrintTo(DnsStatus status, std::ostream* out) { *out << DnsStatusName(status); }

void PrintTo(const IpAddress& address, std::ostream* out) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, address.bytes.data(), text, sizeof(text));
  *out << text;
}

namespace {

using testing::BytesOf;
using testing::PayloadOf;
using testing::ReadCapture;

IpAddress V4(const char* text) {
  in_addr address{};
  EXPECT_EQ(inet_pton(AF_INET, text, &address), 1) << text;
  return IpAddress::FromV4(ntohl(address.s_addr));
}

IpAddress V6(const char* text) {
  IpAddress address;
  EXPECT_EQ(inet_pton(AF_INET6, text, address.bytes.data()), 1) << text;
  return address;
}

// A 12-byte header with id 0x1234, then `body`.
std::vector<std::byte> Message(uint16_t flags, uint16_t qdcount, uint16_t ancount,
                               std::vector<uint8_t> body) {
  std::vector<uint8_t> bytes = {0x12,
                                0x34,
                                static_cast<uint8_t>(flags >> 8),
                                static_cast<uint8_t>(flags),
                                static_cast<uint8_t>(qdcount >> 8),
                                static_cast<uint8_t>(qdcount),
                                static_cast<uint8_t>(ancount >> 8),
                                static_cast<uint8_t>(ancount),
                                0,
                                0,
                                0,
                                0};
  bytes.insert(bytes.end(), body.begin(), body.end());
  std::vector<std::byte> message;
  for (uint8_t byte : bytes) {
    message.push_back(static_cast<std::byte>(byte));
  }
  return message;
}

// Wire form of a name given as labels, ending with the root octet.
std::vector<uint8_t> WireName(const std::vector<std::string>& labels) {
  std::vector<uint8_t> wire;
  for (const std::string& label : labels) {
    wire.push_back(static_cast<uint8_t>(label.size()));
    wire.insert(wire.end(), label.begin(), label.end());
  }
  wire.push_back(0);
  return wire;
}

void Append(std::vector<uint8_t>& bytes, std::initializer_list<uint8_t> more) {
  bytes.insert(bytes.end(), more.begin(), more.end());
}

// Reads the name at offset 12 of `message`.
DnsStatus ReadFirstName(const std::vector<std::byte>& message, DnsName& name) {
  size_t next_offset = 0;
  return ReadDnsName(message, kDnsHeaderLength, name, next_offset);
}

class DnsCaptureTest : public ::testing::Test {
 protected:
  std::unique_ptr<DnsMessage> message_ = std::make_unique<DnsMessage>();
};

// dns-a-aaaa-mx.pcap frame 1: the A query for google.com.
TEST_F(DnsCaptureTest, GoogleAQuery) {
  const auto frames = ReadCapture("dns-a-aaaa-mx.pcap");
  ASSERT_EQ(ParseDnsMessage(PayloadOf(frames, 1), *message_), DnsStatus::kOk);
  EXPECT_EQ(message_->id, 0x1a2d);  // dns.id
  EXPECT_FALSE(message_->is_response);  // dns.flags.response
  EXPECT_EQ(message_->qdcount, 1);
  EXPECT_EQ(message_->ancount, 0);  // dns.count.answers
  EXPECT_EQ(message_->arcount, 1);  // the OPT record, dns.resp.type 41
  ASSERT_EQ(message_->question_count, 1);
  EXPECT_EQ(message_->questions[0].name.view(), "google.com");  // dns.qry.name
  EXPECT_EQ(message_->questions[0].qtype, kDnsTypeA);  // dns.qry.type
  EXPECT_EQ(message_->questions[0].qclass, kDnsClassIn);
  EXPECT_EQ(message_->answer_count, 0);
}

// dns-a-aaaa-mx.pcap frame 2: twelve A answers.
TEST_F(DnsCaptureTest, GoogleAResponseAddresses) {
  const auto frames = ReadCapture("dns-a-aaaa-mx.pcap");
  ASSERT_EQ(ParseDnsMessage(PayloadOf(frames, 2), *message_), DnsStatus::kOk);
  EXPECT_EQ(message_->id, 0x1a2d);
  EXPECT_TRUE(message_->is_response);
  EXPECT_EQ(message_->rcode, 0);  // dns.flags.rcode
  EXPECT_FALSE(message_->truncated);
  // dns.a of the answer section, in order.
  const char* const expected[] = {
      "216.197.242.244", "216.197.242.217", "216.197.242.216", "216.197.242.210",
      "216.197.242.237", "216.197.242.231", "216.197.242.238", "216.197.242.230",
      "216.197.242.224", "216.197.242.251", "216.197.242.223", "216.197.242.245",
  };
  ASSERT_EQ(message_->ancount, 12);
  ASSERT_EQ(message_->answer_count, 12);
  EXPECT_EQ(message_->skipped_answer_count, 0);
  for (size_t i = 0; i < std::size(expected); ++i) {
    const DnsAnswer& answer = message_->answers[i];
    EXPECT_EQ(answer.name.view(), "google.com") << i;  // dns.resp.name
    EXPECT_EQ(answer.type, kDnsTypeA) << i;            // dns.resp.type
    EXPECT_EQ(answer.ttl, 299u) << i;                  // dns.resp.ttl
    EXPECT_EQ(answer.address, V4(expected[i])) << i;
    EXPECT_EQ(answer.target.length, 0) << i;
  }
}

// dns-a-aaaa-mx.pcap frame 4: one AAAA answer.
TEST_F(DnsCaptureTest, GoogleAaaaResponse) {
  const auto frames = ReadCapture("dns-a-aaaa-mx.pcap");
  ASSERT_EQ(ParseDnsMessage(PayloadOf(frames, 4), *message_), DnsStatus::kOk);
  EXPECT_EQ(message_->id, 0x8d70);
  ASSERT_EQ(message_->question_count, 1);
  EXPECT_EQ(message_->questions[0].qtype, kDnsTypeAaaa);
  ASSERT_EQ(message_->answer_count, 1);
  EXPECT_EQ(message_->answers[0].type, kDnsTypeAaaa);
  EXPECT_EQ(message_->answers[0].address, V6("2607:f8b0:400f:801::200e"));  // dns.aaaa
}

// dns-a-aaaa-mx.pcap frame 6: five MX answers, which carry no address.
TEST_F(DnsCaptureTest, GoogleMxResponseHasNoAddress) {
  const auto frames = ReadCapture("dns-a-aaaa-mx.pcap");
  ASSERT_EQ(ParseDnsMessage(PayloadOf(frames, 6), *message_), DnsStatus::kOk);
  EXPECT_EQ(message_->id, 0x5616);
  ASSERT_EQ(message_->answer_count, 5);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(message_->answers[i].type, 15) << i;  // dns.resp.type: MX
    EXPECT_EQ(message_->answers[i].ttl, 599u) << i;
    EXPECT_EQ(message_->answers[i].address, IpAddress{}) << i;
  }
}

// dns-v4v6-tcp-ipfrag.pcap frame 9: CNAME, RRSIG, A, RRSIG.
TEST_F(DnsCaptureTest, CnameAndSignatureAnswers) {
  const auto frames = ReadCapture("dns-v4v6-tcp-ipfrag.pcap");
  ASSERT_EQ(ParseDnsMessage(PayloadOf(frames, 9), *message_), DnsStatus::kOk);
  EXPECT_EQ(message_->id, 0xf779);
  EXPECT_EQ(message_->questions[0].name.view(), "atlas.ripe.net");
  ASSERT_EQ(message_->answer_count, 4);
  EXPECT_EQ(message_->answers[0].type, kDnsTypeCname);
  EXPECT_EQ(message_->answers[0].ttl, 21600u);
  EXPECT_EQ(message_->answers[0].name.view(), "atlas.ripe.net");
  EXPECT_EQ(message_->answers[0].target.view(), "atlas-ui.ripe.net");  // dns.cname
  EXPECT_EQ(message_->answers[1].type, 46);  // RRSIG
  EXPECT_EQ(message_->answers[2].type, kDnsTypeA);
  EXPECT_EQ(message_->answers[2].name.view(), "atlas-ui.ripe.net");
  EXPECT_EQ(message_->answers[2].address, V4("193.0.6.158"));  // dns.a
  EXPECT_EQ(message_->answers[3].type, 46);
}

// dns-v4v6-tcp-ipfrag.pcap frame 44: two chained CNAMEs, then eight A answers.
TEST_F(DnsCaptureTest, CnameChainWithEightAddresses) {
  const auto frames = ReadCapture("dns-v4v6-tcp-ipfrag.pcap");
  ASSERT_EQ(ParseDnsMessage(PayloadOf(frames, 44), *message_), DnsStatus::kOk);
  EXPECT_EQ(message_->id, 0xfad2);
  ASSERT_EQ(message_->answer_count, 10);
  EXPECT_EQ(message_->answers[0].name.view(), "www.netflix.com");
  EXPECT_EQ(message_->answers[0].target.view(), "www.geo.netflix.com");
  EXPECT_EQ(message_->answers[1].name.view(), "www.geo.netflix.com");
  EXPECT_EQ(message_->answers[1].target.view(), "www.eu-west-1.prodaa.netflix.com");
  const char* const expected[] = {
      "34.253.36.84",   "52.208.174.58",  "54.229.85.178", "54.194.103.216",
      "54.154.12.178",  "54.194.216.197", "54.77.199.154", "34.252.114.84",
  };
  for (size_t i = 0; i < std::size(expected); ++i) {
    const DnsAnswer& answer = message_->answers[2 + i];
    EXPECT_EQ(answer.name.view(), "www.eu-west-1.prodaa.netflix.com") << i;
    EXPECT_EQ(answer.ttl, 60u) << i;
    EXPECT_EQ(answer.address, V4(expected[i])) << i;
  }
}

// dns-v4v6-tcp-ipfrag.pcap frame 80: two AAAA answers over IPv6.
TEST_F(DnsCaptureTest, TwoAaaaAnswersOverIpv6) {
  const auto frames = ReadCapture("dns-v4v6-tcp-ipfrag.pcap");
  ASSERT_EQ(frames[79].info.ip_version, 6);
  ASSERT_EQ(ParseDnsMessage(PayloadOf(frames, 80), *message_), DnsStatus::kOk);
  EXPECT_EQ(message_->questions[0].name.view(), "erfpop.de");
  ASSERT_EQ(message_->answer_count, 2);
  EXPECT_EQ(message_->answers[0].address, V6("2606:4700:30::6818:6291"));
  EXPECT_EQ(message_->answers[1].address, V6("2606:4700:30::6818:6391"));
}

struct CaptureRow {
  uint32_t frame;
  uint16_t id;             // dns.id
  bool is_response;        // dns.flags.response
  uint8_t rcode;           // dns.flags.rcode (0 when tshark omits it for queries)
  const char* qname;       // dns.qry.name
  uint16_t qtype;          // dns.qry.type
  uint16_t ancount;        // dns.count.answers
};

// Every DNS frame of dns-v4v6-tcp-ipfrag.pcap that is not an IP fragment, as tshark
// dissects it: tshark -T fields -e frame.number -e dns.id -e dns.flags.response
// -e dns.flags.rcode -e dns.qry.name -e dns.qry.type -e dns.count.answers.
constexpr CaptureRow kCaptureRows[] = {
    {1, 0xbc8d, true, 0, "weberdns.de", 6, 1},
    {2, 0xa641, false, 0, "ns1.weberdns.de", 1, 0},
    {3, 0xa641, true, 0, "ns1.weberdns.de", 1, 2},
    {4, 0xbc38, false, 0, "ns1.weberdns.de", 1, 0},
    {5, 0xbc38, true, 0, "ns1.weberdns.de", 1, 2},
    {6, 0xc137, true, 0, "weberdns.de", 48, 4},
    {7, 0x1e6c, false, 0, "weberdns.de", 6, 0},
    {8, 0x1e6c, true, 0, "weberdns.de", 6, 1},
    {9, 0xf779, true, 0, "atlas.ripe.net", 1, 4},
    {10, 0xcf5b, true, 0, "ripe.net", 48, 2},
    {11, 0x183a, true, 0, "ripe.net", 48, 3},
    {12, 0x65a2, true, 0, "ripe.net", 43, 2},
    {13, 0xf238, true, 0, "ripe.net", 43, 2},
    {14, 0x1c3b, true, 0, "atlas-ui.ripe.net", 1, 2},
    {15, 0xea79, true, 0, "atlas-ui.ripe.net", 1, 2},
    {16, 0xa067, true, 0, "atlas.ripe.net", 1, 2},
    {17, 0xca9f, true, 0, "www.netflix.com", 1, 0},
    {18, 0x21c5, true, 0, "www.netflix.com", 1, 0},
    {19, 0x77a7, true, 0, "www.netflix.com", 1, 1},
    {20, 0x1c9d, true, 0, "ns-1984.awsdns-56.co.uk", 1, 0},
    {21, 0x6407, true, 0, "ns-1984.awsdns-56.co.uk", 28, 0},
    {22, 0xba73, true, 0, "netflix.com", 43, 0},
    {23, 0xe45e, true, 0, "ns-659.awsdns-18.net", 1, 1},
    {24, 0x32b8, true, 0, "ns-659.awsdns-18.net", 28, 1},
    {25, 0xbc80, true, 0, "netflix.com", 43, 0},
    {26, 0x947d, true, 0, "ns-1984.awsdns-56.co.uk", 1, 0},
    {27, 0x3409, true, 0, "ns-1984.awsdns-56.co.uk", 28, 0},
    {28, 0xf87b, true, 0, "www.geo.netflix.com", 1, 0},
    {29, 0xac62, true, 0, "ns-1984.awsdns-56.co.uk", 28, 1},
    {30, 0xc825, true, 0, "ns-1984.awsdns-56.co.uk", 1, 1},
    {31, 0x5576, true, 0, "pdns154.ultradns.net", 1, 1},
    {32, 0x41c4, true, 0, "pdns154.ultradns.biz", 28, 1},
    {33, 0x7100, true, 0, "pdns154.ultradns.com", 28, 1},
    {34, 0x41be, true, 0, "pdns154.ultradns.org", 28, 1},
    {35, 0x451a, true, 0, "pdns154.ultradns.net", 28, 1},
    {36, 0x859f, true, 0, "www.geo.netflix.com", 1, 1},
    {37, 0xe028, true, 0, "pdns154.ultradns.biz", 1, 1},
    {38, 0x02e9, true, 0, "pdns154.ultradns.com", 1, 1},
    {39, 0x6468, true, 0, "www.eu-west-1.prodaa.netflix.com", 1, 0},
    {40, 0xbfd2, true, 0, "pdns154.ultradns.org", 1, 1},
    {41, 0x5999, true, 0, "ns-1606.awsdns-08.co.uk", 1, 1},
    {42, 0x541d, true, 0, "ns-1606.awsdns-08.co.uk", 28, 1},
    {43, 0x9806, true, 0, "www.eu-west-1.prodaa.netflix.com", 1, 8},
    {44, 0xfad2, true, 0, "www.netflix.com", 1, 10},
    {45, 0x2b13, true, 0, "ns-375.awsdns-46.com", 28, 1},
    {46, 0x45f4, true, 0, "ns-375.awsdns-46.com", 1, 1},
    {47, 0x4922, true, 0, "ns-749.awsdns-29.net", 28, 1},
    {48, 0x0301, true, 0, "ns-749.awsdns-29.net", 1, 1},
    {49, 0x75ce, true, 0, "ns-1372.awsdns-43.org", 1, 1},
    {50, 0xdd10, true, 0, "ns-1372.awsdns-43.org", 28, 1},
    {51, 0xb768, true, 0, "ns-1489.awsdns-58.org", 1, 1},
    {52, 0x1ca2, true, 0, "ns-1489.awsdns-58.org", 28, 1},
    {55, 0xe9c4, false, 0, "pa.weberlab.de", 28, 0},
    {56, 0x0a32, false, 0, "fg2.weberlab.de", 1, 0},
    {57, 0xa17d, false, 0, "fg2.weberlab.de", 1, 0},
    {60, 0xa438, false, 0, "fg2.weberlab.de", 28, 0},
    {61, 0xa438, true, 0, "fg2.weberlab.de", 28, 0},
    {64, 0x9e06, false, 0, "fg2.weberlab.de", 28, 0},
    {65, 0x9e06, true, 0, "fg2.weberlab.de", 28, 0},
    {66, 0xb9c8, false, 0, "fg2-mgmt.weberlab.de", 28, 0},
    {67, 0xb9c8, true, 0, "fg2-mgmt.weberlab.de", 28, 1},
    {68, 0xbda9, false, 0, "fg2-mgmt.weberlab.de", 28, 0},
    {69, 0xbda9, true, 0, "fg2-mgmt.weberlab.de", 28, 1},
    {70, 0xdd84, false, 0, "fg2-mgmt.weberlab.de", 28, 0},
    {71, 0xdd84, true, 0, "fg2-mgmt.weberlab.de", 28, 1},
    {72, 0xea02, false, 0, "fg2-mgmt.weberlab.de", 28, 0},
    {73, 0xea02, true, 0, "fg2-mgmt.weberlab.de", 28, 1},
    {74, 0x91df, false, 0, "sigok.verteiltesysteme.net", 1, 0},
    {75, 0x91df, true, 0, "sigok.verteiltesysteme.net", 1, 1},
    {76, 0xfac7, false, 0, "sigfail.verteiltesysteme.net", 1, 0},
    {77, 0x06e4, false, 0, "formel1.de", 1, 0},
    {78, 0x06e4, true, 0, "formel1.de", 1, 1},
    {79, 0x8cec, false, 0, "erfpop.de", 28, 0},
    {80, 0x8cec, true, 0, "erfpop.de", 28, 2},
    {81, 0xc2a0, false, 0, "weberlab.de", 48, 0},
    {82, 0xc2a0, false, 0, "weberlab.de", 48, 0},
    {83, 0x89ce, false, 0, "weberlab.de", 48, 0},
    {86, 0x3f7f, true, 0, "ns2.weberdns.de", 28, 1},
    {87, 0xe8df, true, 0, "ns2.weberdns.de", 1, 1},
    {88, 0x06da, false, 0, "weberlab.de", 48, 0},
    {89, 0x06da, true, 0, "weberlab.de", 48, 4},
};

TEST_F(DnsCaptureTest, EveryMessageOfCaptureParses) {
  const auto frames = ReadCapture("dns-v4v6-tcp-ipfrag.pcap");
  ASSERT_EQ(frames.size(), 89u);
  for (const CaptureRow& row : kCaptureRows) {
    SCOPED_TRACE(::testing::Message() << "frame " << row.frame);
    const testing::CapturedFrame& frame = frames[row.frame - 1];
    ASSERT_FALSE(frame.info.is_fragment);
    std::span<const std::byte> bytes = frame.payload;
    if (frame.info.protocol == kIpProtoTcp) {
      DnsTcpFrame tcp_frame;
      ASSERT_EQ(NextDnsTcpMessage(bytes, tcp_frame), DnsTcpStatus::kComplete);
      EXPECT_EQ(tcp_frame.frame_length, bytes.size());
      bytes = tcp_frame.message;
    }
    ASSERT_EQ(ParseDnsMessage(bytes, *message_), DnsStatus::kOk);
    EXPECT_EQ(message_->id, row.id);
    EXPECT_EQ(message_->is_response, row.is_response);
    EXPECT_EQ(message_->rcode, row.rcode);
    ASSERT_EQ(message_->question_count, 1);
    EXPECT_EQ(message_->questions[0].name.view(), row.qname);
    EXPECT_EQ(message_->questions[0].qtype, row.qtype);
    EXPECT_EQ(message_->ancount, row.ancount);
    EXPECT_EQ(message_->answer_count, row.ancount);
  }
}

// dns-v4v6-tcp-ipfrag.pcap frame 53 is the first IPv4 fragment of the response that
// tshark reassembles in frame 54 (dns.id 0xd43f, four answers with dns.resp.len 520, 264,
// 543 and 287). The fragment contains 1472 octets of the message, which ends the fourth
// answer's RDATA early: three answers parse and the fourth is a truncated record.
TEST_F(DnsCaptureTest, FirstIpFragmentEndsInTruncatedRecord) {
  const auto frames = ReadCapture("dns-v4v6-tcp-ipfrag.pcap");
  ASSERT_TRUE(frames[52].info.is_first_fragment);
  ASSERT_EQ(frames[52].payload.size(), 1472u);
  EXPECT_EQ(ParseDnsMessage(PayloadOf(frames, 53), *message_), DnsStatus::kTruncatedRecord);
  EXPECT_EQ(message_->id, 0xd43f);
  EXPECT_EQ(message_->ancount, 4);
  EXPECT_EQ(message_->questions[0].name.view(), "weberlab.de");
  ASSERT_EQ(message_->answer_count, 3);
  EXPECT_EQ(message_->answers[0].type, 48);  // DNSKEY
  EXPECT_EQ(message_->answers[2].type, 46);  // RRSIG
}

// dns-v4v6-tcp-ipfrag.pcap frames 88 and 89: a DNSKEY query and its answer over IPv4 TCP.
// tcp.len 54 and 1732, dns.length 52 and 1730.
TEST_F(DnsCaptureTest, QueryAndResponseOverTcp) {
  const auto frames = ReadCapture("dns-v4v6-tcp-ipfrag.pcap");
  const std::vector<std::byte> query = PayloadOf(frames, 88);
  DnsTcpFrame frame;
  ASSERT_EQ(NextDnsTcpMessage(query, frame), DnsTcpStatus::kComplete);
  EXPECT_EQ(frame.message.size(), 52u);
  ASSERT_EQ(ParseDnsMessage(frame.message, *message_), DnsStatus::kOk);
  EXPECT_EQ(message_->id, 0x06da);
  EXPECT_FALSE(message_->is_response);

  const std::vector<std::byte> response = PayloadOf(frames, 89);
  ASSERT_EQ(NextDnsTcpMessage(response, frame), DnsTcpStatus::kComplete);
  EXPECT_EQ(frame.message.size(), 1730u);
  ASSERT_EQ(ParseDnsMessage(frame.message, *message_), DnsStatus::kOk);
  EXPECT_EQ(message_->id, 0x06da);
  EXPECT_TRUE(message_->is_response);
  ASSERT_EQ(message_->answer_count, 4);
  // dns.resp.type of the answer section: DNSKEY, DNSKEY, RRSIG, RRSIG.
  EXPECT_EQ(message_->answers[0].type, 48);
  EXPECT_EQ(message_->answers[1].type, 48);
  EXPECT_EQ(message_->answers[2].type, 46);
  EXPECT_EQ(message_->answers[3].type, 46);
}

// dns-v4v6-tcp-ipfrag.pcap frame 13: a DS response over IPv6 TCP (dns.length 1204).
TEST_F(DnsCaptureTest, ResponseOverIpv6Tcp) {
  const auto frames = ReadCapture("dns-v4v6-tcp-ipfrag.pcap");
  ASSERT_EQ(frames[12].info.ip_version, 6);
  const std::vector<std::byte> stream = PayloadOf(frames, 13);
  DnsTcpFrame frame;
  ASSERT_EQ(NextDnsTcpMessage(stream, frame), DnsTcpStatus::kComplete);
  EXPECT_EQ(frame.message.size(), 1204u);
  ASSERT_EQ(ParseDnsMessage(frame.message, *message_), DnsStatus::kOk);
  EXPECT_EQ(message_->id, 0xf238);
  EXPECT_EQ(message_->questions[0].name.view(), "ripe.net");
  EXPECT_EQ(message_->questions[0].qtype, 43);  // DS
  EXPECT_EQ(message_->answer_count, 2);
}

TEST_F(DnsCaptureTest, TcpMessageSplitNeedsMoreBytes) {
  const auto frames = ReadCapture("dns-v4v6-tcp-ipfrag.pcap");
  const std::vector<std::byte> stream = PayloadOf(frames, 89);
  ASSERT_EQ(stream.size(), 1732u);
  DnsTcpFrame frame;
  for (size_t cut = 0; cut < stream.size(); ++cut) {
    ASSERT_EQ(NextDnsTcpMessage(std::span(stream).first(cut), frame),
              DnsTcpStatus::kNeedMoreBytes)
        << cut;
    EXPECT_EQ(frame.frame_length, cut < 2 ? 2u : 1732u) << cut;
  }
  EXPECT_EQ(NextDnsTcpMessage(stream, frame), DnsTcpStatus::kComplete);
}

TEST_F(DnsCaptureTest, TwoTcpMessagesInOneStream) {
  const auto frames = ReadCapture("dns-v4v6-tcp-ipfrag.pcap");
  std::vector<std::byte> stream = PayloadOf(frames, 88);
  const std::vector<std::byte> second = PayloadOf(frames, 89);
  stream.insert(stream.end(), second.begin(), second.end());

  DnsTcpFrame frame;
  ASSERT_EQ(NextDnsTcpMessage(stream, frame), DnsTcpStatus::kComplete);
  ASSERT_EQ(frame.frame_length, 54u);
  ASSERT_EQ(ParseDnsMessage(frame.message, *message_), DnsStatus::kOk);
  EXPECT_FALSE(message_->is_response);
  ASSERT_EQ(NextDnsTcpMessage(std::span(stream).subspan(54), frame), DnsTcpStatus::kComplete);
  ASSERT_EQ(ParseDnsMessage(frame.message, *message_), DnsStatus::kOk);
  EXPECT_TRUE(message_->is_response);
}

// Every prefix of dns-a-aaaa-mx.pcap frame 2 (header, question, twelve 16-octet answers)
// fails with a named status and keeps exactly the answers that are complete.
TEST_F(DnsCaptureTest, AnswerCutAtEveryLength) {
  const auto frames = ReadCapture("dns-a-aaaa-mx.pcap");
  const std::vector<std::byte> full = PayloadOf(frames, 2);
  constexpr size_t kFirstAnswer = 12 + 16;  // Header, then "google.com" A IN.
  constexpr size_t kAnswerLength = 16;      // Pointer, fixed fields, IPv4 address.
  for (size_t cut = 0; cut < kFirstAnswer + 12 * kAnswerLength; ++cut) {
    SCOPED_TRACE(::testing::Message() << "cut at " << cut);
    const DnsStatus status = ParseDnsMessage(std::span(full).first(cut), *message_);
    if (cut < kDnsHeaderLength) {
      EXPECT_EQ(status, DnsStatus::kTruncatedHeader);
    } else if (cut < kFirstAnswer) {
      EXPECT_TRUE(status == DnsStatus::kTruncatedName || status == DnsStatus::kTruncatedQuestion);
    } else {
      EXPECT_TRUE(status == DnsStatus::kTruncatedName || status == DnsStatus::kTruncatedRecord);
      EXPECT_EQ(message_->answer_count, (cut - kFirstAnswer) / kAnswerLength);
    }
  }
  // The response ends with an OPT record in the additional section, which is not read.
  EXPECT_EQ(ParseDnsMessage(std::span(full).first(kFirstAnswer + 12 * kAnswerLength),
                            *message_),
            DnsStatus::kOk);
}

TEST(DnsName, PointerToItself) {
  const auto message = Message(0, 1, 0, {0xC0, 0x0C, 0, 1, 0, 1});
  DnsName name;
  EXPECT_EQ(ReadFirstName(message, name), DnsStatus::kForwardPointer);
}

TEST(DnsName, ForwardPointer) {
  // Offset 12 points to offset 14, where a valid name "a" starts.
  const auto message = Message(0, 1, 0, {0xC0, 0x0E, 0x01, 'a', 0x00});
  DnsName name;
  EXPECT_EQ(ReadFirstName(message, name), DnsStatus::kForwardPointer);
}

TEST(DnsName, TwoPointersPointingAtEachOther) {
  // Offset 12 points forward to 14, whose pointer leads back to 12.
  const auto message = Message(0, 1, 0, {0xC0, 0x0E, 0xC0, 0x0C});
  DnsName name;
  EXPECT_EQ(ReadFirstName(message, name), DnsStatus::kForwardPointer);
  size_t next_offset = 0;
  EXPECT_EQ(ReadDnsName(message, 14, name, next_offset), DnsStatus::kForwardPointer);
}

TEST(DnsName, LoopThroughTwoBackwardPointers) {
  // Both pointers point backwards, yet they form a cycle. Pointer A (offset 30) leads to
  // offset 20, whose label "x" ends at pointer B (offset 22). B leads to offset 19, whose
  // 4-octet label spans B itself, and the label after it, at offset 24, ends at A.
  std::vector<uint8_t> body = {6, 'a', 'b', 'c', 'd', 'e', 'f'};  // Offsets 12-18.
  Append(body, {4});                                                // 19: label of 4
  Append(body, {1, 'x'});                                           // 20: label "x"
  Append(body, {0xC0, 19});                                         // 22: pointer B
  Append(body, {5, 'a', 'b', 'c', 'd', 'e'});                       // 24: label of 5
  Append(body, {0xC0, 20});                                         // 30: pointer A
  const auto message = Message(0, 1, 0, body);
  DnsName name;
  EXPECT_EQ(ReadFirstName(message, name), DnsStatus::kTooManyPointers);
}

TEST(DnsName, LoopThroughOneBackwardPointer) {
  // Label "a" at offset 12, then a pointer back to it.
  const auto message = Message(0, 1, 0, {1, 'a', 0xC0, 0x0C});
  DnsName name;
  EXPECT_EQ(ReadFirstName(message, name), DnsStatus::kTooManyPointers);
}

TEST(DnsName, SixteenPointersAccepted) {
  // "a" at offset 12, then 16 pointers, each to the one before it. Reading from the last
  // pointer takes exactly 16 hops.
  std::vector<uint8_t> body = {1, 'a', 0};
  for (int i = 0; i < kMaxDnsPointerHops; ++i) {
    const size_t previous = 12 + (i == 0 ? 0 : 3 + 2 * (i - 1));
    Append(body, {0xC0, static_cast<uint8_t>(previous)});
  }
  const auto message = Message(0, 1, 0, body);
  DnsName name;
  size_t next_offset = 0;
  const size_t last_pointer = message.size() - 2;
  std::vector<std::byte> with_one_more = message;
  with_one_more.push_back(std::byte{0xC0});
  with_one_more.push_back(static_cast<std::byte>(last_pointer));
  ASSERT_EQ(ReadDnsName(with_one_more, last_pointer + 2, name, next_offset),
            DnsStatus::kTooManyPointers);
  ASSERT_EQ(ReadDnsName(message, last_pointer, name, next_offset), DnsStatus::kOk);
  EXPECT_EQ(name.view(), "a");
  EXPECT_EQ(next_offset, message.size());
}

TEST(DnsName, LongestNameAccepted) {
  // 64 + 64 + 64 + 62 octets of labels plus the root octet: 255 in wire format.
  const std::string label63(63, 'a');
  const std::string label61(61, 'b');
  std::vector<uint8_t> body = WireName({label63, label63, label63, label61});
  ASSERT_EQ(body.size(), 255u);
  const auto message = Message(0, 1, 0, body);
  DnsName name;
  ASSERT_EQ(ReadFirstName(message, name), DnsStatus::kOk);
  EXPECT_EQ(name.length, 253);
  EXPECT_EQ(name.view(), label63 + "." + label63 + "." + label63 + "." + label61);
  EXPECT_EQ(name.text[name.length], '\0');
}

TEST(DnsName, NameOf256OctetsRejected) {
  const std::string label63(63, 'a');
  const std::vector<uint8_t> body = WireName({label63, label63, label63, std::string(62, 'b')});
  ASSERT_EQ(body.size(), 256u);
  const auto message = Message(0, 1, 0, body);
  DnsName name;
  EXPECT_EQ(ReadFirstName(message, name), DnsStatus::kNameTooLong);
}

TEST(DnsName, CompressedNameTooLong) {
  // Each name is a 63-octet label and a pointer to the name before it, so the fifth
  // expands to 5 * 64 + 1 octets.
  const std::string label63(63, 'c');
  std::vector<uint8_t> body = WireName({label63});
  size_t previous = 12;
  for (int i = 0; i < 4; ++i) {
    const size_t start = 12 + body.size();
    body.push_back(63);
    body.insert(body.end(), label63.begin(), label63.end());
    Append(body, {0xC0, static_cast<uint8_t>(previous)});
    previous = start;
  }
  const auto message = Message(0, 1, 0, body);
  DnsName name;
  size_t next_offset = 0;
  EXPECT_EQ(ReadDnsName(message, previous, name, next_offset), DnsStatus::kNameTooLong);
}

TEST(DnsName, ReservedLabelTypes) {
  DnsName name;
  EXPECT_EQ(ReadFirstName(Message(0, 1, 0, {0x40, 'a', 0}), name),
            DnsStatus::kReservedLabelType);
  EXPECT_EQ(ReadFirstName(Message(0, 1, 0, {0x80, 'a', 0}), name),
            DnsStatus::kReservedLabelType);
}

TEST(DnsName, TruncatedLabelAndPointer) {
  DnsName name;
  EXPECT_EQ(ReadFirstName(Message(0, 1, 0, {3, 'a', 'b'}), name), DnsStatus::kTruncatedName);
  EXPECT_EQ(ReadFirstName(Message(0, 1, 0, {1, 'a'}), name), DnsStatus::kTruncatedName);
  EXPECT_EQ(ReadFirstName(Message(0, 1, 0, {0xC0}), name), DnsStatus::kTruncatedName);
  EXPECT_EQ(ReadFirstName(Message(0, 1, 0, {}), name), DnsStatus::kTruncatedName);
}

TEST(DnsName, CaseFoldedAndRawOctetsKept) {
  // "WwW", "B\xC3\xBCcher" (UTF-8 for "Bücher", as sent without IDNA), "DE".
  const auto message = Message(0, 1, 0, WireName({"WwW", "B\xC3\xBC" "cher", "DE"}));
  DnsName name;
  ASSERT_EQ(ReadFirstName(message, name), DnsStatus::kOk);
  EXPECT_EQ(name.view(), "www.b\xC3\xBC" "cher.de");
  EXPECT_FALSE(name.label_contains_dot);
}

TEST(DnsName, DotInsideLabelFlagged) {
  const auto message = Message(0, 1, 0, WireName({"evil.com", "example"}));
  DnsName name;
  ASSERT_EQ(ReadFirstName(message, name), DnsStatus::kOk);
  EXPECT_EQ(name.view(), "evil.com.example");
  EXPECT_TRUE(name.label_contains_dot);
}

TEST(DnsName, RootNameIsEmpty) {
  const auto message = Message(0, 1, 0, {0});
  DnsName name;
  size_t next_offset = 0;
  ASSERT_EQ(ReadDnsName(message, 12, name, next_offset), DnsStatus::kOk);
  EXPECT_EQ(name.length, 0);
  EXPECT_EQ(next_offset, 13u);
}

TEST(DnsParser, TruncatedHeader) {
  auto message = std::make_unique<DnsMessage>();
  EXPECT_EQ(ParseDnsMessage({}, *message), DnsStatus::kTruncatedHeader);
  const auto bytes = Message(0, 0, 0, {});
  EXPECT_EQ(ParseDnsMessage(std::span(bytes).first(11), *message),
            DnsStatus::kTruncatedHeader);
  EXPECT_EQ(ParseDnsMessage(bytes, *message), DnsStatus::kOk);
}

TEST(DnsParser, HeaderFlags) {
  // QR, opcode 2 (STATUS), TC, rcode 3 (NXDOMAIN).
  const auto bytes = Message(0x8000 | 2 << 11 | 0x0200 | 3, 0, 0, {});
  auto message = std::make_unique<DnsMessage>();
  ASSERT_EQ(ParseDnsMessage(bytes, *message), DnsStatus::kOk);
  EXPECT_EQ(message->id, 0x1234);
  EXPECT_TRUE(message->is_response);
  EXPECT_EQ(message->opcode, 2);
  EXPECT_TRUE(message->truncated);
  EXPECT_EQ(message->rcode, 3);
}

// An A answer for "example.com" with a pointer to the question name at offset 12.
std::vector<uint8_t> AnswerA(uint8_t last_octet) {
  return {0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4, 192, 0, 2, last_octet};
}

TEST(DnsParser, MoreAnswersThanStored) {
  std::vector<uint8_t> body = WireName({"example", "com"});
  Append(body, {0, 1, 0, 1});
  for (int i = 0; i < 40; ++i) {
    const std::vector<uint8_t> answer = AnswerA(static_cast<uint8_t>(i));
    body.insert(body.end(), answer.begin(), answer.end());
  }
  auto message = std::make_unique<DnsMessage>();
  ASSERT_EQ(ParseDnsMessage(Message(0x8000, 1, 40, body), *message), DnsStatus::kOk);
  EXPECT_EQ(message->ancount, 40);
  EXPECT_EQ(message->answer_count, kMaxDnsAnswers);
  EXPECT_EQ(message->skipped_answer_count, 40 - kMaxDnsAnswers);
  EXPECT_EQ(message->answers[31].address, V4("192.0.2.31"));
  EXPECT_EQ(message->answers[31].ttl, 3600u);
}

TEST(DnsParser, MoreQuestionsThanStored) {
  std::vector<uint8_t> body;
  for (int i = 0; i < 10; ++i) {
    const std::vector<uint8_t> name = WireName({std::string(1, static_cast<char>('a' + i))});
    body.insert(body.end(), name.begin(), name.end());
    Append(body, {0, 28, 0, 1});
  }
  // An answer after the ten questions, to show that the skipped ones were still walked.
  Append(body, {1, 'z', 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1});
  auto message = std::make_unique<DnsMessage>();
  ASSERT_EQ(ParseDnsMessage(Message(0x8000, 10, 1, body), *message), DnsStatus::kOk);
  EXPECT_EQ(message->question_count, kMaxDnsQuestions);
  EXPECT_EQ(message->skipped_question_count, 10 - kMaxDnsQuestions);
  EXPECT_EQ(message->questions[7].name.view(), "h");
  ASSERT_EQ(message->answer_count, 1);
  EXPECT_EQ(message->answers[0].name.view(), "z");
  EXPECT_EQ(message->answers[0].address, V4("10.0.0.1"));
}

TEST(DnsParser, QuestionWithoutTypeAndClass) {
  std::vector<uint8_t> body = WireName({"example", "com"});
  Append(body, {0, 1, 0});
  auto message = std::make_unique<DnsMessage>();
  EXPECT_EQ(ParseDnsMessage(Message(0, 1, 0, body), *message),
            DnsStatus::kTruncatedQuestion);
  EXPECT_EQ(message->question_count, 0);
}

TEST(DnsParser, AddressLengthMismatch) {
  std::vector<uint8_t> body = WireName({"example", "com"});
  Append(body, {0, 1, 0, 1});
  std::vector<uint8_t> with_a = body;
  std::vector<uint8_t> with_aaaa = body;
  // An A record with five octets of RDATA, and an AAAA record with four.
  Append(with_a, {0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 5, 192, 0, 2, 1, 9});
  Append(with_aaaa, {0xC0, 0x0C, 0, 28, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1});
  auto message = std::make_unique<DnsMessage>();
  EXPECT_EQ(ParseDnsMessage(Message(0x8000, 1, 1, with_a), *message),
            DnsStatus::kBadRecordLength);
  EXPECT_EQ(ParseDnsMessage(Message(0x8000, 1, 1, with_aaaa), *message),
            DnsStatus::kBadRecordLength);
}

TEST(DnsParser, AddressOfOtherClassIgnored) {
  std::vector<uint8_t> body = WireName({"version", "bind"});
  Append(body, {0, 1, 0, 3});
  // Class CH (3): the A record of Chaosnet has another RDATA layout.
  Append(body, {0xC0, 0x0C, 0, 1, 0, 3, 0, 0, 0, 0, 0, 2, 0x01, 0x02});
  auto message = std::make_unique<DnsMessage>();
  ASSERT_EQ(ParseDnsMessage(Message(0x8000, 1, 1, body), *message), DnsStatus::kOk);
  ASSERT_EQ(message->answer_count, 1);
  EXPECT_EQ(message->answers[0].rclass, 3);
  EXPECT_EQ(message->answers[0].address, IpAddress{});
}

TEST(DnsParser, CnameTargetMustFillRdata) {
  std::vector<uint8_t> body = WireName({"www", "example", "com"});
  Append(body, {0, 1, 0, 1});
  // CNAME RDATA of 7 octets whose name ("cdn" + pointer to "example.com") takes 6.
  Append(body, {0xC0, 0x0C, 0, 5, 0, 1, 0, 0, 0, 60, 0, 7, 3, 'c', 'd', 'n', 0xC0, 16, 0xFF});
  auto message = std::make_unique<DnsMessage>();
  EXPECT_EQ(ParseDnsMessage(Message(0x8000, 1, 1, body), *message),
            DnsStatus::kBadRecordLength);

  body[body.size() - 8] = 6;  // RDLENGTH
  body.pop_back();
  ASSERT_EQ(ParseDnsMessage(Message(0x8000, 1, 1, body), *message), DnsStatus::kOk);
  EXPECT_EQ(message->answers[0].target.view(), "cdn.example.com");
}

TEST(DnsParser, RdataPastEndOfMessage) {
  std::vector<uint8_t> body = WireName({"example", "com"});
  Append(body, {0, 1, 0, 1});
  Append(body, {0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0});
  auto message = std::make_unique<DnsMessage>();
  EXPECT_EQ(ParseDnsMessage(Message(0x8000, 1, 1, body), *message),
            DnsStatus::kTruncatedRecord);
  EXPECT_EQ(message->answer_count, 0);
  EXPECT_EQ(message->question_count, 1);
}

TEST(DnsParser, StatusNamesAreDistinct) {
  std::set<std::string_view> names;
  for (int i = 0; i < kDnsStatusCount; ++i) {
    const std::string_view name = DnsStatusName(static_cast<DnsStatus>(i));
    EXPECT_NE(name, "unknown") << i;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kDnsStatusCount));
}

}  // namespace
}  // namespace sensor::dp
