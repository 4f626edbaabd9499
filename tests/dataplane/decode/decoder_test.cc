// Tests for the packet decoder. Each frame below is copied byte for byte from a public
// capture, named with its frame number, and the expected values are tshark's dissection
// of the same frame. Malformed cases are made by truncating or editing those frames.
#include "dataplane/decode/decoder.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/decode/packet.h"
#include "tests/dataplane/decode/decode_test_util.h"

namespace sensor::dp {
namespace {

using decode_test::Address;
using decode_test::CopyOf;
using decode_test::DecodeFrame;
using decode_test::ExactBuffer;
using decode_test::ExpectPacketInfoEq;
using decode_test::Insert;
using decode_test::StatusFromLength;
using decode_test::Store16;

// clang-format off
// http-get-bro.org.pcap frame 4: the HTTP GET of a plain IPv4 TCP connection.
constexpr uint8_t kHttpGetFrame[] = {
    // Ethernet: dst 00:10:db:88:d2:ef, src c8:bc:c8:96:d2:a0, EtherType 0x0800 (IPv4)
    0x00, 0x10, 0xdb, 0x88, 0xd2, 0xef, 0xc8, 0xbc, 0xc8, 0x96, 0xd2, 0xa0,
    0x08, 0x00,
    // IPv4: IHL 5, total length 188, DF, TTL 64, protocol 6, 141.142.228.5 -> 192.150.187.43
    0x45, 0x00, 0x00, 0xbc, 0x4a, 0x9a, 0x40, 0x00, 0x40, 0x06, 0x02, 0x4c,
    0x8d, 0x8e, 0xe4, 0x05, 0xc0, 0x96, 0xbb, 0x2b,
    // TCP: 59856 -> 80, data offset 8 (32 bytes), flags 0x18 (PSH, ACK), NOP NOP timestamps
    0xe9, 0xd0, 0x00, 0x50, 0xfe, 0x21, 0x32, 0x3b, 0xa5, 0xaf, 0xce, 0x3f,
    0x80, 0x18, 0x20, 0x2b, 0x04, 0x80, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a,
    0x16, 0x4a, 0xdd, 0x66, 0x2f, 0x89, 0x42, 0x59,
    // HTTP request, 136 bytes: "GET /download/CHANGES.bro-aux.txt HTTP/1.1" and headers
    0x47, 0x45, 0x54, 0x20, 0x2f, 0x64, 0x6f, 0x77, 0x6e, 0x6c, 0x6f, 0x61,
    0x64, 0x2f, 0x43, 0x48, 0x41, 0x4e, 0x47, 0x45, 0x53, 0x2e, 0x62, 0x72,
    0x6f, 0x2d, 0x61, 0x75, 0x78, 0x2e, 0x74, 0x78, 0x74, 0x20, 0x48, 0x54,
    0x54, 0x50, 0x2f, 0x31, 0x2e, 0x31, 0x0d, 0x0a, 0x55, 0x73, 0x65, 0x72,
    0x2d, 0x41, 0x67, 0x65, 0x6e, 0x74, 0x3a, 0x20, 0x57, 0x67, 0x65, 0x74,
    0x2f, 0x31, 0x2e, 0x31, 0x34, 0x20, 0x28, 0x64, 0x61, 0x72, 0x77, 0x69,
    0x6e, 0x31, 0x32, 0x2e, 0x32, 0x2e, 0x30, 0x29, 0x0d, 0x0a, 0x41, 0x63,
    0x63, 0x65, 0x70, 0x74, 0x3a, 0x20, 0x2a, 0x2f, 0x2a, 0x0d, 0x0a, 0x48,
    0x6f, 0x73, 0x74, 0x3a, 0x20, 0x62, 0x72, 0x6f, 0x2e, 0x6f, 0x72, 0x67,
    0x0d, 0x0a, 0x43, 0x6f, 0x6e, 0x6e, 0x65, 0x63, 0x74, 0x69, 0x6f, 0x6e,
    0x3a, 0x20, 0x4b, 0x65, 0x65, 0x70, 0x2d, 0x41, 0x6c, 0x69, 0x76, 0x65,
    0x0d, 0x0a, 0x0d, 0x0a,
};

// vlan-qinqinq-http.pcap frame 1: a TCP SYN under three stacked 802.1Q tags.
constexpr uint8_t kTripleVlanSynFrame[] = {
    // Ethernet: dst 00:10:db:88:d2:ef, src c8:bc:c8:96:d2:a0
    0x00, 0x10, 0xdb, 0x88, 0xd2, 0xef, 0xc8, 0xbc, 0xc8, 0x96, 0xd2, 0xa0,
    // 802.1Q tag: TPID 0x8100, VID 30
    0x81, 0x00, 0x00, 0x1e,
    // 802.1Q tag: TPID 0x8100, VID 20
    0x81, 0x00, 0x00, 0x14,
    // 802.1Q tag: TPID 0x8100, VID 10
    0x81, 0x00, 0x00, 0x0a,
    // EtherType 0x0800 (IPv4)
    0x08, 0x00,
    // IPv4: IHL 5, total length 64, DF, TTL 64, protocol 6, 141.142.228.5 -> 192.150.187.43
    0x45, 0x00, 0x00, 0x40, 0xdf, 0x8e, 0x40, 0x00, 0x40, 0x06, 0x6d, 0xd3,
    0x8d, 0x8e, 0xe4, 0x05, 0xc0, 0x96, 0xbb, 0x2b,
    // TCP: 59856 -> 80, data offset 11 (44 bytes), flags 0x02 (SYN), MSS, WS, TS, SACK_PERM
    0xe9, 0xd0, 0x00, 0x50, 0xfe, 0x21, 0x32, 0x3a, 0x00, 0x00, 0x00, 0x00,
    0xb0, 0x02, 0xff, 0xff, 0x3b, 0xc0, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
    0x01, 0x03, 0x03, 0x04, 0x01, 0x01, 0x08, 0x0a, 0x16, 0x4a, 0xdd, 0x20,
    0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, 0x00,
};

// qinq-802.1ad-arp.pcap frame 1: an ARP request under an 802.1ad S-tag and an
// 802.1Q C-tag.
constexpr uint8_t kQinqArpFrame[] = {
    // Ethernet: dst ff:ff:ff:ff:ff:ff, src 00:20:d2:5a:fb:3f
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x20, 0xd2, 0x5a, 0xfb, 0x3f,
    // 802.1ad tag: TPID 0x88a8, VID 200
    0x88, 0xa8, 0x00, 0xc8,
    // 802.1Q tag: TPID 0x8100, VID 2001
    0x81, 0x00, 0x07, 0xd1,
    // EtherType 0x0806 (ARP)
    0x08, 0x06,
    // ARP request: who has 172.21.79.100, tell 172.21.79.97
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x00, 0x20, 0xd2, 0x5a,
    0xfb, 0x3f, 0xac, 0x15, 0x4f, 0x61, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xac, 0x15, 0x4f, 0x64,
    // Ethernet padding (10 bytes) and trailer (4 bytes)
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00,
};

// vlan-ipv6-http.pcap frame 1: a TCP SYN over IPv6 under one 802.1Q tag.
constexpr uint8_t kVlanIpv6SynFrame[] = {
    // Ethernet: dst 52:54:00:12:35:02, src 08:00:27:bf:4f:8a
    0x52, 0x54, 0x00, 0x12, 0x35, 0x02, 0x08, 0x00, 0x27, 0xbf, 0x4f, 0x8a,
    // 802.1Q tag: TPID 0x8100, VID 1111
    0x81, 0x00, 0x04, 0x57,
    // EtherType 0x86dd (IPv6)
    0x86, 0xdd,
    // IPv6: payload length 20, next header 6, hop limit 64,
    // fe80::20c:29ff:fef3:cf38 -> fe80::20c:29ff:faf2:ab42
    0x60, 0x00, 0x00, 0x00, 0x00, 0x14, 0x06, 0x40, 0xfe, 0x80, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x02, 0x0c, 0x29, 0xff, 0xfe, 0xf3, 0xcf, 0x38,
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x0c, 0x29, 0xff,
    0xfa, 0xf2, 0xab, 0x42,
    // TCP: 58307 -> 80, data offset 5 (20 bytes), flags 0x02 (SYN)
    0xe3, 0xc3, 0x00, 0x50, 0xe8, 0x51, 0x49, 0x8b, 0x00, 0x00, 0x00, 0x00,
    0x50, 0x02, 0x20, 0x00, 0xb0, 0x77, 0x00, 0x00,
};

// mpls-in-vlan-http.pcap frame 3, first 96 of 736 bytes (as a capture with a
// 96-byte snaplen stores it): an HTTP GET under a VLAN tag and two MPLS labels.
constexpr uint8_t kMplsInVlanPrefix[] = {
    // Ethernet: dst 00:08:e3:41:41:41, src 00:08:e3:41:41:41
    0x00, 0x08, 0xe3, 0x41, 0x41, 0x41, 0x00, 0x08, 0xe3, 0x41, 0x41, 0x41,
    // 802.1Q tag: TPID 0x8100, VID 3399
    0x81, 0x00, 0x0d, 0x47,
    // EtherType 0x8847 (MPLS unicast)
    0x88, 0x47,
    // MPLS: label 254, S 0, TTL 60
    0x00, 0x0f, 0xe0, 0x3c,
    // MPLS: label 99, S 1 (bottom of stack), TTL 60
    0x00, 0x06, 0x31, 0x3c,
    // IPv4: IHL 5, total length 710, DF, TTL 61, protocol 6, 65.65.65.65 -> 65.65.65.65
    0x45, 0x00, 0x02, 0xc6, 0x58, 0xf6, 0x40, 0x00, 0x3d, 0x06, 0xb7, 0x2c,
    0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41,
    // TCP: 61193 -> 80, data offset 8 (32 bytes), flags 0x18 (PSH, ACK), NOP NOP timestamps
    0xef, 0x09, 0x00, 0x50, 0x9c, 0xc1, 0xe6, 0x76, 0x5f, 0x07, 0x2e, 0xd2,
    0x80, 0x18, 0x63, 0x88, 0xc1, 0x94, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a,
    0x00, 0xa4, 0x60, 0xde, 0x48, 0xbb, 0x56, 0x18,
    // HTTP request, first 18 of 658 bytes: "GET /AAAAAAAAAAAAA"
    0x47, 0x45, 0x54, 0x20, 0x2f, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41,
    0x41, 0x41, 0x41, 0x41, 0x41, 0x41,
};

// ipv6-exthdr-http.pcap frame 4: a TCP SYN with a Destination Options header.
constexpr uint8_t kIpv6DestinationOptionsFrame[] = {
    // Ethernet: dst aa:00:04:00:0a:04, src 00:10:18:95:31:6a, EtherType 0x86dd (IPv6)
    0xaa, 0x00, 0x04, 0x00, 0x0a, 0x04, 0x00, 0x10, 0x18, 0x95, 0x31, 0x6a,
    0x86, 0xdd,
    // IPv6: payload length 28, next header 60 (Destination Options), 2001:db8:1::2 -> 2001:db8:1::1
    0x60, 0x00, 0x00, 0x00, 0x00, 0x1c, 0x3c, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01,
    // Destination Options: next header 6, length 0 (8 bytes), PadN
    0x06, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
    // TCP: 36951 -> 80, data offset 5 (20 bytes), flags 0x02 (SYN)
    0x90, 0x57, 0x00, 0x50, 0xe3, 0x1e, 0xbd, 0x4e, 0x00, 0x00, 0x00, 0x00,
    0x50, 0x02, 0x20, 0x00, 0x03, 0x57, 0x00, 0x00,
};

// ipv6-exthdr-http.pcap frame 13: a TCP SYN with an atomic Fragment header.
constexpr uint8_t kIpv6AtomicFragmentFrame[] = {
    // Ethernet: dst aa:00:04:00:0a:04, src 00:10:18:95:31:6a, EtherType 0x86dd (IPv6)
    0xaa, 0x00, 0x04, 0x00, 0x0a, 0x04, 0x00, 0x10, 0x18, 0x95, 0x31, 0x6a,
    0x86, 0xdd,
    // IPv6: payload length 28, next header 44 (Fragment), 2001:db8:1::2 -> 2001:db8:1::1
    0x60, 0x00, 0x00, 0x00, 0x00, 0x1c, 0x2c, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01,
    // Fragment: next header 6, offset 0, M 0, identification 0
    0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    // TCP: 59694 -> 80, data offset 5 (20 bytes), flags 0x02 (SYN)
    0xe9, 0x2e, 0x00, 0x50, 0x69, 0x81, 0x79, 0x05, 0x00, 0x00, 0x00, 0x00,
    0x50, 0x02, 0x20, 0x00, 0x68, 0x66, 0x00, 0x00,
};

// ipv6-exthdr-http.pcap frame 23: a TCP SYN with a Hop-by-Hop Options header.
constexpr uint8_t kIpv6HopByHopFrame[] = {
    // Ethernet: dst aa:00:04:00:0a:04, src 00:10:18:95:31:6a, EtherType 0x86dd (IPv6)
    0xaa, 0x00, 0x04, 0x00, 0x0a, 0x04, 0x00, 0x10, 0x18, 0x95, 0x31, 0x6a,
    0x86, 0xdd,
    // IPv6: payload length 28, next header 0 (Hop-by-Hop Options), 2001:db8:1::2 -> 2001:db8:1::1
    0x60, 0x00, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01,
    // Hop-by-Hop Options: next header 6, length 0 (8 bytes), PadN
    0x06, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
    // TCP: 27393 -> 80, data offset 5 (20 bytes), flags 0x02 (SYN)
    0x6b, 0x01, 0x00, 0x50, 0x51, 0x5f, 0xab, 0xe1, 0x00, 0x00, 0x00, 0x00,
    0x50, 0x02, 0x20, 0x00, 0xcb, 0xd9, 0x00, 0x00,
};

// ipv6-exthdr-http.pcap frame 33: a TCP SYN with a type 0 Routing header.
constexpr uint8_t kIpv6RoutingFrame[] = {
    // Ethernet: dst aa:00:04:00:0a:04, src 00:10:18:95:31:6a, EtherType 0x86dd (IPv6)
    0xaa, 0x00, 0x04, 0x00, 0x0a, 0x04, 0x00, 0x10, 0x18, 0x95, 0x31, 0x6a,
    0x86, 0xdd,
    // IPv6: payload length 28, next header 43 (Routing), 2001:db8:1::2 -> 2001:db8:1::1
    0x60, 0x00, 0x00, 0x00, 0x00, 0x1c, 0x2b, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01,
    // Routing: next header 6, length 0 (8 bytes), type 0, segments left 0
    0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    // TCP: 45805 -> 80, data offset 5 (20 bytes), flags 0x02 (SYN)
    0xb2, 0xed, 0x00, 0x50, 0x1b, 0xc7, 0x6a, 0xdf, 0x00, 0x00, 0x00, 0x00,
    0x50, 0x02, 0x20, 0x00, 0xfa, 0x87, 0x00, 0x00,
};

// ipv6-exthdr-http.pcap frame 2: an ICMPv6 Neighbor Solicitation.
constexpr uint8_t kNeighborSolicitationFrame[] = {
    // Ethernet: dst 33:33:ff:00:00:01, src 00:10:18:95:31:6a, EtherType 0x86dd (IPv6)
    0x33, 0x33, 0xff, 0x00, 0x00, 0x01, 0x00, 0x10, 0x18, 0x95, 0x31, 0x6a,
    0x86, 0xdd,
    // IPv6: payload length 32, next header 58, hop limit 255, 2001:db8:1::2 -> ff02::1:ff00:1
    0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xff, 0x00, 0x00, 0x01,
    // ICMPv6: type 135 (Neighbor Solicitation), code 0, checksum 0xd417
    0x87, 0x00, 0xd4, 0x17,
    // Reserved, target 2001:db8:1::1, source link-layer address option
    0x00, 0x00, 0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00, 0x10,
    0x18, 0x95, 0x31, 0x6a,
};

// dns-v4v6-tcp-ipfrag.pcap frame 53, first 64 of 1514 bytes: the first IPv4
// fragment of a DNS response.
constexpr uint8_t kFirstFragmentPrefix[] = {
    // Ethernet: dst 00:86:9c:e7:55:14, src 00:0c:29:8a:5d:d7, EtherType 0x0800 (IPv4)
    0x00, 0x86, 0x9c, 0xe7, 0x55, 0x14, 0x00, 0x0c, 0x29, 0x8a, 0x5d, 0xd7,
    0x08, 0x00,
    // IPv4: total length 1500, id 0xd0fe, MF, offset 0, protocol 17,
    // 193.24.227.238 -> 172.217.40.76
    0x45, 0x00, 0x05, 0xdc, 0xd0, 0xfe, 0x20, 0x00, 0x40, 0x11, 0x09, 0xe6,
    0xc1, 0x18, 0xe3, 0xee, 0xac, 0xd9, 0x28, 0x4c,
    // UDP: 53 -> 56680, length 1710 (the datagram continues in the next fragment)
    0x00, 0x35, 0xdd, 0x68, 0x06, 0xae, 0xb4, 0x63,
    // DNS response, first 22 bytes
    0xd4, 0x3f, 0x84, 0x10, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x77, 0x65, 0x62, 0x65, 0x72, 0x6c, 0x61, 0x62, 0x02,
};

// dns-v4v6-tcp-ipfrag.pcap frame 59: the last IPv4 fragment of a DNS response.
constexpr uint8_t kLaterFragmentFrame[] = {
    // Ethernet: dst 00:86:9c:e7:55:14, src 00:0c:29:8a:5d:d7, EtherType 0x0800 (IPv4)
    0x00, 0x86, 0x9c, 0xe7, 0x55, 0x14, 0x00, 0x0c, 0x29, 0x8a, 0x5d, 0xd7,
    0x08, 0x00,
    // IPv4: total length 38, id 0xe211, offset 185 (1480 bytes), protocol 17,
    // 193.24.227.238 -> 173.194.169.104
    0x45, 0x00, 0x00, 0x26, 0xe2, 0x11, 0x00, 0xb9, 0x40, 0x11, 0x9b, 0xca,
    0xc1, 0x18, 0xe3, 0xee, 0xad, 0xc2, 0xa9, 0x68,
    // Fragment data, 18 bytes
    0x00, 0x00, 0x0f, 0x00, 0x08, 0x00, 0x0b, 0x00, 0x02, 0x38, 0x00, 0x20,
    0x01, 0x04, 0x70, 0x1f, 0x0b, 0x16,
};

// dns-a-aaaa-mx.pcap frame 1: a DNS query over IPv4 and UDP.
constexpr uint8_t kDnsQueryFrame[] = {
    // Ethernet: dst 00:15:17:0d:06:f7, src d8:cb:8a:ed:a1:46, EtherType 0x0800 (IPv4)
    0x00, 0x15, 0x17, 0x0d, 0x06, 0xf7, 0xd8, 0xcb, 0x8a, 0xed, 0xa1, 0x46,
    0x08, 0x00,
    // IPv4: IHL 5, total length 67, TTL 64, protocol 17, 10.16.1.11 -> 8.8.8.8
    0x45, 0x00, 0x00, 0x43, 0xff, 0xff, 0x00, 0x00, 0x40, 0x11, 0x5f, 0x80,
    0x0a, 0x10, 0x01, 0x0b, 0x08, 0x08, 0x08, 0x08,
    // UDP: 55398 -> 53, length 47
    0xd8, 0x66, 0x00, 0x35, 0x00, 0x2f, 0xb4, 0xb2,
    // DNS query, 39 bytes: A google.com with an OPT record
    0x1a, 0x2d, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x06, 0x67, 0x6f, 0x6f, 0x67, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00,
    0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00,
};

// gre-tunnel.pcap frame 1: an ICMP echo request inside GRE.
constexpr uint8_t kGreIcmpFrame[] = {
    // Ethernet: dst 00:c0:ca:14:b0:52, src 00:02:2d:56:4a:fd, EtherType 0x0800 (IPv4)
    0x00, 0xc0, 0xca, 0x14, 0xb0, 0x52, 0x00, 0x02, 0x2d, 0x56, 0x4a, 0xfd,
    0x08, 0x00,
    // IPv4: IHL 5, total length 108, DF, TTL 255, protocol 47, 172.27.1.66 -> 66.59.109.137
    0x45, 0x00, 0x00, 0x6c, 0x00, 0x00, 0x40, 0x00, 0xff, 0x2f, 0x1e, 0x41,
    0xac, 0x1b, 0x01, 0x42, 0x42, 0x3b, 0x6d, 0x89,
    // GRE: flags 0, version 0, protocol type 0x0800
    0x00, 0x00, 0x08, 0x00,
    // Inner IPv4: IHL 5, total length 84, DF, TTL 64, protocol 1, 66.59.111.190 -> 172.28.2.3
    0x45, 0x00, 0x00, 0x54, 0x00, 0x00, 0x40, 0x00, 0x40, 0x01, 0xda, 0x90,
    0x42, 0x3b, 0x6f, 0xbe, 0xac, 0x1c, 0x02, 0x03,
    // ICMP: type 8 (echo request), code 0, checksum 0x46c9, id 0xcb68, sequence 256
    0x08, 0x00, 0x46, 0xc9, 0xcb, 0x68, 0x01, 0x00,
    // ICMP data, 56 bytes
    0x70, 0x72, 0xe6, 0x3e, 0x97, 0x19, 0x0c, 0x00, 0x08, 0x09, 0x0a, 0x0b,
    0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23,
    0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
};

// tls13-sni-googlevideo.pcap frame 22: a TCP RST padded to the 60-byte minimum
// Ethernet frame.
constexpr uint8_t kPaddedRstFrame[] = {
    // Ethernet: dst 18:60:24:8d:97:ba, src b4:96:91:1c:fd:66, EtherType 0x0800 (IPv4)
    0x18, 0x60, 0x24, 0x8d, 0x97, 0xba, 0xb4, 0x96, 0x91, 0x1c, 0xfd, 0x66,
    0x08, 0x00,
    // IPv4: IHL 5, total length 40, DF, TTL 59, protocol 6, 172.217.132.169 -> 10.84.1.5
    0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x3b, 0x06, 0x02, 0xf5,
    0xac, 0xd9, 0x84, 0xa9, 0x0a, 0x54, 0x01, 0x05,
    // TCP: 443 -> 53576, data offset 5 (20 bytes), flags 0x04 (RST)
    0x01, 0xbb, 0xd1, 0x48, 0xd4, 0x0e, 0xef, 0x3a, 0x00, 0x00, 0x00, 0x00,
    0x50, 0x04, 0x00, 0x00, 0xdc, 0xb7, 0x00, 0x00,
    // Ethernet padding, 6 bytes
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
// clang-format on

// packet.h defines no constant for PSH.
constexpr uint8_t kTcpPsh = 0x08;

// Offsets of fields that the malformed cases edit, counted from the start of the frame.
constexpr size_t kPlainIpv4Offset = 14;
constexpr size_t kPlainTcpOffset = 34;
constexpr size_t kPlainUdpOffset = 34;
constexpr size_t kPlainIpv6Offset = 14;
constexpr size_t kPlainIpv6ExtensionOffset = 54;

std::string_view PayloadText(std::span<const uint8_t> frame, const PacketInfo& info,
                             size_t length) {
  return {reinterpret_cast<const char*>(frame.data()) + info.payload_offset, length};
}

TEST(DecodeStatusNameTest, KnownNames) {
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kOk), "ok");
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kNotIp), "not_ip");
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kTruncatedIpv4), "truncated_ipv4");
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kTooManyVlanTags), "too_many_vlan_tags");
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kTruncatedIpv6ExtensionHeader),
            "truncated_ipv6_extension_header");
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kCount), "invalid");
}

