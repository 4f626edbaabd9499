// Tests for tunnel and mirror encapsulations. Frames are read from capture files: real
// ones under tests/data/pcap and crafted ones under tests/data/crafted (made by
// make_captures.py there). The expected values are tshark 4.0's dissection of the same
// frames, named by file and frame number. Malformed cases edit or truncate those frames.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/decode/decoder.h"
#include "dataplane/decode/packet.h"
#include "tests/dataplane/decode/decode_test_util.h"

namespace sensor::dp {
namespace {

using decode_test::Address;
using decode_test::DecodeFrame;
using decode_test::ExactBuffer;
using decode_test::ExpectPacketInfoEq;
using decode_test::Insert;
using decode_test::ReadCaptureFrames;
using decode_test::StatusFromLength;
using decode_test::Store16;

constexpr char kGreTunnelCapture[] = "pcap/gre-tunnel.pcap";
constexpr char kVxlanCapture[] = "pcap/vxlan-dns-ssh.pcap";
constexpr char kMplsInVlanCapture[] = "pcap/mpls-in-vlan-http.pcap";
constexpr char kDnsCapture[] = "pcap/dns-a-aaaa-mx.pcap";
constexpr char kErspanType1Capture[] = "crafted/erspan-type1.pcap";
constexpr char kErspanType2Capture[] = "crafted/erspan-type2.pcap";
constexpr char kErspanType3Capture[] = "crafted/erspan-type3.pcap";
constexpr char kGtpCapture[] = "crafted/gtpu-extension-header.pcap";
constexpr char kGreKeySequenceCapture[] = "crafted/gre-key-sequence.pcap";
constexpr char kGreEthernetCapture[] = "crafted/gre-transparent-ethernet-vlan.pcap";
constexpr char kMplsInGreCapture[] = "crafted/mpls-in-gre.pcap";
constexpr char kIpv6InIpv4Capture[] = "crafted/ipv6-in-ipv4.pcap";
constexpr char kIpInIpCapture[] = "crafted/ip-in-ip.pcap";
constexpr char kTunnelStackCapture[] = "crafted/tunnel-stack.pcap";
constexpr char kGreUnsupportedCapture[] = "crafted/gre-unsupported.pcap";
constexpr char kGeneveCapture[] = "crafted/geneve-vxlan-gpe.pcap";

constexpr DecodeStatus kOk = DecodeStatus::kOk;

// Offsets in frames whose outer packet is Ethernet, IPv4 without options and, for the UDP
// tunnels, UDP.
constexpr size_t kOuterIpv4TotalLengthOffset = 16;
constexpr size_t kOuterIpv4FragmentOffset = 20;
constexpr size_t kOuterTransportOffset = 34;
constexpr size_t kOuterUdpLengthOffset = 38;
constexpr size_t kUdpTunnelHeaderOffset = 42;

// Returns frame `frame_number` (counted from 1, as tshark does) of a capture under
// tests/data, or an empty frame after a test failure.
std::vector<uint8_t> LoadFrame(const std::string& file, size_t frame_number) {
  const std::vector<std::vector<uint8_t>> frames = ReadCaptureFrames(file);
  if (frame_number == 0 || frame_number > frames.size()) {
    ADD_FAILURE() << file << " has no frame " << frame_number;
    return {};
  }
  return frames[frame_number - 1];
}

uint16_t Load16(std::span<const uint8_t> frame, size_t offset) {
  return static_cast<uint16_t>(frame[offset] << 8 | frame[offset + 1]);
}

// Adds `extra` to a 16-bit length field, as needed after inserting bytes.
void GrowLength(std::vector<uint8_t>& frame, size_t offset, size_t extra) {
  Store16(frame, offset, static_cast<uint16_t>(Load16(frame, offset) + extra));
}

// One frame and the PacketInfo that decoding it must yield.
struct TunnelFrameCase {
  const char* name;
  const char* file;
  size_t frame_number;
  DecodeStatus status;
  PacketInfo expected;
};

void PrintTo(const TunnelFrameCase& test_case, std::ostream* out) { *out << test_case.name; }

class TunnelFrameTest : public testing::TestWithParam<TunnelFrameCase> {};

TEST_P(TunnelFrameTest, DecodesInnermostPacket) {
  const TunnelFrameCase& test_case = GetParam();
  const std::vector<uint8_t> frame = LoadFrame(test_case.file, test_case.frame_number);
  ASSERT_FALSE(frame.empty());
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), test_case.status);
  ExpectPacketInfoEq(info, test_case.expected);
}

