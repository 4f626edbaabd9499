#include "dataplane/decode/decoder.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "dataplane/decode/decoder_internal.h"
#include "dataplane/decode/packet.h"

namespace sensor::dp {
namespace decode_internal {
namespace {

constexpr uint16_t kEtherTypeVlan = 0x8100;        // IEEE 802.1Q customer tag.
constexpr uint16_t kEtherTypeQinq = 0x88A8;        // IEEE 802.1ad service tag.
constexpr uint16_t kEtherTypeQinqLegacy = 0x9100;  // Pre-802.1ad vendor QinQ tag.

constexpr size_t kEthernetHeaderLength = 14;
constexpr size_t kEtherTypeOffset = 12;
constexpr size_t kVlanTagLength = 4;
constexpr uint16_t kVlanIdMask = 0x0FFF;
constexpr size_t kMplsLabelLength = 4;

constexpr size_t kIpv4MinHeaderLength = 20;
constexpr uint16_t kIpv4MoreFragments = 0x2000;
constexpr uint16_t kIpv4FragmentOffsetMask = 0x1FFF;

constexpr size_t kIpv6HeaderLength = 40;
constexpr size_t kIpv6FragmentHeaderLength = 8;
constexpr size_t kIpv6ExtensionLengthUnit = 8;
constexpr size_t kIpv6AuthenticationLengthUnit = 4;

// IPv6 next header values of the extension headers that the chain walk follows.
constexpr uint8_t kIpv6HopByHop = 0;
constexpr uint8_t kIpv6Routing = 43;
constexpr uint8_t kIpv6Fragment = 44;
constexpr uint8_t kIpv6AuthenticationHeader = 51;
constexpr uint8_t kIpv6NoNextHeader = 59;
constexpr uint8_t kIpv6DestinationOptions = 60;

constexpr size_t kTcpMinHeaderLength = 20;
constexpr size_t kUdpHeaderLength = 8;
constexpr size_t kIcmpMinLength = 4;  // Type, code and checksum.

// PacketInfo stores offsets as uint16_t, so the decoders see at most this many bytes of a
// frame. A DPDK mbuf segment is limited to the same size by its uint16_t data_len.
constexpr size_t kMaxDecodedLength = 0xFFFF;

Bytes ClipToMaxDecodedLength(Bytes frame) {
  return frame.first(std::min(frame.size(), kMaxDecodedLength));
}

IpAddress LoadIpv6Address(Bytes packet, size_t offset) {
  IpAddress address;
  for (size_t i = 0; i < address.bytes.size(); ++i) {
    address.bytes[i] = Load8(packet, offset + i);
  }
  return address;
}

void SetPayload(size_t begin, size_t end, PacketInfo& info) {
  info.payload_offset = static_cast<uint16_t>(begin);
  info.payload_length = static_cast<uint16_t>(end - begin);
}

DecodeStatus DecodeTcp(Bytes packet, size_t offset, size_t end, PacketInfo& info) {
  if (!Fits(end, offset, kTcpMinHeaderLength)) {
    return DecodeStatus::kTruncatedTcp;
  }
  const size_t header_length = static_cast<size_t>(Load8(packet, offset + 12) >> 4) * 4;
  if (header_length < kTcpMinHeaderLength) {
    return DecodeStatus::kBadTcpHeaderLength;
  }
  if (!Fits(end, offset, header_length)) {
    return DecodeStatus::kTruncatedTcp;
  }

  info.src_port = Load16(packet, offset);
  info.dst_port = Load16(packet, offset + 2);
  info.tcp_flags = Load8(packet, offset + 13);
  info.has_ports = true;
  SetPayload(offset + header_length, end, info);
  return DecodeStatus::kOk;
}

DecodeStatus DecodeUdp(Bytes packet, size_t offset, size_t end, PacketInfo& info) {
  if (!Fits(end, offset, kUdpHeaderLength)) {
    return DecodeStatus::kTruncatedUdp;
  }
  // A UDP length of 0 is only valid in RFC 2675 jumbograms, which are not decoded.
  const size_t udp_length = Load16(packet, offset + 4);
  if (udp_length < kUdpHeaderLength) {
    return DecodeStatus::kBadUdpLength;
  }

  info.src_port = Load16(packet, offset);
  info.dst_port = Load16(packet, offset + 2);
  info.has_ports = true;
  // A UDP length past `end` is a datagram cut by the capture or by IPv4 fragmentation.
  const size_t udp_end = std::min(end, offset + udp_length);
  SetPayload(offset + kUdpHeaderLength, udp_end, info);
  return DecodeStatus::kOk;
}

// Reads an ICMP or ICMPv6 message. The payload is the message body after the checksum.
DecodeStatus DecodeIcmp(Bytes packet, size_t offset, size_t end, DecodeStatus truncated,
                        PacketInfo& info) {
  if (!Fits(end, offset, kIcmpMinLength)) {
    return truncated;
  }
  info.icmp_type = Load8(packet, offset);
  info.icmp_code = Load8(packet, offset + 1);
  SetPayload(offset + kIcmpMinLength, end, info);
  return DecodeStatus::kOk;
}

// Decodes a UDP header and, when its destination port belongs to a tunnel, the tunnel and
// the packet inside it. The port alone decides: a datagram to port 4789 that is not VXLAN
// is counted under a VXLAN status, not decoded as plain UDP, so that a mirrored tunnel is
// never matched on its outer addresses.
// NOTE: the other side of that choice is that other traffic sent to 2152, 4789, 4790 or
// 6081 is never matched either. Only the per-status counters show it.
DecodeStatus DecodeUdpOrUdpTunnel(Bytes packet, size_t offset, size_t end, PacketInfo& info) {
  const DecodeStatus status = DecodeUdp(packet, offset, end, info);
  if (status != DecodeStatus::kOk || !IsUdpTunnelPort(info.dst_port)) {
    return status;
  }
  const size_t udp_end = size_t{info.payload_offset} + info.payload_length;
  return DecodeUdpTunnel(packet.first(udp_end), info.payload_offset, info.dst_port, info);
}

// Decodes the upper-layer header at `offset`. `end` is the end of the IP datagram, already
// clipped to the captured bytes.
DecodeStatus DecodeTransport(Bytes packet, size_t offset, size_t end, uint8_t protocol,
                             PacketInfo& info) {
  info.protocol = protocol;
  info.l4_offset = static_cast<uint16_t>(offset);
  switch (protocol) {
    case kIpProtoTcp:
      return DecodeTcp(packet, offset, end, info);
    case kIpProtoUdp:
      return DecodeUdpOrUdpTunnel(packet, offset, end, info);
    case kIpProtoIcmp:
      return DecodeIcmp(packet, offset, end, DecodeStatus::kTruncatedIcmp, info);
    case kIpProtoIcmpv6:
      return DecodeIcmp(packet, offset, end, DecodeStatus::kTruncatedIcmpv6, info);
    case kIpProtoGre:
      SetPayload(offset, end, info);
      return DecodeGre(packet.first(end), offset, info);
    case kIpProtoIpv4InIp:
    case kIpProtoIpv6InIp:
      SetPayload(offset, end, info);
      return DecodeIpInIp(packet.first(end), offset, protocol, info);
    default:
      SetPayload(offset, end, info);
      return DecodeStatus::kOk;
  }
}

// Records a fragment that does not start the datagram. It has no transport header, so
// `offset` and the payload both point at the fragment data. A later fragment of a GRE or
// IP-in-IP packet holds only part of an inner packet whose headers were in the first
// fragment, so it is counted rather than matched on the tunnel endpoints' addresses.
DecodeStatus RecordLaterFragment(size_t offset, size_t end, uint8_t protocol, PacketInfo& info) {
  info.is_fragment = true;
  info.protocol = protocol;
  info.l4_offset = static_cast<uint16_t>(offset);
  SetPayload(offset, end, info);
  if (IsIpTunnelProtocol(protocol)) {
    return DecodeStatus::kTunnelLaterFragment;
  }
  return DecodeStatus::kOk;
}

bool IsIpv6ExtensionHeader(uint8_t next_header) {
  switch (next_header) {
    case kIpv6HopByHop:
    case kIpv6Routing:
    case kIpv6Fragment:
    case kIpv6AuthenticationHeader:
    case kIpv6DestinationOptions:
      return true;
    default:
      return false;
  }
}

// Returns the end of the IPv6 payload clipped to the frame, or nothing when the payload
// length field is invalid.
std::optional<size_t> FindIpv6PayloadEnd(Bytes packet, size_t offset, uint8_t next_header) {
  const size_t payload_length = Load16(packet, offset + 4);
  const size_t payload_offset = offset + kIpv6HeaderLength;
  if (payload_length == 0 && next_header == kIpv6HopByHop) {
    // A possible RFC 2675 jumbogram. Its Jumbo Payload option is not parsed, so the packet
    // is taken to run to the end of the frame.
    return packet.size();
  }
  if (payload_length == 0 && next_header != kIpv6NoNextHeader) {
    // Every other next header needs at least one byte of payload.
    return std::nullopt;
  }
  return std::min(packet.size(), payload_offset + payload_length);
}

bool IsVlanTpid(uint16_t ether_type) {
  return ether_type == kEtherTypeVlan || ether_type == kEtherTypeQinq ||
         ether_type == kEtherTypeQinqLegacy;
}

}  // namespace

DecodeStatus DecodeIpv4(Bytes packet, size_t offset, PacketInfo& info) {
  info.l3_offset = static_cast<uint16_t>(offset);
  if (!Fits(packet.size(), offset, kIpv4MinHeaderLength)) {
    return DecodeStatus::kTruncatedIpv4;
  }
  const uint8_t version_ihl = Load8(packet, offset);
  if ((version_ihl >> 4) != 4) {
    return DecodeStatus::kBadIpv4Version;
  }
  const size_t header_length = static_cast<size_t>(version_ihl & 0x0F) * 4;
  if (header_length < kIpv4MinHeaderLength) {
    return DecodeStatus::kBadIpv4HeaderLength;
  }
  const size_t total_length = Load16(packet, offset + 2);
  if (total_length < header_length) {
    return DecodeStatus::kBadIpv4TotalLength;
  }
  if (!Fits(packet.size(), offset, header_length)) {
    return DecodeStatus::kTruncatedIpv4;
  }

  info.ip_version = 4;
  info.ip_length = static_cast<uint16_t>(total_length);
  info.protocol = Load8(packet, offset + 9);
  info.src = IpAddress::FromV4(Load32(packet, offset + 12));
  info.dst = IpAddress::FromV4(Load32(packet, offset + 16));

  // The datagram ends at the total length, which excludes Ethernet padding, unless the
  // capture (snaplen) cut the frame earlier.
  const size_t end = std::min(packet.size(), offset + total_length);
  const size_t l4_offset = offset + header_length;
  const uint16_t fragment = Load16(packet, offset + 6);
  if ((fragment & kIpv4FragmentOffsetMask) != 0) {
    return RecordLaterFragment(l4_offset, end, info.protocol, info);
  }
  if ((fragment & kIpv4MoreFragments) != 0) {
    info.is_fragment = true;
    info.is_first_fragment = true;
  }
  return DecodeTransport(packet, l4_offset, end, info.protocol, info);
}

DecodeStatus DecodeIpv6(Bytes packet, size_t offset, PacketInfo& info) {
  info.l3_offset = static_cast<uint16_t>(offset);
  if (!Fits(packet.size(), offset, kIpv6HeaderLength)) {
    return DecodeStatus::kTruncatedIpv6;
  }
  if ((Load8(packet, offset) >> 4) != 6) {
    return DecodeStatus::kBadIpv6Version;
  }

  info.ip_version = 6;
  // NOTE: ip_length is 16 bits wide, so a payload length above 65495 is stored as 65535.
  const size_t ip_length = kIpv6HeaderLength + Load16(packet, offset + 4);
  info.ip_length = static_cast<uint16_t>(std::min(ip_length, kMaxDecodedLength));
  info.src = LoadIpv6Address(packet, offset + 8);
  info.dst = LoadIpv6Address(packet, offset + 24);
  uint8_t next_header = Load8(packet, offset + 6);
  info.protocol = next_header;
  const std::optional<size_t> payload_end = FindIpv6PayloadEnd(packet, offset, next_header);
  if (!payload_end.has_value()) {
    return DecodeStatus::kBadIpv6PayloadLength;
  }
  const size_t end = *payload_end;

  size_t cursor = offset + kIpv6HeaderLength;
  int header_count = 0;
  while (IsIpv6ExtensionHeader(next_header)) {
    if (header_count == kMaxIpv6ExtensionHeaders) {
      return DecodeStatus::kTooManyIpv6ExtensionHeaders;
    }
    ++header_count;

    if (next_header == kIpv6Fragment) {
      if (!Fits(end, cursor, kIpv6FragmentHeaderLength)) {
        return DecodeStatus::kTruncatedIpv6ExtensionHeader;
      }
      next_header = Load8(packet, cursor);
      const uint16_t offset_and_flags = Load16(packet, cursor + 2);
      const uint16_t fragment_offset = offset_and_flags >> 3;
      const bool more_fragments = (offset_and_flags & 1) != 0;
      cursor += kIpv6FragmentHeaderLength;
      if (fragment_offset != 0) {
        return RecordLaterFragment(cursor, end, next_header, info);
      }
      // An atomic fragment (offset 0, M=0) is a whole packet that RFC 6946 requires to
      // be processed as if it had no fragment header, so only a real first fragment
      // counts as a fragment. Both carry the upper-layer header.
      if (more_fragments) {
        info.is_fragment = true;
        info.is_first_fragment = true;
      }
      continue;
    }

    if (!Fits(end, cursor, 2)) {
      return DecodeStatus::kTruncatedIpv6ExtensionHeader;
    }
    const size_t length_field = Load8(packet, cursor + 1);
    // AH counts its length in 4-byte units minus 2 (RFC 4302), the other extension
    // headers in 8-byte units minus 1 (RFC 8200).
    const size_t header_length = next_header == kIpv6AuthenticationHeader
                                     ? (length_field + 2) * kIpv6AuthenticationLengthUnit
                                     : (length_field + 1) * kIpv6ExtensionLengthUnit;
    if (!Fits(end, cursor, header_length)) {
      return DecodeStatus::kTruncatedIpv6ExtensionHeader;
    }
    next_header = Load8(packet, cursor);
    cursor += header_length;
  }

  if (next_header == kIpv6NoNextHeader) {
    // RFC 8200 section 4.7 says that bytes after a header with next header 59 are ignored.
    info.protocol = next_header;
    info.l4_offset = static_cast<uint16_t>(cursor);
    SetPayload(cursor, cursor, info);
    return DecodeStatus::kOk;
  }
  return DecodeTransport(packet, cursor, end, next_header, info);
}

DecodeStatus DecodeMpls(Bytes packet, size_t offset, PacketInfo& info) {
  // The limit applies to each stack, because a tunnel can carry a stack of its own.
  int label_count = 0;
  bool bottom_of_stack = false;
  while (!bottom_of_stack) {
    if (label_count == kMaxMplsLabels) {
      return DecodeStatus::kTooManyMplsLabels;
    }
    if (!Fits(packet.size(), offset, kMplsLabelLength)) {
      return DecodeStatus::kTruncatedMpls;
    }
    bottom_of_stack = (Load8(packet, offset + 2) & 0x01) != 0;
    ++label_count;
    ++info.mpls_count;
    offset += kMplsLabelLength;
  }
  if (offset >= packet.size()) {
    return DecodeStatus::kTruncatedMpls;
  }
  // MPLS does not name its payload. The first nibble separates IPv4 from IPv6. Any other
  // value, such as the 0 of an RFC 4385 pseudowire control word, is reported as unknown
  // rather than guessed to be Ethernet.
  switch (Load8(packet, offset) >> 4) {
    case 4:
      return DecodeIpv4(packet, offset, info);
    case 6:
      return DecodeIpv6(packet, offset, info);
    default:
      return DecodeStatus::kUnknownMplsPayload;
  }
}

DecodeStatus DecodeEthernetHeader(Bytes packet, size_t offset, PacketInfo& info) {
  if (!Fits(packet.size(), offset, kEthernetHeaderLength)) {
    return DecodeStatus::kTruncatedEthernet;
  }
  // The tags of an Ethernet header inside a tunnel describe the inner network, so they
  // must not replace the VLAN ids that flows of the captured frame are keyed on.
  const bool in_tunnel = info.tunnel.depth > 0;
  uint8_t& vlan_count = in_tunnel ? info.tunnel.inner_vlan_count : info.vlan_count;
  uint16_t& vlan_outer = in_tunnel ? info.tunnel.inner_vlan_outer : info.vlan_outer;
  uint16_t& vlan_inner = in_tunnel ? info.tunnel.inner_vlan_inner : info.vlan_inner;
  vlan_count = 0;
  vlan_outer = 0;
  vlan_inner = 0;

  uint16_t ether_type = Load16(packet, offset + kEtherTypeOffset);
  offset += kEthernetHeaderLength;
  while (IsVlanTpid(ether_type)) {
    if (vlan_count == kMaxVlanTags) {
      return DecodeStatus::kTooManyVlanTags;
    }
    if (!Fits(packet.size(), offset, kVlanTagLength)) {
      return DecodeStatus::kTruncatedVlan;
    }
    // The tag's TPID was read as the previous EtherType. Next come the TCI and the
    // EtherType that the tag encloses.
    const uint16_t vlan_id = Load16(packet, offset) & kVlanIdMask;
    if (vlan_count == 0) {
      vlan_outer = vlan_id;
    } else {
      vlan_inner = vlan_id;
    }
    ++vlan_count;
    ether_type = Load16(packet, offset + 2);
    offset += kVlanTagLength;
  }

  info.l3_offset = static_cast<uint16_t>(offset);
  switch (ether_type) {
    case kEtherTypeIpv4:
      return DecodeIpv4(packet, offset, info);
    case kEtherTypeIpv6:
      return DecodeIpv6(packet, offset, info);
    case kEtherTypeMplsUnicast:
    case kEtherTypeMplsMulticast:
      return DecodeMpls(packet, offset, info);
    default:
      return DecodeStatus::kNotIp;
  }
}

void ResetIpLayer(PacketInfo& info, bool keep_tunnel) {
  PacketInfo fresh;
  fresh.vlan_count = info.vlan_count;
  fresh.vlan_outer = info.vlan_outer;
  fresh.vlan_inner = info.vlan_inner;
  fresh.mpls_count = info.mpls_count;
  if (keep_tunnel) {
    fresh.tunnel = info.tunnel;
  }
  info = fresh;
}

}  // namespace decode_internal

using decode_internal::Bytes;
using decode_internal::ClipToMaxDecodedLength;
using decode_internal::kMaxDecodedLength;
using decode_internal::Load8;

DecodeStatus DecodeEthernet(std::span<const std::byte> frame, PacketInfo& info) {
  info = PacketInfo{};
  return decode_internal::DecodeEthernetHeader(ClipToMaxDecodedLength(frame), 0, info);
}

DecodeStatus DecodeIp(std::span<const std::byte> packet, size_t offset, PacketInfo& info) {
  // The link-layer fields stay, so a tunnelled packet can be decoded into the PacketInfo
  // of its outer frame. Everything from the IP layer up, tunnel fields included, is reset.
  decode_internal::ResetIpLayer(info, /*keep_tunnel=*/false);
  info.l3_offset = static_cast<uint16_t>(std::min(offset, kMaxDecodedLength));

  const Bytes clipped = ClipToMaxDecodedLength(packet);
  // With no version nibble to choose from, and for versions other than 4 and 6, the
  // packet is counted as IPv4 because the decoder has no status for an unknown version.
  if (offset >= clipped.size()) {
    return DecodeStatus::kTruncatedIpv4;
  }
  if ((Load8(clipped, offset) >> 4) == 6) {
    return decode_internal::DecodeIpv6(clipped, offset, info);
  }
  return decode_internal::DecodeIpv4(clipped, offset, info);
}

std::string_view DecodeStatusName(DecodeStatus status) {
  switch (status) {
    case DecodeStatus::kOk:
      return "ok";
    case DecodeStatus::kNotIp:
      return "not_ip";
    case DecodeStatus::kTruncatedEthernet:
      return "truncated_ethernet";
    case DecodeStatus::kTruncatedVlan:
      return "truncated_vlan";
    case DecodeStatus::kTooManyVlanTags:
      return "too_many_vlan_tags";
    case DecodeStatus::kTruncatedMpls:
      return "truncated_mpls";
    case DecodeStatus::kTooManyMplsLabels:
      return "too_many_mpls_labels";
    case DecodeStatus::kUnknownMplsPayload:
      return "unknown_mpls_payload";
    case DecodeStatus::kTruncatedIpv4:
      return "truncated_ipv4";
    case DecodeStatus::kBadIpv4Version:
      return "bad_ipv4_version";
    case DecodeStatus::kBadIpv4HeaderLength:
      return "bad_ipv4_header_length";
    case DecodeStatus::kBadIpv4TotalLength:
      return "bad_ipv4_total_length";
    case DecodeStatus::kTruncatedIpv6:
      return "truncated_ipv6";
    case DecodeStatus::kBadIpv6Version:
      return "bad_ipv6_version";
    case DecodeStatus::kBadIpv6PayloadLength:
      return "bad_ipv6_payload_length";
    case DecodeStatus::kTruncatedIpv6ExtensionHeader:
      return "truncated_ipv6_extension_header";
    case DecodeStatus::kTooManyIpv6ExtensionHeaders:
      return "too_many_ipv6_extension_headers";
    case DecodeStatus::kTruncatedTcp:
      return "truncated_tcp";
    case DecodeStatus::kBadTcpHeaderLength:
      return "bad_tcp_header_length";
    case DecodeStatus::kTruncatedUdp:
      return "truncated_udp";
    case DecodeStatus::kBadUdpLength:
      return "bad_udp_length";
    case DecodeStatus::kTruncatedIcmp:
      return "truncated_icmp";
    case DecodeStatus::kTruncatedIcmpv6:
      return "truncated_icmpv6";
    case DecodeStatus::kTooManyTunnels:
      return "too_many_tunnels";
    case DecodeStatus::kTunnelLaterFragment:
      return "tunnel_later_fragment";
    case DecodeStatus::kTruncatedGre:
      return "truncated_gre";
    case DecodeStatus::kUnsupportedGreVersion:
      return "unsupported_gre_version";
    case DecodeStatus::kUnsupportedGreFlags:
      return "unsupported_gre_flags";
    case DecodeStatus::kUnknownGreProtocol:
      return "unknown_gre_protocol";
    case DecodeStatus::kTruncatedErspan:
      return "truncated_erspan";
    case DecodeStatus::kUnsupportedErspanVersion:
      return "unsupported_erspan_version";
    case DecodeStatus::kTruncatedVxlan:
      return "truncated_vxlan";
    case DecodeStatus::kBadVxlanFlags:
      return "bad_vxlan_flags";
    case DecodeStatus::kUnsupportedVxlanGpe:
      return "unsupported_vxlan_gpe";
    case DecodeStatus::kUnsupportedGeneve:
      return "unsupported_geneve";
    case DecodeStatus::kTruncatedGtp:
      return "truncated_gtp";
    case DecodeStatus::kUnsupportedGtpVersion:
      return "unsupported_gtp_version";
    case DecodeStatus::kBadGtpExtensionHeader:
      return "bad_gtp_extension_header";
    case DecodeStatus::kTooManyGtpExtensionHeaders:
      return "too_many_gtp_extension_headers";
    case DecodeStatus::kGtpSignallingMessage:
      return "gtp_signalling_message";
    case DecodeStatus::kUnknownGtpPayload:
      return "unknown_gtp_payload";
    case DecodeStatus::kCount:
      break;
  }
  return "invalid";
}

}  // namespace sensor::dp