TEST(DecodeStatusNameTest, NamesAreUniqueSnakeCase) {
  std::set<std::string_view> names;
  for (int i = 0; i < kDecodeStatusCount; ++i) {
    const std::string_view name = DecodeStatusName(static_cast<DecodeStatus>(i));
    SCOPED_TRACE(i);
    EXPECT_FALSE(name.empty());
    EXPECT_NE(name, "invalid");
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_"),
              std::string_view::npos)
        << name;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
}

TEST(IpAddressTest, FromV4IsMappedIpv6) {
  const IpAddress address = IpAddress::FromV4(0x8D8EE405);
  EXPECT_EQ(address, Address("::ffff:141.142.228.5"));
  EXPECT_TRUE(address.IsV4());
  EXPECT_EQ(address.v4(), 0x8D8EE405u);
}

TEST(IpAddressTest, Ipv6IsNotV4) {
  EXPECT_FALSE(Address("2001:db8:1::2").IsV4());
  EXPECT_FALSE(Address("::").IsV4());
  // The deprecated IPv4-compatible form lacks the ffff marker.
  EXPECT_FALSE(Address("::141.142.228.5").IsV4());
  EXPECT_FALSE(Address("1::ffff:141.142.228.5").IsV4());
}

// Expected values: http-get-bro.org.pcap frame 4.
TEST(DecodeEthernetTest, Ipv4Tcp) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(kHttpGetFrame, info), DecodeStatus::kOk);
  ExpectPacketInfoEq(info, PacketInfo{
                               .src = Address("141.142.228.5"),
                               .dst = Address("192.150.187.43"),
                               .src_port = 59856,
                               .dst_port = 80,
                               .ip_version = 4,
                               .protocol = kIpProtoTcp,
                               .tcp_flags = kTcpPsh | kTcpAck,
                               .has_ports = true,
                               .ip_length = 188,
                               .l3_offset = 14,
                               .l4_offset = 34,
                               .payload_offset = 66,
                               .payload_length = 136,
                           });
  EXPECT_TRUE(info.src.IsV4());
  EXPECT_EQ(info.src.v4(), 0x8D8EE405u);
  EXPECT_EQ(PayloadText(kHttpGetFrame, info, 14), "GET /download/");
}