// Every value below is tshark's, except the offsets, which are the sums of the header
// lengths that tshark shows.
INSTANTIATE_TEST_SUITE_P(
    RealFrames, TunnelFrameTest,
    testing::Values(
        // gre-tunnel.pcap frame 9: NTP inside GRE.
        TunnelFrameCase{"GreNtp", kGreTunnelCapture, 9, kOk,
                        PacketInfo{
                            .src = Address("66.59.111.190"),
                            .dst = Address("18.26.4.105"),
                            .src_port = 123,
                            .dst_port = 123,
                            .ip_version = 4,
                            .protocol = kIpProtoUdp,
                            .has_ports = true,
                            .ip_length = 76,
                            .l3_offset = 38,
                            .l4_offset = 58,
                            .payload_offset = 66,
                            .payload_length = 48,
                            .tunnel = {.outer_src = Address("172.27.1.66"),
                                       .outer_dst = Address("66.59.109.137"),
                                       .depth = 1,
                                       .type = TunnelType::kGre},
                        }},
        // gre-tunnel.pcap frame 11: the SSH SYN (with ECE and CWR) inside GRE.
        TunnelFrameCase{"GreSshSyn", kGreTunnelCapture, 11, kOk,
                        PacketInfo{
                            .src = Address("66.59.111.190"),
                            .dst = Address("172.28.2.3"),
                            .src_port = 40264,
                            .dst_port = 22,
                            .ip_version = 4,
                            .protocol = kIpProtoTcp,
                            .tcp_flags = 0xC2,
                            .has_ports = true,
                            .ip_length = 60,
                            .l3_offset = 38,
                            .l4_offset = 58,
                            .payload_offset = 98,
                            .payload_length = 0,
                            .tunnel = {.outer_src = Address("172.27.1.66"),
                                       .outer_dst = Address("66.59.109.137"),
                                       .depth = 1,
                                       .type = TunnelType::kGre},
                        }},
        // gre-tunnel.pcap frame 33: a DNS query inside GRE.
        TunnelFrameCase{"GreDns", kGreTunnelCapture, 33, kOk,
                        PacketInfo{
                            .src = Address("66.59.111.190"),
                            .dst = Address("172.28.2.3"),
                            .src_port = 37675,
                            .dst_port = 53,
                            .ip_version = 4,
                            .protocol = kIpProtoUdp,
                            .has_ports = true,
                            .ip_length = 61,
                            .l3_offset = 38,
                            .l4_offset = 58,
                            .payload_offset = 66,
                            .payload_length = 33,
                            .tunnel = {.outer_src = Address("172.27.1.66"),
                                       .outer_dst = Address("66.59.109.137"),
                                       .depth = 1,
                                       .type = TunnelType::kGre},
                        }},
        // gre-tunnel.pcap frame 34: the ICMP port unreachable sent back for frame 33's
        // query. The packet it quotes is ICMP payload.
        TunnelFrameCase{"GreIcmpError", kGreTunnelCapture, 34, kOk,
                        PacketInfo{
                            .src = Address("172.28.2.3"),
                            .dst = Address("66.59.111.190"),
                            .ip_version = 4,
                            .protocol = kIpProtoIcmp,
                            .icmp_type = 3,
                            .icmp_code = 3,
                            .ip_length = 89,
                            .l3_offset = 38,
                            .l4_offset = 58,
                            .payload_offset = 62,
                            .payload_length = 65,
                            .tunnel = {.outer_src = Address("66.59.109.137"),
                                       .outer_dst = Address("172.27.1.66"),
                                       .depth = 1,
                                       .type = TunnelType::kGre},
                        }},
        // vxlan-dns-ssh.pcap frame 1: NTP inside VXLAN VNI 5569041.
        TunnelFrameCase{"VxlanNtp", kVxlanCapture, 1, kOk,
                        PacketInfo{
                            .src = Address("172.31.0.238"),
                            .dst = Address("78.46.93.39"),
                            .src_port = 60631,
                            .dst_port = 123,
                            .ip_version = 4,
                            .protocol = kIpProtoUdp,
                            .has_ports = true,
                            .ip_length = 76,
                            .l3_offset = 64,
                            .l4_offset = 84,
                            .payload_offset = 92,
                            .payload_length = 48,
                            .tunnel = {.outer_src = Address("172.31.0.238"),
                                       .outer_dst = Address("172.31.17.188"),
                                       .id = 5569041,
                                       .has_id = true,
                                       .depth = 1,
                                       .type = TunnelType::kVxlan},
                        }},
        // vxlan-dns-ssh.pcap frame 3: an SSH SYN inside VXLAN.
        TunnelFrameCase{"VxlanSshSyn", kVxlanCapture, 3, kOk,
                        PacketInfo{
                            .src = Address("18.196.145.224"),
                            .dst = Address("172.31.0.238"),
                            .src_port = 37180,
                            .dst_port = 22,
                            .ip_version = 4,
                            .protocol = kIpProtoTcp,
                            .tcp_flags = kTcpSyn,
                            .has_ports = true,
                            .ip_length = 60,
                            .l3_offset = 64,
                            .l4_offset = 84,
                            .payload_offset = 124,
                            .payload_length = 0,
                            .tunnel = {.outer_src = Address("172.31.0.238"),
                                       .outer_dst = Address("172.31.17.188"),
                                       .id = 5569041,
                                       .has_id = true,
                                       .depth = 1,
                                       .type = TunnelType::kVxlan},
                        }},
        // vxlan-dns-ssh.pcap frame 22: a DNS query inside VXLAN.
        TunnelFrameCase{"VxlanDns", kVxlanCapture, 22, kOk,
                        PacketInfo{
                            .src = Address("172.31.0.238"),
                            .dst = Address("172.31.0.2"),
                            .src_port = 47227,
                            .dst_port = 53,
                            .ip_version = 4,
                            .protocol = kIpProtoUdp,
                            .has_ports = true,
                            .ip_length = 73,
                            .l3_offset = 64,
                            .l4_offset = 84,
                            .payload_offset = 92,
                            .payload_length = 45,
                            .tunnel = {.outer_src = Address("172.31.0.238"),
                                       .outer_dst = Address("172.31.17.188"),
                                       .id = 5569041,
                                       .has_id = true,
                                       .depth = 1,
                                       .type = TunnelType::kVxlan},
                        }},
        // mpls-in-vlan-http.pcap frame 1: VLAN 3199 and no MPLS.
        TunnelFrameCase{"VlanWithoutMpls", kMplsInVlanCapture, 1, kOk,
                        PacketInfo{
                            .src = Address("65.65.65.65"),
                            .dst = Address("65.65.65.65"),
                            .src_port = 19244,
                            .dst_port = 80,
                            .ip_version = 4,
                            .protocol = kIpProtoTcp,
                            .tcp_flags = 0x18,
                            .has_ports = true,
                            .vlan_count = 1,
                            .vlan_outer = 3199,
                            .ip_length = 257,
                            .l3_offset = 18,
                            .l4_offset = 38,
                            .payload_offset = 70,
                            .payload_length = 205,
                        }},
        // mpls-in-vlan-http.pcap frame 2: VLAN 0 and the single label 16106.
        TunnelFrameCase{"VlanZeroOneLabel", kMplsInVlanCapture, 2, kOk,
                        PacketInfo{
                            .src = Address("65.65.65.65"),
                            .dst = Address("65.65.65.65"),
                            .src_port = 80,
                            .dst_port = 32828,
                            .ip_version = 4,
                            .protocol = kIpProtoTcp,
                            .tcp_flags = kTcpAck,
                            .has_ports = true,
                            .vlan_count = 1,
                            .mpls_count = 1,
                            .vlan_outer = 0,
                            .ip_length = 1500,
                            .l3_offset = 22,
                            .l4_offset = 42,
                            .payload_offset = 74,
                            .payload_length = 1448,
                        }},
        // mpls-in-vlan-http.pcap frame 3 in full: VLAN 3399 and labels 254 and 99.
        TunnelFrameCase{"VlanTwoLabels", kMplsInVlanCapture, 3, kOk,
                        PacketInfo{
                            .src = Address("65.65.65.65"),
                            .dst = Address("65.65.65.65"),
                            .src_port = 61193,
                            .dst_port = 80,
                            .ip_version = 4,
                            .protocol = kIpProtoTcp,
                            .tcp_flags = 0x18,
                            .has_ports = true,
                            .vlan_count = 1,
                            .mpls_count = 2,
                            .vlan_outer = 3399,
                            .ip_length = 710,
                            .l3_offset = 26,
                            .l4_offset = 46,
                            .payload_offset = 78,
                            .payload_length = 658,
                        }}),
    [](const testing::TestParamInfo<TunnelFrameCase>& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    CraftedFrames, TunnelFrameTest,
    testing::Values(
        // erspan-type2.pcap frame 1: ERSPAN type II, session id 123, mirroring a frame with
        // an 802.1Q tag (VLAN 100).
        TunnelFrameCase{"ErspanII", kErspanType2Capture, 1, kOk,
                        PacketInfo{
                            .src = Address("198.51.100.10"),
                            .dst = Address("203.0.113.20"),
                            .src_port = 49152,
                            .dst_port = 443,
                            .ip_version = 4,
                            .protocol = kIpProtoTcp,
                            .tcp_flags = kTcpSyn,
                            .has_ports = true,
                            .ip_length = 40,
                            .l3_offset = 68,
                            .l4_offset = 88,
                            .payload_offset = 108,
                            .payload_length = 0,
                            .tunnel = {.outer_src = Address("192.0.2.1"),
                                       .outer_dst = Address("192.0.2.2"),
                                       .id = 123,
                                       .has_id = true,
                                       .depth = 1,
                                       .type = TunnelType::kErspanII,
                                       .inner_vlan_count = 1,
                                       .inner_vlan_outer = 100},
                        }},
        // erspan-type3.pcap frame 1: ERSPAN type III, session id 1023, with the 8-byte
        // platform-specific subheader (O bit set), mirroring IPv6 DNS.
        TunnelFrameCase{"ErspanIIIWithSubheader", kErspanType3Capture, 1, kOk,
                        PacketInfo{
                            .src = Address("2001:db8:1::10"),
                            .dst = Address("2001:db8:2::20"),
                            .src_port = 53000,
                            .dst_port = 53,
                            .ip_version = 6,
                            .protocol = kIpProtoUdp,
                            .has_ports = true,
                            .ip_length = 77,
                            .l3_offset = 76,
                            .l4_offset = 116,
                            .payload_offset = 124,
                            .payload_length = 29,
                            .tunnel = {.outer_src = Address("192.0.2.1"),
                                       .outer_dst = Address("192.0.2.2"),
                                       .id = 1023,
                                       .has_id = true,
                                       .depth = 1,
                                       .type = TunnelType::kErspanIII},
                        }},
        // erspan-type3.pcap frame 2: ERSPAN type III, session id 5, without subheader, in
        // GRE over IPv6.
        TunnelFrameCase{"ErspanIIIOverIpv6", kErspanType3Capture, 2, kOk,
                        PacketInfo{
                            .src = Address("198.51.100.11"),
                            .dst = Address("203.0.113.21"),
                            .ip_version = 4,
                            .protocol = kIpProtoIcmp,
                            .icmp_type = 8,
                            .icmp_code = 0,
                            .ip_length = 38,
                            .l3_offset = 88,
                            .l4_offset = 108,
                            .payload_offset = 112,
                            .payload_length = 14,
                            .tunnel = {.outer_src = Address("2001:db8:ffff::1"),
                                       .outer_dst = Address("2001:db8:ffff::2"),
                                       .id = 5,
                                       .has_id = true,
                                       .depth = 1,
                                       .type = TunnelType::kErspanIII},
                        }},
        // erspan-type1.pcap frame 1: ERSPAN type I, which has no header and no session.
        TunnelFrameCase{"ErspanI", kErspanType1Capture, 1, kOk,
                        PacketInfo{
                            .src = Address("198.51.100.12"),
                            .dst = Address("203.0.113.22"),
                            .src_port = 5000,
                            .dst_port = 5001,
                            .ip_version = 4,
                            .protocol = kIpProtoUdp,
                            .has_ports = true,
                            .ip_length = 36,
                            .l3_offset = 52,
                            .l4_offset = 72,
                            .payload_offset = 80,
                            .payload_length = 8,
                            .tunnel = {.outer_src = Address("192.0.2.1"),
                                       .outer_dst = Address("192.0.2.2"),
                                       .depth = 1,
                                       .type = TunnelType::kErspanI},
                        }},
        // gtpu-extension-header.pcap frame 1: a G-PDU, TEID 0x1a2b3c4d, with a PDU Session
        // Container extension header (4 bytes) carrying a DNS query.
        TunnelFrameCase{"GtpExtensionHeader", kGtpCapture, 1, kOk,
                        PacketInfo{
                            .src = Address("10.45.0.2"),
                            .dst = Address("198.51.100.53"),
                            .src_port = 40000,
                            .dst_port = 53,
                            .ip_version = 4,
                            .protocol = kIpProtoUdp,
                            .has_ports = true,
                            .ip_length = 57,
                            .l3_offset = 58,
                            .l4_offset = 78,
                            .payload_offset = 86,
                            .payload_length = 29,
                            .tunnel = {.outer_src = Address("192.0.2.30"),
                                       .outer_dst = Address("192.0.2.40"),
                                       .id = 0x1A2B3C4D,
                                       .has_id = true,
                                       .depth = 1,
                                       .type = TunnelType::kGtpU},
                        }},
        // gtpu-extension-header.pcap frame 2: a G-PDU, TEID 0x42, with a sequence number
        // and no extension header, carrying IPv6.
        TunnelFrameCase{"GtpSequenceNumberIpv6", kGtpCapture, 2, kOk,
                        PacketInfo{
                            .src = Address("2001:db8:45::2"),
                            .dst = Address("2001:db8:100::443"),
                            .src_port = 50000,
                            .dst_port = 443,
                            .ip_version = 6,
                            .protocol = kIpProtoTcp,
                            .tcp_flags = kTcpSyn,
                            .has_ports = true,
                            .ip_length = 60,
                            .l3_offset = 54,
                            .l4_offset = 94,
                            .payload_offset = 114,
                            .payload_length = 0,
                            .tunnel = {.outer_src = Address("192.0.2.40"),
                                       .outer_dst = Address("192.0.2.30"),
                                       .id = 0x42,
                                       .has_id = true,
                                       .depth = 1,
                                       .type = TunnelType::kGtpU},
                        }},
        // gtpu-extension-header.pcap frame 3: an echo request (message type 1), which
        // carries no user packet, so the other fields still describe the outer datagram.
        TunnelFrameCase{"GtpEchoRequest", kGtpCapture, 3, DecodeStatus::kGtpSignallingMessage,
                        PacketInfo{
                            .src = Address("192.0.2.30"),
                            .dst = Address("192.0.2.40"),
                            .src_port = 2152,
                            .dst_port = 2152,
                            .ip_version = 4,
                            .protocol = kIpProtoUdp,
                            .has_ports = true,
                            .ip_length = 40,
                            .l3_offset = 14,
                            .l4_offset = 34,
                            .payload_offset = 42,
                            .payload_length = 12,
                            .tunnel = {.outer_src = Address("192.0.2.30"),
                                       .outer_dst = Address("192.0.2.40"),
                                       .id = 0,
                                       .has_id = true,
                                       .depth = 1,
                                       .type = TunnelType::kGtpU},
                        }},
        // gre-key-sequence.pcap frame 1: GRE flags 0x3000 (key 0x1001, sequence 42).
        TunnelFrameCase{"GreKeyAndSequence", kGreKeySequenceCapture, 1, kOk,
                        PacketInfo{
                            .src = Address("10.1.1.1"),
                            .dst = Address("10.2.2.2"),
                            .src_port = 34567,
                            .dst_port = 22,
                            .ip_version = 4,
                            .protocol = kIpProtoTcp,
                            .tcp_flags = kTcpSyn,
                            .has_ports = true,
                            .ip_length = 40,
                            .l3_offset = 46,
                            .l4_offset = 66,
                            .payload_offset = 86,
                            .payload_length = 0,
                            .tunnel = {.outer_src = Address("192.0.2.1"),
                                       .outer_dst = Address("192.0.2.2"),
                                       .id = 0x1001,
                                       .has_id = true,
                                       .depth = 1,
                                       .type = TunnelType::kGre},
                        }},
        // gre-key-sequence.pcap frame 2: GRE flags 0xb000 (checksum, key 0xfffffffe,
        // sequence 43) carrying IPv6.
        TunnelFrameCase{"GreChecksumKeyAndSequence", kGreKeySequenceCapture, 2, kOk,
                        PacketInfo{
                            .src = Address("2001:db8:a::1"),
                            .dst = Address("2001:db8:b::2"),
                            .src_port = 51000,
                            .dst_port = 123,
                            .ip_version = 6,
                            .protocol = kIpProtoUdp,
                            .has_ports = true,
                            .ip_length = 96,
                            .l3_offset = 50,
                            .l4_offset = 90,
                            .payload_offset = 98,
                            .payload_length = 48,
                            .tunnel = {.outer_src = Address("192.0.2.1"),
                                       .outer_dst = Address("192.0.2.2"),
                                       .id = 0xFFFFFFFE,
                                       .has_id = true,
                                       .depth = 1,
                                       .type = TunnelType::kGre},
                        }},
        // gre-transparent-ethernet-vlan.pcap frame 1: GRE protocol 0x6558, key
        // 0x00abcd01, an inner Ethernet header with an 802.1ad tag (VLAN 300) and an
        // 802.1Q tag (VLAN 301). The frame's own VLAN fields stay empty.
        TunnelFrameCase{"GreTransparentEthernet", kGreEthernetCapture, 1, kOk,
                        PacketInfo{
                            .src = Address("10.3.3.3"),
                            .dst = Address("10.4.4.4"),
                            .src_port = 123,
                            .dst_port = 123,
                            .ip_version = 4,
                            .protocol = kIpProtoUdp,
                            .has_ports = true,
                            .ip_length = 76,
                            .l3_offset = 64,
                            .l4_offset = 84,
                            .payload_offset = 92,
                            .payload_length = 48,
                            .tunnel = {.outer_src = Address("192.0.2.1"),
                                       .outer_dst = Address("192.0.2.2"),
                                       .id = 0x00ABCD01,
                                       .has_id = true,
                                       .depth = 1,
                                       .type = TunnelType::kGre,
                                       .inner_vlan_count = 2,
                                       .inner_vlan_outer = 300,
                                       .inner_vlan_inner = 301},
                        }},
        // mpls-in-gre.pcap frame 1: GRE protocol 0x8847 and labels 1000 and 2000.
        TunnelFrameCase{"MplsInGre", kMplsInGreCapture, 1, kOk,
                        PacketInfo{
                            .src = Address("172.16.0.1"),
                            .dst = Address("172.16.0.2"),
                            .src_port = 80,
                            .dst_port = 55000,
                            .ip_version = 4,
                            .protocol = kIpProtoTcp,
                            .tcp_flags = kTcpSyn | kTcpAck,
                            .has_ports = true,
                            .mpls_count = 2,
                            .ip_length = 40,
                            .l3_offset = 46,
                            .l4_offset = 66,
                            .payload_offset = 86,
                            .payload_length = 0,
                            .tunnel = {.outer_src = Address("192.0.2.1"),
                                       .outer_dst = Address("192.0.2.2"),
                                       .depth = 1,
                                       .type = TunnelType::kGre},
                        }},
        // ipv6-in-ipv4.pcap frame 1: IPv4 protocol 41 carrying an ICMPv6 echo request.
        TunnelFrameCase{"Ipv6InIpv4", kIpv6InIpv4Capture, 1, kOk,
                        PacketInfo{
                            .src = Address("2001:db8:6::1"),
                            .dst = Address("2001:db8:6::2"),
                            .ip_version = 6,
                            .protocol = kIpProtoIcmpv6,
                            .icmp_type = 128,
                            .icmp_code = 0,
                            .ip_length = 52,
                            .l3_offset = 34,
                            .l4_offset = 74,
                            .payload_offset = 78,
                            .payload_length = 8,
                            .tunnel = {.outer_src = Address("192.0.2.50"),
                                       .outer_dst = Address("192.0.2.51"),
                                       .depth = 1,
                                       .type = TunnelType::kIpInIp},
                        }},
        // ip-in-ip.pcap frame 1: IPv4 protocol 4 carrying an ICMP echo request.
        TunnelFrameCase{"Ipv4InIpv4", kIpInIpCapture, 1, kOk,
                        PacketInfo{
                            .src = Address("10.6.0.1"),
                            .dst = Address("10.6.0.2"),
                            .ip_version = 4,
                            .protocol = kIpProtoIcmp,
                            .icmp_type = 8,
                            .icmp_code = 0,
                            .ip_length = 32,
                            .l3_offset = 34,
                            .l4_offset = 54,
                            .payload_offset = 58,
                            .payload_length = 8,
                            .tunnel = {.outer_src = Address("192.0.2.60"),
                                       .outer_dst = Address("192.0.2.61"),
                                       .depth = 1,
                                       .type = TunnelType::kIpInIp},
                        }},
        // ip-in-ip.pcap frame 2: IPv6 next header 4 carrying IPv4 syslog.
        TunnelFrameCase{"Ipv4InIpv6", kIpInIpCapture, 2, kOk,
                        PacketInfo{
                            .src = Address("10.6.0.3"),
                            .dst = Address("10.6.0.4"),
                            .src_port = 33000,
                            .dst_port = 514,
                            .ip_version = 4,
                            .protocol = kIpProtoUdp,
                            .has_ports = true,
                            .ip_length = 36,
                            .l3_offset = 54,
                            .l4_offset = 74,
                            .payload_offset = 82,
                            .payload_length = 8,
                            .tunnel = {.outer_src = Address("2001:db8:60::1"),
                                       .outer_dst = Address("2001:db8:60::2"),
                                       .depth = 1,
                                       .type = TunnelType::kIpInIp},
                        }},
        // ip-in-ip.pcap frame 3: IPv6 next header 41 carrying IPv6.
        TunnelFrameCase{"Ipv6InIpv6", kIpInIpCapture, 3, kOk,
                        PacketInfo{
                            .src = Address("2001:db8:61::1"),
                            .dst = Address("2001:db8:61::2"),
                            .src_port = 44000,
                            .dst_port = 8443,
                            .ip_version = 6,
                            .protocol = kIpProtoTcp,
                            .tcp_flags = kTcpSyn,
                            .has_ports = true,
                            .ip_length = 60,
                            .l3_offset = 54,
                            .l4_offset = 94,
                            .payload_offset = 114,
                            .payload_length = 0,
                            .tunnel = {.outer_src = Address("2001:db8:60::1"),
                                       .outer_dst = Address("2001:db8:60::2"),
                                       .depth = 1,
                                       .type = TunnelType::kIpInIp},
                        }},
        // tunnel-stack.pcap frame 1: GRE, then VXLAN VNI 77, then IPv4 in IPv4: exactly
        // kMaxTunnelDepth layers. The outer addresses are those of the first layer.
        TunnelFrameCase{"ThreeTunnels", kTunnelStackCapture, 1, kOk,
                        PacketInfo{
                            .src = Address("10.9.0.1"),
                            .dst = Address("10.9.0.2"),
                            .src_port = 45000,
                            .dst_port = 25,
                            .ip_version = 4,
                            .protocol = kIpProtoTcp,
                            .tcp_flags = kTcpSyn,
                            .has_ports = true,
                            .ip_length = 40,
                            .l3_offset = 108,
                            .l4_offset = 128,
                            .payload_offset = 148,
                            .payload_length = 0,
                            .tunnel = {.outer_src = Address("192.0.2.1"),
                                       .outer_dst = Address("192.0.2.2"),
                                       .depth = 3,
                                       .type = TunnelType::kIpInIp},
                        }}),
    [](const testing::TestParamInfo<TunnelFrameCase>& info) { return info.param.name; });

// A frame whose tunnel the decoder reports rather than decodes.
struct RejectedFrameCase {
  const char* name;
  const char* file;
  size_t frame_number;
  DecodeStatus status;
};

void PrintTo(const RejectedFrameCase& test_case, std::ostream* out) { *out << test_case.name; }

class RejectedTunnelTest : public testing::TestWithParam<RejectedFrameCase> {};

// None of these may come out as kOk with the outer packet, which would match the tunnel
// endpoints instead of the traffic inside.
TEST_P(RejectedTunnelTest, ReturnsNamedStatus) {
  const RejectedFrameCase& test_case = GetParam();
  const std::vector<uint8_t> frame = LoadFrame(test_case.file, test_case.frame_number);
  ASSERT_FALSE(frame.empty());
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), test_case.status);
}

