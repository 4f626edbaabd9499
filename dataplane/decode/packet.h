// Decoded view of one received frame: the fields that flow tracking and matching read.
//
// Filled by Decode() on a worker lcore for every packet. Plain data, no allocation; the
// offsets point into the frame the decoder was given, which must outlive the view.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace sensor::dp {

// An IPv4 or IPv6 address. IPv4 is held as an IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) so that flow keys have one shape; `v4()` returns it in host order.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};

  static IpAddress FromV4(uint32_t host_order);
  bool IsV4() const;
  uint32_t v4() const;  // Only meaningful when IsV4().
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

// Why a frame was not decoded to a transport header. kOk and the kNot* values are
// normal outcomes; the rest are malformed or truncated input. Every value is a named
// counter (see DecodeStatusName) so nothing is skipped without a trace.
enum class DecodeStatus : uint8_t {
  kOk = 0,
  kNotIp,              // A well-formed frame with a non-IP payload (ARP, LLDP, ...).
  kTruncatedEthernet,
  kTruncatedVlan,
  kTooManyVlanTags,    // More stacked 802.1Q/802.1ad tags than kMaxVlanTags.
  kTruncatedMpls,
  kTooManyMplsLabels,  // A label stack deeper than kMaxMplsLabels.
  kUnknownMplsPayload, // Bottom of stack followed by neither IPv4 nor IPv6.
  kTruncatedIpv4,
  kBadIpv4Version,
  kBadIpv4HeaderLength,
  kBadIpv4TotalLength,
  kTruncatedIpv6,
  kBadIpv6Version,
  kBadIpv6PayloadLength,
  kTruncatedIpv6ExtensionHeader,
  kTooManyIpv6ExtensionHeaders,
  kTruncatedTcp,
  kBadTcpHeaderLength,
  kTruncatedUdp,
  kBadUdpLength,
  kTruncatedIcmp,
  kTruncatedIcmpv6,
  kCount,
};

inline constexpr int kDecodeStatusCount = static_cast<int>(DecodeStatus::kCount);

// Stable snake_case name of a status, used as the counter name in stats and metrics.
std::string_view DecodeStatusName(DecodeStatus status);

inline constexpr int kMaxVlanTags = 4;
inline constexpr int kMaxMplsLabels = 8;
inline constexpr int kMaxIpv6ExtensionHeaders = 8;

inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;

// TCP flag bits as they appear in the header's flags byte.
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpAck = 0x10;

struct PacketInfo {
  IpAddress src;
  IpAddress dst;
  uint16_t src_port = 0;  // Host order; ICMP type/code are not ports and leave these 0.
  uint16_t dst_port = 0;
  uint8_t ip_version = 0;  // 4 or 6; 0 when no IP header was found.
  uint8_t protocol = 0;    // IPv4 protocol / IPv6 upper-layer next header.
  uint8_t tcp_flags = 0;
  bool has_ports = false;  // TCP or UDP header present (not on later fragments).
  // Set for IPv4 and IPv6 fragments. An IPv6 atomic fragment (offset 0, M=0) is a whole
  // packet (RFC 6946) and sets neither flag.
  bool is_fragment = false;
  bool is_first_fragment = false;  // Offset 0 with more-fragments set.
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
  uint8_t vlan_count = 0;
  uint8_t mpls_count = 0;
  uint16_t vlan_outer = 0;  // VLAN id of the outermost tag, when vlan_count > 0.
  uint16_t vlan_inner = 0;  // VLAN id of the innermost tag, when vlan_count > 1.
  uint16_t ip_length = 0;  // IP header plus payload as the IP header states it (IPv6:
                           // 40 + payload length), whatever the capture kept.
  uint16_t l3_offset = 0;
  uint16_t l4_offset = 0;
  uint16_t payload_offset = 0;  // Start of transport payload (or of the IP payload
  uint16_t payload_length = 0;  // for non-first fragments), clipped to the frame.
};

}  // namespace sensor::dp