// Expected values: vlan-qinqinq-http.pcap frame 1.
TEST(DecodeEthernetTest, TripleVlanTags) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(kTripleVlanSynFrame, info), DecodeStatus::kOk);
  ExpectPacketInfoEq(info, PacketInfo{
                               .src = Address("141.142.228.5"),
                               .dst = Address("192.150.187.43"),
                               .src_port = 59856,
                               .dst_port = 80,
                               .ip_version = 4,
                               .protocol = kIpProtoTcp,
                               .tcp_flags = kTcpSyn,
                               .has_ports = true,
                               .vlan_count = 3,
                               .vlan_outer = 30,
                               .vlan_inner = 10,
                               .ip_length = 64,
                               .l3_offset = 26,
                               .l4_offset = 46,
                               .payload_offset = 90,
                               .payload_length = 0,
                           });
}

// Expected values: qinq-802.1ad-arp.pcap frame 1.
TEST(DecodeEthernetTest, QinqArpIsNotIp) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(kQinqArpFrame, info), DecodeStatus::kNotIp);
  ExpectPacketInfoEq(info, PacketInfo{
                               .src = IpAddress{},
                               .dst = IpAddress{},
                               .vlan_count = 2,
                               .vlan_outer = 200,
                               .vlan_inner = 2001,
                               .l3_offset = 22,
                           });
}