INSTANTIATE_TEST_SUITE_P(
    CraftedFrames, RejectedTunnelTest,
    testing::Values(
        // tunnel-stack.pcap frame 2: frame 1's three layers plus GTP-U, TEID 0x99.
        RejectedFrameCase{"FourTunnels", kTunnelStackCapture, 2, DecodeStatus::kTooManyTunnels},
        // gre-unsupported.pcap frame 1: GRE protocol 0x894f (NSH).
        RejectedFrameCase{"GreNsh", kGreUnsupportedCapture, 1, DecodeStatus::kUnknownGreProtocol},
        // gre-unsupported.pcap frame 2: GRE flags and version 0x3001 (PPTP), protocol
        // 0x880b (PPP).
        RejectedFrameCase{"GrePptp", kGreUnsupportedCapture, 2,
                          DecodeStatus::kUnsupportedGreVersion},
        // gre-unsupported.pcap frame 3: GRE flags 0x4000 (RFC 1701 routing present).
        RejectedFrameCase{"GreRouting", kGreUnsupportedCapture, 3,
                          DecodeStatus::kUnsupportedGreFlags},
        // geneve-vxlan-gpe.pcap frame 1: Geneve VNI 0x123456 on UDP 6081.
        RejectedFrameCase{"Geneve", kGeneveCapture, 1, DecodeStatus::kUnsupportedGeneve},
        // geneve-vxlan-gpe.pcap frame 2: VXLAN-GPE VNI 801 on UDP 4790.
        RejectedFrameCase{"VxlanGpe", kGeneveCapture, 2, DecodeStatus::kUnsupportedVxlanGpe}),
    [](const testing::TestParamInfo<RejectedFrameCase>& info) { return info.param.name; });

