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

// Outcome of decoding a frame. kOk, kNotIp and kGtpSignallingMessage are normal outcomes,
// and the other values name the malformed, truncated or unsupported layer that stopped
// the decoder. Every value is a named counter (see DecodeStatusName), so nothing is
// skipped without a trace.
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
  kTooManyTunnels,         // More nested tunnel layers than kMaxTunnelDepth.
  kTunnelLaterFragment,    // A non-first fragment of a GRE or IP-in-IP packet.
  kTruncatedGre,
  kUnsupportedGreVersion,  // Version 1 (PPTP enhanced GRE) and versions 2 to 7.
  kUnsupportedGreFlags,    // RFC 1701 routing, strict source route or recursion bits.
  kUnknownGreProtocol,     // A protocol type that the decoder does not follow.
  kTruncatedErspan,
  kUnsupportedErspanVersion,  // Version field other than 1 (type II) or 2 (type III).
  kTruncatedVxlan,
  kBadVxlanFlags,          // UDP to port 4789 without the VXLAN I flag.
  kUnsupportedVxlanGpe,    // UDP to port 4790.
  kUnsupportedGeneve,      // UDP to port 6081.
  kTruncatedGtp,
  kUnsupportedGtpVersion,  // UDP to port 2152 that is not GTPv1 with PT=1.
  kBadGtpExtensionHeader,  // An extension header with length 0.
  kTooManyGtpExtensionHeaders,
  kGtpSignallingMessage,   // A GTP-U message other than a G-PDU, such as an echo request.
  kUnknownGtpPayload,      // A G-PDU whose payload is neither IPv4 nor IPv6.
  kCount,
};

inline constexpr int kDecodeStatusCount = static_cast<int>(DecodeStatus::kCount);

// Stable snake_case name of a status, used as the counter name in stats and metrics.
std::string_view DecodeStatusName(DecodeStatus status);

inline constexpr int kMaxVlanTags = 4;
inline constexpr int kMaxMplsLabels = 8;
inline constexpr int kMaxIpv6ExtensionHeaders = 8;
inline constexpr int kMaxTunnelDepth = 3;
inline constexpr int kMaxGtpExtensionHeaders = 8;

inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoIpv4InIp = 4;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoIpv6InIp = 41;
inline constexpr uint8_t kIpProtoGre = 47;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;
inline constexpr uint8_t kIpProtoSctp = 132;

// UDP destination ports of the tunnels that the decoder recognizes.
inline constexpr uint16_t kUdpPortGtpU = 2152;
inline constexpr uint16_t kUdpPortVxlan = 4789;
inline constexpr uint16_t kUdpPortVxlanGpe = 4790;
inline constexpr uint16_t kUdpPortGeneve = 6081;

// TCP flag bits as they appear in the header's flags byte.
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpAck = 0x10;

// The kind of a decoded tunnel layer.
enum class TunnelType : uint8_t {
  kNone = 0,
  kGre,        // GRE carrying IP, MPLS or Ethernet (RFC 2784, RFC 2890).
  kErspanI,    // GRE protocol 0x88BE without a sequence number: no ERSPAN header.
  kErspanII,   // GRE protocol 0x88BE with a sequence number and an 8-byte header.
  kErspanIII,  // GRE protocol 0x22EB.
  kVxlan,      // RFC 7348.
  kGtpU,       // 3GPP TS 29.281.
  kIpInIp,     // IPv4 or IPv6 directly inside IPv4 or IPv6 (protocol 4 or 41).
};

// Stable snake_case name of a tunnel type, for logs and alert fields.
std::string_view TunnelTypeName(TunnelType type);

// The tunnel layers a packet arrived in. When depth > 0, the PacketInfo fields outside
// TunnelInfo (addresses, ports, protocol, lengths, offsets) describe the innermost packet,
// while vlan_* stay those of the captured frame and mpls_count counts the labels of every
// stack.
struct TunnelInfo {
  IpAddress outer_src{};  // Addresses of the outermost IP header, the one that carries
  IpAddress outer_dst{};  // the first tunnel layer.
  // VXLAN VNI, GRE key, ERSPAN session id or GTP-U TEID of the innermost tunnel layer.
  uint32_t id = 0;
  bool has_id = false;  // False for IP-in-IP, ERSPAN type I and GRE without a key.
  uint8_t depth = 0;    // Tunnel layers entered, 0 when the packet is not tunnelled.
  TunnelType type = TunnelType::kNone;  // The innermost tunnel layer.
  // 802.1Q/802.1ad tags of the innermost Ethernet header inside a tunnel (after GRE
  // transparent Ethernet bridging, ERSPAN or VXLAN), as vlan_* hold those of the frame.
  uint8_t inner_vlan_count = 0;
  uint16_t inner_vlan_outer = 0;
  uint16_t inner_vlan_inner = 0;
};

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
  uint8_t mpls_count = 0;  // Labels of every MPLS stack decoded, inside tunnels too.
  uint16_t vlan_outer = 0;  // VLAN id of the outermost tag, when vlan_count > 0.
  uint16_t vlan_inner = 0;  // VLAN id of the innermost tag, when vlan_count > 1.
  uint16_t ip_length = 0;  // IP header plus payload as the IP header states it (IPv6:
                           // 40 + payload length), whatever the capture kept.
  uint16_t l3_offset = 0;
  uint16_t l4_offset = 0;
  uint16_t payload_offset = 0;  // Start of transport payload (or of the IP payload
  uint16_t payload_length = 0;  // for non-first fragments), clipped to the frame.
  TunnelInfo tunnel{};
};

}  // namespace sensor::dp