// Expected values: vlan-ipv6-http.pcap frame 1.
TEST(DecodeEthernetTest, VlanIpv6Tcp) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(kVlanIpv6SynFrame, info), DecodeStatus::kOk);
  ExpectPacketInfoEq(info, PacketInfo{
                               .src = Address("fe80::20c:29ff:fef3:cf38"),
                               .dst = Address("fe80::20c:29ff:faf2:ab42"),
                               .src_port = 58307,
                               .dst_port = 80,
                               .ip_version = 6,
                               .protocol = kIpProtoTcp,
                               .tcp_flags = kTcpSyn,
                               .has_ports = true,
                               .vlan_count = 1,
                               .vlan_outer = 1111,
                               .vlan_inner = 0,
                               .ip_length = 60,
                               .l3_offset = 18,
                               .l4_offset = 58,
                               .payload_offset = 78,
                               .payload_length = 0,
                           });
  EXPECT_FALSE(info.src.IsV4());
}

// Expected values: mpls-in-vlan-http.pcap frame 3. The IPv4 total length is 710, but the
// payload is clipped to the 96 captured bytes.
TEST(DecodeEthernetTest, MplsInVlanCutBySnaplen) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(kMplsInVlanPrefix, info), DecodeStatus::kOk);
  ExpectPacketInfoEq(info, PacketInfo{
                               .src = Address("65.65.65.65"),
                               .dst = Address("65.65.65.65"),
                               .src_port = 61193,
                               .dst_port = 80,
                               .ip_version = 4,
                               .protocol = kIpProtoTcp,
                               .tcp_flags = kTcpPsh | kTcpAck,
                               .has_ports = true,
                               .vlan_count = 1,
                               .mpls_count = 2,
                               .vlan_outer = 3399,
                               .ip_length = 710,
                               .l3_offset = 26,
                               .l4_offset = 46,
                               .payload_offset = 78,
                               .payload_length = 18,
                           });
  EXPECT_EQ(PayloadText(kMplsInVlanPrefix, info, 6), "GET /A");
}

TEST(DecodeEthernetTest, MplsMulticastEtherType) {
  std::vector<uint8_t> frame = CopyOf(kMplsInVlanPrefix);
  Store16(frame, 16, 0x8848);
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), DecodeStatus::kOk);
  EXPECT_EQ(info.mpls_count, 2);
  EXPECT_EQ(info.src_port, 61193);
}

// The VLAN tag and labels of mpls-in-vlan-http.pcap frame 3 followed by the IPv6 packet
// of ipv6-exthdr-http.pcap frame 4, so that the first nibble after the stack is 6.
TEST(DecodeEthernetTest, MplsCarryingIpv6) {
  constexpr size_t kMplsEnd = 26;
  std::vector<uint8_t> frame(kMplsInVlanPrefix, kMplsInVlanPrefix + kMplsEnd);
  frame.insert(frame.end(), std::begin(kIpv6DestinationOptionsFrame) + kPlainIpv6Offset,
               std::end(kIpv6DestinationOptionsFrame));
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), DecodeStatus::kOk);
  EXPECT_EQ(info.mpls_count, 2);
  EXPECT_EQ(info.ip_version, 6);
  EXPECT_EQ(info.l3_offset, kMplsEnd);
  EXPECT_EQ(info.src, Address("2001:db8:1::2"));
  EXPECT_EQ(info.src_port, 36951);
  EXPECT_EQ(info.dst_port, 80);
}

struct ExtensionHeaderCase {
  const char* name;
  std::span<const uint8_t> frame;
  uint16_t src_port;
  bool is_fragment;
};

void PrintTo(const ExtensionHeaderCase& test_case, std::ostream* out) { *out << test_case.name; }

class Ipv6ExtensionHeaderTest : public testing::TestWithParam<ExtensionHeaderCase> {};