TEST(TunnelStackTest, FourthLayerKeepsThirdLayerFields) {
  const std::vector<uint8_t> frame = LoadFrame(kTunnelStackCapture, 2);
  ASSERT_FALSE(frame.empty());
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), DecodeStatus::kTooManyTunnels);
  EXPECT_EQ(info.tunnel.depth, kMaxTunnelDepth);
  EXPECT_EQ(info.tunnel.type, TunnelType::kIpInIp);
  EXPECT_EQ(info.tunnel.outer_src, Address("192.0.2.1"));
  // The UDP header to port 2152 of the third layer's inner packet was decoded.
  EXPECT_EQ(info.src, Address("10.9.0.1"));
  EXPECT_EQ(info.dst_port, 2152);
}

// Expected values: tshark on every frame of gre-tunnel.pcap. All 40 frames are GRE between
// 172.27.1.66 and 66.59.109.137, and none carries a key.
TEST(RealCaptureTest, EveryGreFrameDecodesInnerPacket) {
  const std::vector<std::vector<uint8_t>> frames = ReadCaptureFrames(kGreTunnelCapture);
  ASSERT_EQ(frames.size(), 40u);
  const std::set<IpAddress> endpoints = {Address("172.27.1.66"), Address("66.59.109.137")};
  for (size_t i = 0; i < frames.size(); ++i) {
    SCOPED_TRACE(i + 1);
    PacketInfo info;
    ASSERT_EQ(DecodeFrame(frames[i], info), kOk);
    EXPECT_EQ(info.tunnel.depth, 1);
    EXPECT_EQ(info.tunnel.type, TunnelType::kGre);
    EXPECT_FALSE(info.tunnel.has_id);
    EXPECT_TRUE(endpoints.contains(info.tunnel.outer_src));
    EXPECT_TRUE(endpoints.contains(info.tunnel.outer_dst));
    EXPECT_FALSE(endpoints.contains(info.src));
    EXPECT_EQ(info.l3_offset, 38);
  }
}