// Expected values: ipv6-exthdr-http.pcap frames 4, 13, 23 and 33. RFC 6946 makes an atomic
// fragment a whole packet, so its ports are decoded like the others and it does not
// count as a fragment.
TEST_P(Ipv6ExtensionHeaderTest, DecodesPortsAfterHeader) {
  const ExtensionHeaderCase& test_case = GetParam();
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(test_case.frame, info), DecodeStatus::kOk);
  ExpectPacketInfoEq(info, PacketInfo{
                               .src = Address("2001:db8:1::2"),
                               .dst = Address("2001:db8:1::1"),
                               .src_port = test_case.src_port,
                               .dst_port = 80,
                               .ip_version = 6,
                               .protocol = kIpProtoTcp,
                               .tcp_flags = kTcpSyn,
                               .has_ports = true,
                               .is_fragment = test_case.is_fragment,
                               .is_first_fragment = test_case.is_fragment,
                               .ip_length = 68,
                               .l3_offset = 14,
                               .l4_offset = 62,
                               .payload_offset = 82,
                               .payload_length = 0,
                           });
}

INSTANTIATE_TEST_SUITE_P(
    RealFrames, Ipv6ExtensionHeaderTest,
    testing::Values(ExtensionHeaderCase{"DestinationOptions", kIpv6DestinationOptionsFrame, 36951,
                                        false},
                    ExtensionHeaderCase{"AtomicFragment", kIpv6AtomicFragmentFrame, 59694, false},
                    ExtensionHeaderCase{"HopByHop", kIpv6HopByHopFrame, 27393, false},
                    ExtensionHeaderCase{"Routing", kIpv6RoutingFrame, 45805, false}),
    [](const testing::TestParamInfo<ExtensionHeaderCase>& info) { return info.param.name; });

// Expected values: ipv6-exthdr-http.pcap frame 2.
TEST(DecodeEthernetTest, Icmpv6NeighborSolicitation) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(kNeighborSolicitationFrame, info), DecodeStatus::kOk);
  ExpectPacketInfoEq(info, PacketInfo{
                               .src = Address("2001:db8:1::2"),
                               .dst = Address("ff02::1:ff00:1"),
                               .ip_version = 6,
                               .protocol = kIpProtoIcmpv6,
                               .icmp_type = 135,
                               .icmp_code = 0,
                               .ip_length = 72,
                               .l3_offset = 14,
                               .l4_offset = 54,
                               .payload_offset = 58,
                               .payload_length = 28,
                           });
}

// Expected values: dns-v4v6-tcp-ipfrag.pcap frame 53, dissected with IP reassembly off.
// The UDP length (1710) runs past this fragment and past the 64 captured bytes.
TEST(DecodeEthernetTest, Ipv4FirstFragment) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(kFirstFragmentPrefix, info), DecodeStatus::kOk);
  ExpectPacketInfoEq(info, PacketInfo{
                               .src = Address("193.24.227.238"),
                               .dst = Address("172.217.40.76"),
                               .src_port = 53,
                               .dst_port = 56680,
                               .ip_version = 4,
                               .protocol = kIpProtoUdp,
                               .has_ports = true,
                               .is_fragment = true,
                               .is_first_fragment = true,
                               .ip_length = 1500,
                               .l3_offset = 14,
                               .l4_offset = 34,
                               .payload_offset = 42,
                               .payload_length = 22,
                           });
}

// Expected values: dns-v4v6-tcp-ipfrag.pcap frame 59. The first bytes of this fragment
// are DNS data, so reading them as ports would be wrong.
TEST(DecodeEthernetTest, Ipv4LaterFragmentHasNoPorts) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(kLaterFragmentFrame, info), DecodeStatus::kOk);
  ExpectPacketInfoEq(info, PacketInfo{
                               .src = Address("193.24.227.238"),
                               .dst = Address("173.194.169.104"),
                               .ip_version = 4,
                               .protocol = kIpProtoUdp,
                               .has_ports = false,
                               .is_fragment = true,
                               .is_first_fragment = false,
                               .ip_length = 38,
                               .l3_offset = 14,
                               .l4_offset = 34,
                               .payload_offset = 34,
                               .payload_length = 18,
                           });
}

// Expected values: dns-a-aaaa-mx.pcap frame 1.
TEST(DecodeEthernetTest, UdpDnsQuery) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(kDnsQueryFrame, info), DecodeStatus::kOk);
  ExpectPacketInfoEq(info, PacketInfo{
                               .src = Address("10.16.1.11"),
                               .dst = Address("8.8.8.8"),
                               .src_port = 55398,
                               .dst_port = 53,
                               .ip_version = 4,
                               .protocol = kIpProtoUdp,
                               .has_ports = true,
                               .ip_length = 67,
                               .l3_offset = 14,
                               .l4_offset = 34,
                               .payload_offset = 42,
                               .payload_length = 39,
                           });
}

// Expected values: gre-tunnel.pcap frame 1. The fields describe the inner ICMP packet, and
// the outer addresses are kept in the tunnel fields.
TEST(DecodeEthernetTest, GreCarriesInnerIcmp) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(kGreIcmpFrame, info), DecodeStatus::kOk);
  ExpectPacketInfoEq(info, PacketInfo{
                               .src = Address("66.59.111.190"),
                               .dst = Address("172.28.2.3"),
                               .ip_version = 4,
                               .protocol = kIpProtoIcmp,
                               .icmp_type = 8,
                               .icmp_code = 0,
                               .ip_length = 84,
                               .l3_offset = 38,
                               .l4_offset = 58,
                               .payload_offset = 62,
                               .payload_length = 60,
                               .tunnel = {.outer_src = Address("172.27.1.66"),
                                          .outer_dst = Address("66.59.109.137"),
                                          .depth = 1,
                                          .type = TunnelType::kGre},
                           });
}

// Expected values: tls13-sni-googlevideo.pcap frame 22, whose IPv4 total length of 40 ends
// 6 bytes before the end of the padded frame.
TEST(DecodeEthernetTest, EthernetPaddingIsNotPayload) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(kPaddedRstFrame, info), DecodeStatus::kOk);
  ExpectPacketInfoEq(info, PacketInfo{
                               .src = Address("172.217.132.169"),
                               .dst = Address("10.84.1.5"),
                               .src_port = 443,
                               .dst_port = 53576,
                               .ip_version = 4,
                               .protocol = kIpProtoTcp,
                               .tcp_flags = kTcpRst,
                               .has_ports = true,
                               .ip_length = 40,
                               .l3_offset = 14,
                               .l4_offset = 34,
                               .payload_offset = 54,
                               .payload_length = 0,
                           });
}

TEST(DecodeEthernetTest, ResetsReusedInfo) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(kHttpGetFrame, info), DecodeStatus::kOk);
  ASSERT_EQ(DecodeFrame(kQinqArpFrame, info), DecodeStatus::kNotIp);
  EXPECT_EQ(info.src, IpAddress{});
  EXPECT_EQ(info.ip_version, 0);
  EXPECT_EQ(info.ip_length, 0);
  EXPECT_FALSE(info.has_ports);
  EXPECT_EQ(info.src_port, 0);
  EXPECT_EQ(info.payload_length, 0);
}

TEST(DecodeEthernetTest, Ipv4OptionsAreSkipped) {
  std::vector<uint8_t> frame = CopyOf(kHttpGetFrame);
  // A 4-byte Router Alert option (RFC 2113) raises IHL to 6 and the total length by 4.
  Insert(frame, kPlainTcpOffset, {0x94, 0x04, 0x00, 0x00});
  frame[kPlainIpv4Offset] = 0x46;
  Store16(frame, kPlainIpv4Offset + 2, 188 + 4);
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), DecodeStatus::kOk);
  EXPECT_EQ(info.l4_offset, 38);
  EXPECT_EQ(info.src_port, 59856);
  EXPECT_EQ(info.dst_port, 80);
  EXPECT_EQ(info.payload_offset, 70);
  EXPECT_EQ(info.payload_length, 136);
}

// PacketInfo offsets are 16 bits wide, so a frame longer than 65535 bytes is decoded as
// if it had been captured to 65535 bytes.
TEST(DecodeEthernetTest, OversizedFrameIsClipped) {
  std::vector<uint8_t> frame = CopyOf(kDnsQueryFrame);
  frame.resize(70000);
  Store16(frame, kPlainIpv4Offset + 2, 0xFFFF);
  Store16(frame, kPlainUdpOffset + 4, 0xFFFF - 20);
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), DecodeStatus::kOk);
  EXPECT_EQ(info.ip_length, 0xFFFF);
  EXPECT_EQ(info.payload_offset, 42);
  EXPECT_EQ(info.payload_length, 0xFFFF - 42);
}

// Expected values: gre-tunnel.pcap frame 1. The inner IPv4 packet starts after the 4-byte
// GRE header.
TEST(DecodeIpTest, IcmpInsideGre) {
  constexpr size_t kInnerOffset = 38;
  const ExactBuffer buffer(kGreIcmpFrame);
  PacketInfo info;
  ASSERT_EQ(DecodeIp(buffer.bytes(), kInnerOffset, info), DecodeStatus::kOk);
  ExpectPacketInfoEq(info, PacketInfo{
                               .src = Address("66.59.111.190"),
                               .dst = Address("172.28.2.3"),
                               .ip_version = 4,
                               .protocol = kIpProtoIcmp,
                               .icmp_type = 8,
                               .icmp_code = 0,
                               .ip_length = 84,
                               .l3_offset = 38,
                               .l4_offset = 58,
                               .payload_offset = 62,
                               .payload_length = 60,
                           });
}

TEST(DecodeIpTest, KeepsLinkLayerFields) {
  constexpr size_t kIpv4Offset = 26;
  const ExactBuffer buffer(kTripleVlanSynFrame);
  PacketInfo info;
  ASSERT_EQ(DecodeEthernet(buffer.bytes(), info), DecodeStatus::kOk);
  ASSERT_EQ(DecodeIp(buffer.bytes(), kIpv4Offset, info), DecodeStatus::kOk);
  EXPECT_EQ(info.vlan_count, 3);
  EXPECT_EQ(info.vlan_outer, 30);
  EXPECT_EQ(info.vlan_inner, 10);
  EXPECT_EQ(info.l3_offset, kIpv4Offset);
  EXPECT_EQ(info.src_port, 59856);
}

TEST(DecodeIpTest, Ipv6ByVersionNibble) {
  const ExactBuffer buffer(kNeighborSolicitationFrame);
  PacketInfo info;
  ASSERT_EQ(DecodeIp(buffer.bytes(), kPlainIpv6Offset, info), DecodeStatus::kOk);
  EXPECT_EQ(info.ip_version, 6);
  EXPECT_EQ(info.icmp_type, 135);
}

TEST(DecodeIpTest, EmptyOrUnknownVersion) {
  PacketInfo info;
  EXPECT_EQ(DecodeIp({}, 0, info), DecodeStatus::kTruncatedIpv4);

  const ExactBuffer buffer(kHttpGetFrame);
  EXPECT_EQ(DecodeIp(buffer.bytes(), sizeof(kHttpGetFrame), info), DecodeStatus::kTruncatedIpv4);
  EXPECT_EQ(DecodeIp(buffer.bytes(), sizeof(kHttpGetFrame) + 100, info),
            DecodeStatus::kTruncatedIpv4);

  std::vector<uint8_t> frame = CopyOf(kHttpGetFrame);
  frame[kPlainIpv4Offset] = 0x55;
  const ExactBuffer version_5(frame);
  EXPECT_EQ(DecodeIp(version_5.bytes(), kPlainIpv4Offset, info), DecodeStatus::kBadIpv4Version);
}

struct TruncationCase {
  const char* name;
  std::span<const uint8_t> frame;
  std::vector<StatusFromLength> statuses;
};

void PrintTo(const TruncationCase& test_case, std::ostream* out) { *out << test_case.name; }

DecodeStatus ExpectedStatus(const TruncationCase& test_case, size_t length) {
  DecodeStatus status = test_case.statuses.front().status;
  for (const StatusFromLength& entry : test_case.statuses) {
    if (length >= entry.min_length) {
      status = entry.status;
    }
  }
  return status;
}

class TruncationTest : public testing::TestWithParam<TruncationCase> {};

// Cuts a real frame at every length from 0 to its full size. A cut inside a header returns
// the status that names that header. Once the transport header is complete, a cut
// frame decodes as a capture with a shorter snaplen.
TEST_P(TruncationTest, EveryLength) {
  const TruncationCase& test_case = GetParam();
  for (size_t length = 0; length <= test_case.frame.size(); ++length) {
    SCOPED_TRACE(length);
    PacketInfo info;
    const DecodeStatus status = DecodeFrame(test_case.frame.first(length), info);
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
constexpr DecodeStatus kTruncatedExtension = DecodeStatus::kTruncatedIpv6ExtensionHeader;
constexpr DecodeStatus kTruncatedTcp = DecodeStatus::kTruncatedTcp;
constexpr DecodeStatus kTruncatedUdp = DecodeStatus::kTruncatedUdp;
constexpr DecodeStatus kOk = DecodeStatus::kOk;

std::vector<StatusFromLength> Ipv6ExtensionSynStatuses() {
  return {{0, kTruncatedEthernet},
          {14, kTruncatedIpv6},
          {54, kTruncatedExtension},
          {62, kTruncatedTcp},
          {82, kOk}};
}

INSTANTIATE_TEST_SUITE_P(
    RealFrames, TruncationTest,
    testing::Values(
        TruncationCase{
            "HttpGet",
            kHttpGetFrame,
            {{0, kTruncatedEthernet}, {14, kTruncatedIpv4}, {34, kTruncatedTcp}, {66, kOk}}},
        TruncationCase{"TripleVlan",
                       kTripleVlanSynFrame,
                       {{0, kTruncatedEthernet},
                        {14, kTruncatedVlan},
                        {26, kTruncatedIpv4},
                        {46, kTruncatedTcp},
                        {90, kOk}}},
        TruncationCase{"QinqArp",
                       kQinqArpFrame,
                       {{0, kTruncatedEthernet}, {14, kTruncatedVlan}, {22, DecodeStatus::kNotIp}}},
        TruncationCase{"VlanIpv6",
                       kVlanIpv6SynFrame,
                       {{0, kTruncatedEthernet},
                        {14, kTruncatedVlan},
                        {18, kTruncatedIpv6},
                        {58, kTruncatedTcp},
                        {78, kOk}}},
        // A stack that ends exactly at the bottom label has no payload nibble to read.
        TruncationCase{"MplsInVlan",
                       kMplsInVlanPrefix,
                       {{0, kTruncatedEthernet},
                        {14, kTruncatedVlan},
                        {18, kTruncatedMpls},
                        {27, kTruncatedIpv4},
                        {46, kTruncatedTcp},
                        {78, kOk}}},
        TruncationCase{"Ipv6DestinationOptions", kIpv6DestinationOptionsFrame,
                       Ipv6ExtensionSynStatuses()},
        TruncationCase{"Ipv6AtomicFragment", kIpv6AtomicFragmentFrame, Ipv6ExtensionSynStatuses()},
        TruncationCase{"Ipv6HopByHop", kIpv6HopByHopFrame, Ipv6ExtensionSynStatuses()},
        TruncationCase{"Ipv6Routing", kIpv6RoutingFrame, Ipv6ExtensionSynStatuses()},
        TruncationCase{"NeighborSolicitation",
                       kNeighborSolicitationFrame,
                       {{0, kTruncatedEthernet},
                        {14, kTruncatedIpv6},
                        {54, DecodeStatus::kTruncatedIcmpv6},
                        {58, kOk}}},
        TruncationCase{
            "Ipv4FirstFragment",
            kFirstFragmentPrefix,
            {{0, kTruncatedEthernet}, {14, kTruncatedIpv4}, {34, kTruncatedUdp}, {42, kOk}}},
        TruncationCase{"Ipv4LaterFragment",
                       kLaterFragmentFrame,
                       {{0, kTruncatedEthernet}, {14, kTruncatedIpv4}, {34, kOk}}},
        TruncationCase{
            "UdpDns",
            kDnsQueryFrame,
            {{0, kTruncatedEthernet}, {14, kTruncatedIpv4}, {34, kTruncatedUdp}, {42, kOk}}},
        TruncationCase{"Gre",
                       kGreIcmpFrame,
                       {{0, kTruncatedEthernet},
                        {14, kTruncatedIpv4},
                        {34, DecodeStatus::kTruncatedGre},
                        {38, kTruncatedIpv4},
                        {58, DecodeStatus::kTruncatedIcmp},
                        {62, kOk}}},
        TruncationCase{
            "PaddedRst",
            kPaddedRstFrame,
            {{0, kTruncatedEthernet}, {14, kTruncatedIpv4}, {34, kTruncatedTcp}, {54, kOk}}}),
    [](const testing::TestParamInfo<TruncationCase>& info) { return info.param.name; });

TEST(DecodeIpTest, EveryTruncationOfInnerIcmp) {
  constexpr size_t kInnerOffset = 38;
  const std::span<const uint8_t> frame(kGreIcmpFrame);
  for (size_t length = kInnerOffset; length <= frame.size(); ++length) {
    SCOPED_TRACE(length);
    const ExactBuffer buffer(frame.first(length));
    PacketInfo info;
    const DecodeStatus status = DecodeIp(buffer.bytes(), kInnerOffset, info);
    if (length < kInnerOffset + 20) {
      EXPECT_EQ(status, DecodeStatus::kTruncatedIpv4);
    } else if (length < kInnerOffset + 24) {
      EXPECT_EQ(status, DecodeStatus::kTruncatedIcmp);
    } else {
      EXPECT_EQ(status, DecodeStatus::kOk);
      EXPECT_EQ(info.icmp_type, 8);
    }
  }
}

TEST(MalformedTest, Ipv4HeaderLengthBelowFive) {
  for (const uint8_t version_ihl : {0x40, 0x44}) {
    SCOPED_TRACE(version_ihl);
    std::vector<uint8_t> frame = CopyOf(kHttpGetFrame);
    frame[kPlainIpv4Offset] = version_ihl;
    PacketInfo info;
    EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kBadIpv4HeaderLength);
    EXPECT_FALSE(info.has_ports);
  }
}

TEST(MalformedTest, Ipv4HeaderPastCapture) {
  // IHL 6 needs 24 header bytes, but the capture ends 22 bytes into the header.
  std::vector<uint8_t> frame = CopyOf(std::span(kHttpGetFrame).first(36));
  frame[kPlainIpv4Offset] = 0x46;
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kTruncatedIpv4);
}