// Expected values: tshark on every frame of vxlan-dns-ssh.pcap. All 100 frames go from
// 172.31.0.238 to 172.31.17.188 in VNI 5569041, with 18 inner UDP and 82 inner TCP frames.
TEST(RealCaptureTest, EveryVxlanFrameDecodesInnerPacket) {
  const std::vector<std::vector<uint8_t>> frames = ReadCaptureFrames(kVxlanCapture);
  ASSERT_EQ(frames.size(), 100u);
  int udp_frames = 0;
  int tcp_frames = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    SCOPED_TRACE(i + 1);
    PacketInfo info;
    ASSERT_EQ(DecodeFrame(frames[i], info), kOk);
    EXPECT_EQ(info.tunnel.depth, 1);
    EXPECT_EQ(info.tunnel.type, TunnelType::kVxlan);
    EXPECT_EQ(info.tunnel.id, 5569041u);
    EXPECT_EQ(info.tunnel.outer_src, Address("172.31.0.238"));
    EXPECT_EQ(info.tunnel.outer_dst, Address("172.31.17.188"));
    EXPECT_EQ(info.l3_offset, 64);
    udp_frames += info.protocol == kIpProtoUdp ? 1 : 0;
    tcp_frames += info.protocol == kIpProtoTcp ? 1 : 0;
  }
  EXPECT_EQ(udp_frames, 18);
  EXPECT_EQ(tcp_frames, 82);
}

TEST(VxlanTest, MissingIFlagRejected) {
  std::vector<uint8_t> frame = LoadFrame(kVxlanCapture, 3);
  ASSERT_FALSE(frame.empty());
  frame[kUdpTunnelHeaderOffset] = 0x00;
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kBadVxlanFlags);
  EXPECT_EQ(info.tunnel.depth, 1);
  EXPECT_FALSE(info.tunnel.has_id);
}

// RFC 7348 section 5: the reserved flag bits MUST be ignored on receipt.
TEST(VxlanTest, ReservedFlagsIgnored) {
  std::vector<uint8_t> frame = LoadFrame(kVxlanCapture, 3);
  ASSERT_FALSE(frame.empty());
  frame[kUdpTunnelHeaderOffset] = 0xFF;
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), kOk);
  EXPECT_EQ(info.tunnel.id, 5569041u);
  EXPECT_EQ(info.src_port, 37180);
}

// VXLAN is recognized by the destination port only, so a datagram from port 4789 is
// plain UDP.
TEST(VxlanTest, SourcePortIsNotTunnel) {
  std::vector<uint8_t> frame = LoadFrame(kVxlanCapture, 3);
  ASSERT_FALSE(frame.empty());
  Store16(frame, kOuterTransportOffset, 4789);
  Store16(frame, kOuterTransportOffset + 2, 65474);
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), kOk);
  EXPECT_EQ(info.tunnel.depth, 0);
  EXPECT_EQ(info.src, Address("172.31.0.238"));
  EXPECT_EQ(info.src_port, 4789);
  EXPECT_EQ(info.payload_offset, kUdpTunnelHeaderOffset);
}

// A UDP length of 26 ends the datagram 10 bytes into the inner Ethernet header, even
// though the captured frame goes on.
TEST(VxlanTest, UdpLengthBoundsInnerFrame) {
  std::vector<uint8_t> frame = LoadFrame(kVxlanCapture, 3);
  ASSERT_FALSE(frame.empty());
  Store16(frame, kOuterUdpLengthOffset, 8 + 8 + 10);
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kTruncatedEthernet);
}