TEST(MalformedTest, Ipv4TotalLengthBelowHeader) {
  for (const uint16_t total_length : {0, 19}) {
    SCOPED_TRACE(total_length);
    std::vector<uint8_t> frame = CopyOf(kHttpGetFrame);
    Store16(frame, kPlainIpv4Offset + 2, total_length);
    PacketInfo info;
    EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kBadIpv4TotalLength);
  }
}

TEST(MalformedTest, Ipv4WrongVersion) {
  std::vector<uint8_t> frame = CopyOf(kHttpGetFrame);
  frame[kPlainIpv4Offset] = 0x65;
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kBadIpv4Version);
  EXPECT_EQ(info.ip_version, 0);
}

TEST(MalformedTest, Ipv6WrongVersion) {
  std::vector<uint8_t> frame = CopyOf(kVlanIpv6SynFrame);
  frame[18] = 0x40;
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kBadIpv6Version);
  EXPECT_EQ(info.ip_version, 0);
  EXPECT_EQ(info.vlan_outer, 1111);
}

TEST(MalformedTest, TcpDataOffsetBelowFive) {
  for (const uint8_t data_offset : {0x00, 0x40}) {
    SCOPED_TRACE(data_offset);
    std::vector<uint8_t> frame = CopyOf(kHttpGetFrame);
    frame[kPlainTcpOffset + 12] = data_offset;
    PacketInfo info;
    EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kBadTcpHeaderLength);
    EXPECT_FALSE(info.has_ports);
  }
}

TEST(MalformedTest, TcpHeaderPastDatagram) {
  // Data offset 6 requires 24 bytes. The frame has them only because of Ethernet padding,
  // which is not part of the IPv4 datagram.
  std::vector<uint8_t> frame = CopyOf(kPaddedRstFrame);
  frame[kPlainTcpOffset + 12] = 0x60;
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kTruncatedTcp);
}

TEST(MalformedTest, UdpLengthBelowEight) {
  for (const uint16_t udp_length : {0, 7}) {
    SCOPED_TRACE(udp_length);
    std::vector<uint8_t> frame = CopyOf(kDnsQueryFrame);
    Store16(frame, kPlainUdpOffset + 4, udp_length);
    PacketInfo info;
    EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kBadUdpLength);
    EXPECT_FALSE(info.has_ports);
  }
}

TEST(MalformedTest, UdpLengthEightHasEmptyPayload) {
  std::vector<uint8_t> frame = CopyOf(kDnsQueryFrame);
  Store16(frame, kPlainUdpOffset + 4, 8);
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), DecodeStatus::kOk);
  EXPECT_EQ(info.payload_offset, 42);
  EXPECT_EQ(info.payload_length, 0);
}

// Adds an outer tag, so the tags of the real frame keep their order inside it.
void InsertOuterVlanTag(std::vector<uint8_t>& frame, uint16_t tpid, uint16_t vlan_id) {
  Insert(frame, 12,
         {static_cast<uint8_t>(tpid >> 8), static_cast<uint8_t>(tpid),
          static_cast<uint8_t>(vlan_id >> 8), static_cast<uint8_t>(vlan_id)});
}

TEST(DecodeLimitsTest, FourVlanTagsAccepted) {
  std::vector<uint8_t> frame = CopyOf(kTripleVlanSynFrame);
  InsertOuterVlanTag(frame, 0x9100, 40);
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), DecodeStatus::kOk);
  EXPECT_EQ(info.vlan_count, 4);
  EXPECT_EQ(info.vlan_outer, 40);
  EXPECT_EQ(info.vlan_inner, 10);
  EXPECT_EQ(info.src_port, 59856);
}

TEST(DecodeLimitsTest, FiveVlanTagsRejected) {
  std::vector<uint8_t> frame = CopyOf(kTripleVlanSynFrame);
  InsertOuterVlanTag(frame, 0x9100, 40);
  InsertOuterVlanTag(frame, 0x88A8, 50);
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kTooManyVlanTags);
  EXPECT_EQ(info.vlan_count, 4);
  EXPECT_EQ(info.vlan_outer, 50);
  EXPECT_FALSE(info.has_ports);
}

// Pushes copies of the real top label (254, not bottom of stack) onto the stack.
std::vector<uint8_t> MplsFrameWithLabels(int label_count) {
  constexpr size_t kFirstLabelOffset = 18;
  std::vector<uint8_t> frame = CopyOf(kMplsInVlanPrefix);
  for (int i = 2; i < label_count; ++i) {
    Insert(frame, kFirstLabelOffset, {0x00, 0x0f, 0xe0, 0x3c});
  }
  return frame;
}

TEST(DecodeLimitsTest, EightMplsLabelsAccepted) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(MplsFrameWithLabels(kMaxMplsLabels), info), DecodeStatus::kOk);
  EXPECT_EQ(info.mpls_count, 8);
  EXPECT_EQ(info.l3_offset, 18 + 8 * 4);
  EXPECT_EQ(info.src_port, 61193);
}

TEST(DecodeLimitsTest, NineMplsLabelsRejected) {
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(MplsFrameWithLabels(kMaxMplsLabels + 1), info),
            DecodeStatus::kTooManyMplsLabels);
  EXPECT_EQ(info.mpls_count, 8);
  EXPECT_EQ(info.ip_version, 0);
}

TEST(MalformedTest, MplsPayloadNeitherIpv4NorIpv6) {
  // First nibble 0, as an RFC 4385 pseudowire control word would start.
  std::vector<uint8_t> frame = CopyOf(kMplsInVlanPrefix);
  frame[26] = 0x00;
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kUnknownMplsPayload);
  EXPECT_EQ(info.mpls_count, 2);
  EXPECT_EQ(info.ip_version, 0);
}