TEST(GreTest, VersionOneRejected) {
  std::vector<uint8_t> frame = LoadFrame(kGreTunnelCapture, 1);
  ASSERT_FALSE(frame.empty());
  frame[kOuterTransportOffset + 1] = 0x01;
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kUnsupportedGreVersion);
}

// RFC 2784 section 2.3: bits 1 to 5 make a receiver that does not implement RFC 1701
// discard the packet, bits 6 to 12 MUST be ignored.
TEST(GreTest, Rfc1701BitsRejectedReservedBitsIgnored) {
  for (const uint8_t first_byte : {0x40, 0x08, 0x04}) {
    SCOPED_TRACE(first_byte);
    std::vector<uint8_t> frame = LoadFrame(kGreTunnelCapture, 1);
    ASSERT_FALSE(frame.empty());
    frame[kOuterTransportOffset] = first_byte;
    PacketInfo info;
    EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kUnsupportedGreFlags);
  }
  std::vector<uint8_t> frame = LoadFrame(kGreTunnelCapture, 1);
  ASSERT_FALSE(frame.empty());
  frame[kOuterTransportOffset] = 0x03;
  frame[kOuterTransportOffset + 1] = 0xF8;
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), kOk);
  EXPECT_EQ(info.src, Address("66.59.111.190"));
}

TEST(GreTest, UnknownProtocolTypeRejected) {
  std::vector<uint8_t> frame = LoadFrame(kGreTunnelCapture, 1);
  ASSERT_FALSE(frame.empty());
  Store16(frame, kOuterTransportOffset + 2, 0x0806);  // ARP.
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kUnknownGreProtocol);
}

// An outer IPv4 total length of 34 ends the datagram 10 bytes into the inner header, so the
// rest of the captured frame is not read as inner packet.
TEST(GreTest, OuterTotalLengthBoundsInnerPacket) {
  std::vector<uint8_t> frame = LoadFrame(kGreTunnelCapture, 1);
  ASSERT_FALSE(frame.empty());
  Store16(frame, kOuterIpv4TotalLengthOffset, 20 + 4 + 10);
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kTruncatedIpv4);
}

// A later fragment has no GRE header, only the middle of an inner packet.
TEST(GreTest, LaterFragmentCounted) {
  std::vector<uint8_t> frame = LoadFrame(kGreTunnelCapture, 1);
  ASSERT_FALSE(frame.empty());
  Store16(frame, kOuterIpv4FragmentOffset, 0x0010);  // Offset 16 (128 bytes).
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kTunnelLaterFragment);
  EXPECT_TRUE(info.is_fragment);
  EXPECT_EQ(info.protocol, kIpProtoGre);
  EXPECT_EQ(info.tunnel.depth, 0);
}

TEST(GreTest, FirstFragmentDecodesInnerPacket) {
  std::vector<uint8_t> frame = LoadFrame(kGreTunnelCapture, 1);
  ASSERT_FALSE(frame.empty());
  Store16(frame, kOuterIpv4FragmentOffset, 0x2000);  // More fragments, offset 0.
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), kOk);
  EXPECT_EQ(info.tunnel.depth, 1);
  EXPECT_EQ(info.src, Address("66.59.111.190"));
  EXPECT_EQ(info.icmp_type, 8);
  EXPECT_FALSE(info.is_fragment);
}

TEST(IpInIpTest, LaterFragmentCounted) {
  std::vector<uint8_t> frame = LoadFrame(kIpInIpCapture, 1);
  ASSERT_FALSE(frame.empty());
  Store16(frame, kOuterIpv4FragmentOffset, 0x0001);
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kTunnelLaterFragment);
  EXPECT_EQ(info.protocol, kIpProtoIpv4InIp);
}

// Protocol 4 promises IPv4, so an IPv6 header there is a bad IPv4 version.
TEST(IpInIpTest, WrongInnerVersion) {
  std::vector<uint8_t> frame = LoadFrame(kIpInIpCapture, 1);
  ASSERT_FALSE(frame.empty());
  frame[kOuterTransportOffset] = 0x65;
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kBadIpv4Version);
  EXPECT_EQ(info.tunnel.depth, 1);
}

// Pushes copies of an 802.1ad tag with VLAN 400 on the inner tag stack of
// gre-transparent-ethernet-vlan.pcap frame 1, fixing the outer IPv4 total length.
std::vector<uint8_t> GreEthernetFrameWithInnerTags(int tag_count) {
  constexpr size_t kFirstInnerTciOffset = 56;
  std::vector<uint8_t> frame = LoadFrame(kGreEthernetCapture, 1);
  for (int i = 2; i < tag_count; ++i) {
    Insert(frame, kFirstInnerTciOffset, {0x01, 0x90, 0x88, 0xa8});
    GrowLength(frame, kOuterIpv4TotalLengthOffset, 4);
  }
  return frame;
}

TEST(InnerEthernetTest, FourInnerTagsAccepted) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(GreEthernetFrameWithInnerTags(kMaxVlanTags), info), kOk);
  EXPECT_EQ(info.tunnel.inner_vlan_count, 4);
  EXPECT_EQ(info.tunnel.inner_vlan_outer, 400);
  EXPECT_EQ(info.tunnel.inner_vlan_inner, 301);
  EXPECT_EQ(info.vlan_count, 0);
  EXPECT_EQ(info.src_port, 123);
}

TEST(InnerEthernetTest, FiveInnerTagsRejected) {
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(GreEthernetFrameWithInnerTags(kMaxVlanTags + 1), info),
            DecodeStatus::kTooManyVlanTags);
  EXPECT_EQ(info.tunnel.inner_vlan_count, 4);
  EXPECT_EQ(info.vlan_count, 0);
}

// Pushes copies of label 1000 (not bottom of stack) on the stack of mpls-in-gre.pcap
// frame 1, fixing the outer IPv4 total length.
std::vector<uint8_t> MplsInGreFrameWithLabels(int label_count) {
  constexpr size_t kFirstLabelOffset = 38;
  std::vector<uint8_t> frame = LoadFrame(kMplsInGreCapture, 1);
  for (int i = 2; i < label_count; ++i) {
    Insert(frame, kFirstLabelOffset, {0x00, 0x3e, 0x80, 0x40});
    GrowLength(frame, kOuterIpv4TotalLengthOffset, 4);
  }
  return frame;
}

TEST(MplsInGreTest, EightLabelsAccepted) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(MplsInGreFrameWithLabels(kMaxMplsLabels), info), kOk);
  EXPECT_EQ(info.mpls_count, 8);
  EXPECT_EQ(info.src_port, 80);
}

TEST(MplsInGreTest, NineLabelsRejected) {
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(MplsInGreFrameWithLabels(kMaxMplsLabels + 1), info),
            DecodeStatus::kTooManyMplsLabels);
}

TEST(ErspanTest, TypeIIWrongVersion) {
  std::vector<uint8_t> frame = LoadFrame(kErspanType2Capture, 1);
  ASSERT_FALSE(frame.empty());
  frame[kOuterTransportOffset + 8] = 0x20;  // Version 2, VLAN 0.
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kUnsupportedErspanVersion);
  EXPECT_EQ(info.tunnel.type, TunnelType::kErspanII);
}

TEST(ErspanTest, TypeIIIWrongVersion) {
  std::vector<uint8_t> frame = LoadFrame(kErspanType3Capture, 1);
  ASSERT_FALSE(frame.empty());
  frame[kOuterTransportOffset + 8] = 0x10;  // Version 1, VLAN 0.
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kUnsupportedErspanVersion);
  EXPECT_EQ(info.tunnel.type, TunnelType::kErspanIII);
}

// Offsets in gtpu-extension-header.pcap frame 1.
constexpr size_t kGtpLengthOffset = kUdpTunnelHeaderOffset + 2;
constexpr size_t kGtpExtensionOffset = kUdpTunnelHeaderOffset + 12;
constexpr size_t kGtpInnerIpOffset = kUdpTunnelHeaderOffset + 16;

TEST(GtpTest, WrongVersionOrProtocolType) {
  // Version 2 with PT=1, then version 1 with PT=0 (GTP'), both with E set.
  for (const uint8_t flags : {0x54, 0x24}) {
    SCOPED_TRACE(flags);
    std::vector<uint8_t> frame = LoadFrame(kGtpCapture, 1);
    ASSERT_FALSE(frame.empty());
    frame[kUdpTunnelHeaderOffset] = flags;
    PacketInfo info;
    EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kUnsupportedGtpVersion);
  }
}

TEST(GtpTest, ExtensionLengthZero) {
  std::vector<uint8_t> frame = LoadFrame(kGtpCapture, 1);
  ASSERT_FALSE(frame.empty());
  frame[kGtpExtensionOffset] = 0;
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kBadGtpExtensionHeader);
}

TEST(GtpTest, PayloadNeitherIpv4NorIpv6) {
  std::vector<uint8_t> frame = LoadFrame(kGtpCapture, 1);
  ASSERT_FALSE(frame.empty());
  frame[kGtpInnerIpOffset] = 0x05;
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kUnknownGtpPayload);
  EXPECT_EQ(info.tunnel.id, 0x1A2B3C4Du);
}

// A GTP length of 8 ends the G-PDU right after the optional fields and the extension
// header, so no user packet is left.
TEST(GtpTest, LengthEndsBeforePayload) {
  std::vector<uint8_t> frame = LoadFrame(kGtpCapture, 1);
  ASSERT_FALSE(frame.empty());
  Store16(frame, kGtpLengthOffset, 8);
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kTruncatedGtp);
}

// Without the E flag the next extension header type is not interpreted (3GPP TS 29.281
// section 5.1), so the 4 bytes of the PDU Session Container are read as the inner packet.
TEST(GtpTest, NextTypeIgnoredWithoutEFlag) {
  std::vector<uint8_t> frame = LoadFrame(kGtpCapture, 1);
  ASSERT_FALSE(frame.empty());
  frame[kUdpTunnelHeaderOffset] = 0x32;  // Version 1, PT=1, S.
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kUnknownGtpPayload);
}

// Chains copies of frame 1's PDU Session Container extension header in front of it,
// fixing the outer IPv4, UDP and GTP lengths.
std::vector<uint8_t> GtpFrameWithExtensionHeaders(int header_count) {
  std::vector<uint8_t> frame = LoadFrame(kGtpCapture, 1);
  for (int i = 1; i < header_count; ++i) {
    Insert(frame, kGtpExtensionOffset, {0x01, 0x10, 0x09, 0x85});
    GrowLength(frame, kOuterIpv4TotalLengthOffset, 4);
    GrowLength(frame, kOuterUdpLengthOffset, 4);
    GrowLength(frame, kGtpLengthOffset, 4);
  }
  return frame;
}

TEST(GtpTest, EightExtensionHeadersAccepted) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(GtpFrameWithExtensionHeaders(kMaxGtpExtensionHeaders), info), kOk);
  EXPECT_EQ(info.l3_offset, kGtpInnerIpOffset + 7 * 4);
  EXPECT_EQ(info.dst_port, 53);
}

TEST(GtpTest, NineExtensionHeadersRejected) {
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(GtpFrameWithExtensionHeaders(kMaxGtpExtensionHeaders + 1), info),
            DecodeStatus::kTooManyGtpExtensionHeaders);
}

TEST(TunnelInfoTest, ResetByNextFrame) {
  const std::vector<uint8_t> tunnelled = LoadFrame(kTunnelStackCapture, 1);
  const std::vector<uint8_t> plain = LoadFrame(kDnsCapture, 1);
  ASSERT_FALSE(tunnelled.empty());
  ASSERT_FALSE(plain.empty());
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(tunnelled, info), kOk);
  ASSERT_EQ(DecodeFrame(plain, info), kOk);
  EXPECT_EQ(info.tunnel.depth, 0);
  EXPECT_EQ(info.tunnel.type, TunnelType::kNone);
  EXPECT_EQ(info.tunnel.outer_src, IpAddress{});
  EXPECT_FALSE(info.tunnel.has_id);
}

// DecodeIp starts at an IP header with no tunnel around it, even in a PacketInfo that
// contains a tunnelled packet.
TEST(TunnelInfoTest, DecodeIpStartsWithoutTunnel) {
  const std::vector<uint8_t> frame = LoadFrame(kGreTunnelCapture, 1);
  ASSERT_FALSE(frame.empty());
  const ExactBuffer buffer(frame);
  PacketInfo info;
  ASSERT_EQ(DecodeEthernet(buffer.bytes(), info), kOk);
  ASSERT_EQ(info.tunnel.depth, 1);
  ASSERT_EQ(DecodeIp(buffer.bytes(), 38, info), kOk);
  EXPECT_EQ(info.tunnel.depth, 0);
  EXPECT_EQ(info.src, Address("66.59.111.190"));
}

TEST(TunnelTypeNameTest, NamesAreUniqueSnakeCase) {
  std::set<std::string_view> names;
  for (const TunnelType type :
       {TunnelType::kNone, TunnelType::kGre, TunnelType::kErspanI, TunnelType::kErspanII,
        TunnelType::kErspanIII, TunnelType::kVxlan, TunnelType::kGtpU, TunnelType::kIpInIp}) {
    const std::string_view name = TunnelTypeName(type);
    SCOPED_TRACE(name);
    EXPECT_NE(name, "invalid");
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string_view::npos);
    EXPECT_TRUE(names.insert(name).second);
  }
  EXPECT_EQ(TunnelTypeName(TunnelType::kVxlan), "vxlan");
  EXPECT_EQ(TunnelTypeName(static_cast<TunnelType>(200)), "invalid");
}

TEST(DecodeStatusNameTest, TunnelNames) {
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kTooManyTunnels), "too_many_tunnels");
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kUnknownGreProtocol), "unknown_gre_protocol");
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kBadVxlanFlags), "bad_vxlan_flags");
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kGtpSignallingMessage), "gtp_signalling_message");
}

struct TunnelTruncationCase {
  const char* name;
  const char* file;
  size_t frame_number;
  std::vector<StatusFromLength> statuses;
};

void PrintTo(const TunnelTruncationCase& test_case, std::ostream* out) { *out << test_case.name; }

DecodeStatus ExpectedStatus(const TunnelTruncationCase& test_case, size_t length) {
  DecodeStatus status = test_case.statuses.front().status;
  for (const StatusFromLength& entry : test_case.statuses) {
    if (length >= entry.min_length) {
      status = entry.status;
    }
  }
  return status;
}