// Inserts Destination Options headers in front of the real one of ipv6-exthdr-http.pcap
// frame 4, fixing the IPv6 payload length.
std::vector<uint8_t> Ipv6FrameWithExtensionHeaders(int header_count) {
  std::vector<uint8_t> frame = CopyOf(kIpv6DestinationOptionsFrame);
  for (int i = 1; i < header_count; ++i) {
    Insert(frame, kPlainIpv6ExtensionOffset, {60, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00});
  }
  Store16(frame, kPlainIpv6Offset + 4, static_cast<uint16_t>(frame.size() - 54));
  return frame;
}

TEST(DecodeLimitsTest, EightIpv6ExtensionHeadersAccepted) {
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(Ipv6FrameWithExtensionHeaders(kMaxIpv6ExtensionHeaders), info),
            DecodeStatus::kOk);
  EXPECT_EQ(info.l4_offset, 54 + 8 * 8);
  EXPECT_EQ(info.src_port, 36951);
}

TEST(DecodeLimitsTest, NineIpv6ExtensionHeadersRejected) {
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(Ipv6FrameWithExtensionHeaders(kMaxIpv6ExtensionHeaders + 1), info),
            DecodeStatus::kTooManyIpv6ExtensionHeaders);
  EXPECT_FALSE(info.has_ports);
}

// Chains the four real extension headers of ipv6-exthdr-http.pcap frames 23, 33, 13 and 4
// with an Authentication Header between them, in the RFC 8200 order.
TEST(Ipv6ChainTest, EveryKindIncludingAh) {
  const auto header_of = [](std::span<const uint8_t> frame, uint8_t next_header) {
    std::vector<uint8_t> header(frame.begin() + kPlainIpv6ExtensionOffset,
                                frame.begin() + kPlainIpv6ExtensionOffset + 8);
    header[0] = next_header;
    return header;
  };
  std::vector<uint8_t> frame(kIpv6HopByHopFrame, kIpv6HopByHopFrame + kPlainIpv6ExtensionOffset);
  const std::vector<std::vector<uint8_t>> chain = {
      header_of(kIpv6HopByHopFrame, 43),
      header_of(kIpv6RoutingFrame, 44),
      header_of(kIpv6AtomicFragmentFrame, 51),
      // AH with payload length 4: (4 + 2) * 4 = 24 bytes (RFC 4302), SPI 0x100,
      // sequence number 1 and a 12-byte ICV.
      {60, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      header_of(kIpv6DestinationOptionsFrame, 6),
  };
  for (const std::vector<uint8_t>& header : chain) {
    frame.insert(frame.end(), header.begin(), header.end());
  }
  const size_t l4_offset = frame.size();
  frame.insert(frame.end(), std::end(kIpv6HopByHopFrame) - 20, std::end(kIpv6HopByHopFrame));
  Store16(frame, kPlainIpv6Offset + 4, static_cast<uint16_t>(frame.size() - 54));

  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), DecodeStatus::kOk);
  EXPECT_EQ(info.l4_offset, l4_offset);
  EXPECT_EQ(info.protocol, kIpProtoTcp);
  EXPECT_TRUE(info.has_ports);
  EXPECT_EQ(info.src_port, 27393);
  // The fragment header in the chain is atomic (offset 0, M=0): a whole packet.
  EXPECT_FALSE(info.is_fragment);
  EXPECT_FALSE(info.is_first_fragment);
}

TEST(Ipv6ChainTest, LaterFragmentHasNoPorts) {
  std::vector<uint8_t> frame = CopyOf(kIpv6AtomicFragmentFrame);
  Store16(frame, kPlainIpv6ExtensionOffset + 2, 185 << 3);
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), DecodeStatus::kOk);
  EXPECT_TRUE(info.is_fragment);
  EXPECT_FALSE(info.is_first_fragment);
  EXPECT_FALSE(info.has_ports);
  EXPECT_EQ(info.src_port, 0);
  EXPECT_EQ(info.protocol, kIpProtoTcp);
  EXPECT_EQ(info.l4_offset, 62);
  EXPECT_EQ(info.payload_offset, 62);
  EXPECT_EQ(info.payload_length, 20);
}

TEST(Ipv6ChainTest, FirstFragmentHasPorts) {
  std::vector<uint8_t> frame = CopyOf(kIpv6AtomicFragmentFrame);
  Store16(frame, kPlainIpv6ExtensionOffset + 2, 0x0001);  // Offset 0, M=1.
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), DecodeStatus::kOk);
  EXPECT_TRUE(info.is_fragment);
  EXPECT_TRUE(info.is_first_fragment);
  EXPECT_TRUE(info.has_ports);
  EXPECT_EQ(info.src_port, 59694);
}

TEST(Ipv6ChainTest, NoNextHeaderEndsChain) {
  std::vector<uint8_t> frame = CopyOf(kIpv6DestinationOptionsFrame);
  frame[kPlainIpv6ExtensionOffset] = 59;
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), DecodeStatus::kOk);
  EXPECT_EQ(info.protocol, 59);
  EXPECT_FALSE(info.has_ports);
  EXPECT_EQ(info.l4_offset, 62);
  EXPECT_EQ(info.payload_length, 0);
}

TEST(Ipv6ChainTest, ZeroPayloadLengthWithTcp) {
  std::vector<uint8_t> frame = CopyOf(kVlanIpv6SynFrame);
  Store16(frame, 18 + 4, 0);
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kBadIpv6PayloadLength);
  EXPECT_FALSE(info.has_ports);
}

// RFC 2675 jumbograms carry payload length 0 and a Hop-by-Hop Jumbo Payload option, so the
// packet is read to the end of the frame.
TEST(Ipv6ChainTest, ZeroPayloadLengthWithHopByHop) {
  std::vector<uint8_t> frame = CopyOf(kIpv6HopByHopFrame);
  Store16(frame, kPlainIpv6Offset + 4, 0);
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), DecodeStatus::kOk);
  EXPECT_EQ(info.src_port, 27393);
  EXPECT_EQ(info.payload_offset, 82);
}

TEST(Ipv6ChainTest, ZeroPayloadLengthWithNoNextHeader) {
  std::vector<uint8_t> frame = CopyOf(std::span(kIpv6DestinationOptionsFrame).first(54));
  frame[kPlainIpv6Offset + 6] = 59;
  Store16(frame, kPlainIpv6Offset + 4, 0);
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), DecodeStatus::kOk);
  EXPECT_EQ(info.protocol, 59);
  EXPECT_EQ(info.l4_offset, 54);
}

TEST(Ipv6ChainTest, PayloadCutBySnaplen) {
  constexpr size_t kCaptured = 70;
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(std::span(kNeighborSolicitationFrame).first(kCaptured), info),
            DecodeStatus::kOk);
  EXPECT_EQ(info.payload_offset, 58);
  EXPECT_EQ(info.payload_length, kCaptured - 58);
}

// 40 + 65535 does not fit the 16-bit ip_length, which saturates.
TEST(Ipv6ChainTest, MaxPayloadLengthSaturatesIpLength) {
  std::vector<uint8_t> frame = CopyOf(kVlanIpv6SynFrame);
  Store16(frame, 18 + 4, 0xFFFF);
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frame, info), DecodeStatus::kOk);
  EXPECT_EQ(info.ip_length, 0xFFFF);
  EXPECT_EQ(info.payload_offset, 78);
  EXPECT_EQ(info.payload_length, 0);
}

TEST(Ipv6ChainTest, ExtensionHeaderPastPayloadLength) {
  // Payload length 4 ends the packet inside the 8-byte Destination Options header.
  std::vector<uint8_t> frame = CopyOf(kIpv6DestinationOptionsFrame);
  Store16(frame, kPlainIpv6Offset + 4, 4);
  PacketInfo info;
  EXPECT_EQ(DecodeFrame(frame, info), DecodeStatus::kTruncatedIpv6ExtensionHeader);
  EXPECT_FALSE(info.has_ports);
}

}  // namespace
}  // namespace sensor::dp