class TunnelTruncationTest : public testing::TestWithParam<TunnelTruncationCase> {};

// Cuts a tunnelled frame at every length from 0 to its full size. A cut inside any header,
// outer or inner, returns the status that names that header, and every offset stays
// inside the cut frame.
TEST_P(TunnelTruncationTest, EveryLength) {
  const TunnelTruncationCase& test_case = GetParam();
  const std::vector<uint8_t> frame = LoadFrame(test_case.file, test_case.frame_number);
  ASSERT_FALSE(frame.empty());
  for (size_t length = 0; length <= frame.size(); ++length) {
    SCOPED_TRACE(length);
    PacketInfo info;
    const DecodeStatus status = DecodeFrame(std::span(frame).first(length), info);
    EXPECT_EQ(status, ExpectedStatus(test_case, length));
    EXPECT_LE(info.l3_offset, length);
    EXPECT_LE(info.l4_offset, length);
    EXPECT_LE(size_t{info.payload_offset} + info.payload_length, length);
  }
}

constexpr DecodeStatus kTruncatedEthernet = DecodeStatus::kTruncatedEthernet;
constexpr DecodeStatus kTruncatedVlan = DecodeStatus::kTruncatedVlan;
constexpr DecodeStatus kTruncatedMpls = DecodeStatus::kTruncatedMpls;
constexpr DecodeStatus kTruncatedIpv4 = DecodeStatus::kTruncatedIpv4;
constexpr DecodeStatus kTruncatedIpv6 = DecodeStatus::kTruncatedIpv6;
constexpr DecodeStatus kTruncatedTcp = DecodeStatus::kTruncatedTcp;
constexpr DecodeStatus kTruncatedUdp = DecodeStatus::kTruncatedUdp;
constexpr DecodeStatus kTruncatedGre = DecodeStatus::kTruncatedGre;

// A GTP-U or MPLS payload that starts exactly at the cut has no version nibble to read,
// so that length still counts as a truncated GTP-U header or label stack.
INSTANTIATE_TEST_SUITE_P(TunnelledFrames, TunnelTruncationTest,
                         testing::Values(TunnelTruncationCase{"GreIcmp",
                                                              kGreTunnelCapture,
                                                              1,
                                                              {{0, kTruncatedEthernet},
                                                               {14, kTruncatedIpv4},
                                                               {34, kTruncatedGre},
                                                               {38, kTruncatedIpv4},
                                                               {58, DecodeStatus::kTruncatedIcmp},
                                                               {62, kOk}}},
                                         TunnelTruncationCase{"VxlanSshSyn",
                                                              kVxlanCapture,
                                                              3,
                                                              {{0, kTruncatedEthernet},
                                                               {14, kTruncatedIpv4},
                                                               {34, kTruncatedUdp},
                                                               {42, DecodeStatus::kTruncatedVxlan},
                                                               {50, kTruncatedEthernet},
                                                               {64, kTruncatedIpv4},
                                                               {84, kTruncatedTcp},
                                                               {124, kOk}}},
                                         TunnelTruncationCase{"ErspanII",
                                                              kErspanType2Capture,
                                                              1,
                                                              {{0, kTruncatedEthernet},
                                                               {14, kTruncatedIpv4},
                                                               {34, kTruncatedGre},
                                                               {42, DecodeStatus::kTruncatedErspan},
                                                               {50, kTruncatedEthernet},
                                                               {64, kTruncatedVlan},
                                                               {68, kTruncatedIpv4},
                                                               {88, kTruncatedTcp},
                                                               {108, kOk}}},
                                         TunnelTruncationCase{"ErspanIIIWithSubheader",
                                                              kErspanType3Capture,
                                                              1,
                                                              {{0, kTruncatedEthernet},
                                                               {14, kTruncatedIpv4},
                                                               {34, kTruncatedGre},
                                                               {42, DecodeStatus::kTruncatedErspan},
                                                               {62, kTruncatedEthernet},
                                                               {76, kTruncatedIpv6},
                                                               {116, kTruncatedUdp},
                                                               {124, kOk}}},
                                         TunnelTruncationCase{"GtpExtensionHeader",
                                                              kGtpCapture,
                                                              1,
                                                              {{0, kTruncatedEthernet},
                                                               {14, kTruncatedIpv4},
                                                               {34, kTruncatedUdp},
                                                               {42, DecodeStatus::kTruncatedGtp},
                                                               {59, kTruncatedIpv4},
                                                               {78, kTruncatedUdp},
                                                               {86, kOk}}},
                                         TunnelTruncationCase{"GreChecksumKeyAndSequence",
                                                              kGreKeySequenceCapture,
                                                              2,
                                                              {{0, kTruncatedEthernet},
                                                               {14, kTruncatedIpv4},
                                                               {34, kTruncatedGre},
                                                               {50, kTruncatedIpv6},
                                                               {90, kTruncatedUdp},
                                                               {98, kOk}}},
                                         TunnelTruncationCase{"GreTransparentEthernet",
                                                              kGreEthernetCapture,
                                                              1,
                                                              {{0, kTruncatedEthernet},
                                                               {14, kTruncatedIpv4},
                                                               {34, kTruncatedGre},
                                                               {42, kTruncatedEthernet},
                                                               {56, kTruncatedVlan},
                                                               {64, kTruncatedIpv4},
                                                               {84, kTruncatedUdp},
                                                               {92, kOk}}},
                                         TunnelTruncationCase{"MplsInGre",
                                                              kMplsInGreCapture,
                                                              1,
                                                              {{0, kTruncatedEthernet},
                                                               {14, kTruncatedIpv4},
                                                               {34, kTruncatedGre},
                                                               {38, kTruncatedMpls},
                                                               {47, kTruncatedIpv4},
                                                               {66, kTruncatedTcp},
                                                               {86, kOk}}},
                                         TunnelTruncationCase{"Ipv6InIpv4",
                                                              kIpv6InIpv4Capture,
                                                              1,
                                                              {{0, kTruncatedEthernet},
                                                               {14, kTruncatedIpv4},
                                                               {34, kTruncatedIpv6},
                                                               {74, DecodeStatus::kTruncatedIcmpv6},
                                                               {78, kOk}}},
                                         TunnelTruncationCase{"Ipv6InIpv6",
                                                              kIpInIpCapture,
                                                              3,
                                                              {{0, kTruncatedEthernet},
                                                               {14, kTruncatedIpv6},
                                                               {54, kTruncatedIpv6},
                                                               {94, kTruncatedTcp},
                                                               {114, kOk}}},
                                         TunnelTruncationCase{"ThreeTunnels",
                                                              kTunnelStackCapture,
                                                              1,
                                                              {{0, kTruncatedEthernet},
                                                               {14, kTruncatedIpv4},
                                                               {34, kTruncatedGre},
                                                               {38, kTruncatedIpv4},
                                                               {58, kTruncatedUdp},
                                                               {66, DecodeStatus::kTruncatedVxlan},
                                                               {74, kTruncatedEthernet},
                                                               {88, kTruncatedIpv4},
                                                               {108, kTruncatedIpv4},
                                                               {128, kTruncatedTcp},
                                                               {148, kOk}}}),
                         [](const testing::TestParamInfo<TunnelTruncationCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace sensor::dp
