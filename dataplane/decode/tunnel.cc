// Tunnel and mirror encapsulations: GRE with its IP, MPLS, transparent Ethernet bridging
// and ERSPAN payloads, VXLAN, GTP-U and IP-in-IP. Each decoder records the tunnel layer in
// info.tunnel, resets the IP-layer fields and hands the inner packet to the decoders of
// decoder.cc, so the PacketInfo of a tunnelled packet describes its innermost packet.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/decode/decoder_internal.h"
#include "dataplane/decode/packet.h"

namespace sensor::dp {
namespace decode_internal {
namespace {

// GRE header (RFC 2784 section 2, with the key and sequence number of RFC 2890
// section 2): flags and version in the first 16 bits, then the protocol type.
constexpr size_t kGreBaseLength = 4;
constexpr size_t kGreOptionalFieldLength = 4;
constexpr uint16_t kGreChecksumPresent = 0x8000;  // Bit 0: checksum and Reserved1.
constexpr uint16_t kGreKeyPresent = 0x2000;       // Bit 2 (RFC 2890).
constexpr uint16_t kGreSequencePresent = 0x1000;  // Bit 3 (RFC 2890).
// RFC 2784 section 2.3: a receiver MUST discard a packet where any of bits 1-5 are set,
// unless it implements RFC 1701. Bits 2 and 3 are the key and sequence bits of RFC 2890,
// which leaves bit 1 (routing present), bit 4 (strict source route) and bit 5 (the top
// bit of the recursion control). Bits 6-12 MUST be ignored.
constexpr uint16_t kGreRfc1701Bits = 0x4C00;
constexpr uint16_t kGreVersionMask = 0x0007;  // RFC 2784 section 2.3.1: MUST be zero.

// GRE protocol types besides IPv4, IPv6 and MPLS.
constexpr uint16_t kGreTransparentEthernetBridging = 0x6558;
constexpr uint16_t kGreErspanTypeIOrII = 0x88BE;
constexpr uint16_t kGreErspanTypeIII = 0x22EB;

// ERSPAN headers, as draft-foschiano-erspan-03 and Linux's include/net/erspan.h lay them
// out: a 4-bit version, the 12-bit VLAN of the mirrored frame, then COS, encapsulation
// and truncation bits and a 10-bit session id in the first 32 bits.
constexpr size_t kErspanIIHeaderLength = 8;
constexpr size_t kErspanIIIHeaderLength = 12;
constexpr size_t kErspanPlatformSubheaderLength = 8;
constexpr uint8_t kErspanIIVersion = 1;
constexpr uint8_t kErspanIIIVersion = 2;
constexpr uint16_t kErspanSessionIdMask = 0x03FF;
// Last bit of the type III header: an 8-byte platform-specific subheader follows.
constexpr uint8_t kErspanIIIOptionalSubheader = 0x01;

// VXLAN header (RFC 7348 section 5): flags, 24 reserved bits, the 24-bit VNI and 8
// reserved bits. Only the I flag is checked, because the other bits MUST be ignored on
// receipt.
constexpr size_t kVxlanHeaderLength = 8;
constexpr uint8_t kVxlanFlagI = 0x08;

// GTP-U header (3GPP TS 29.281 section 5.1): version, PT and the E, S and PN flags in
// the first byte, message type, a length that counts the bytes after the first 8, and
// the TEID.
constexpr size_t kGtpHeaderLength = 8;
constexpr size_t kGtpOptionalFieldsLength = 4;  // Sequence number, N-PDU number, next type.
constexpr uint8_t kGtpVersion1 = 1;
constexpr uint8_t kGtpProtocolTypeGtp = 0x10;  // PT=1: GTP rather than GTP' (charging).
constexpr uint8_t kGtpFlagExtension = 0x04;
constexpr uint8_t kGtpOptionalFieldFlags = 0x07;  // E, S or PN: the optional fields exist.
constexpr uint8_t kGtpMessageGpdu = 0xFF;         // G-PDU: carries a user packet (T-PDU).
constexpr uint8_t kGtpNoMoreExtensionHeaders = 0;
constexpr size_t kGtpExtensionLengthUnit = 4;

// Starts a tunnel layer: counts it, records its type and, for the first layer, the outer
// addresses. Returns false when the packet is already kMaxTunnelDepth layers deep.
bool EnterTunnel(TunnelType type, PacketInfo& info) {
  TunnelInfo& tunnel = info.tunnel;
  if (tunnel.depth == kMaxTunnelDepth) {
    return false;
  }
  if (tunnel.depth == 0) {
    tunnel.outer_src = info.src;
    tunnel.outer_dst = info.dst;
  }
  ++tunnel.depth;
  tunnel.type = type;
  tunnel.id = 0;
  tunnel.has_id = false;
  return true;
}

void SetTunnelId(uint32_t id, PacketInfo& info) {
  info.tunnel.id = id;
  info.tunnel.has_id = true;
}

DecodeStatus DecodeInnerEthernet(Bytes packet, size_t offset, PacketInfo& info) {
  ResetIpLayer(info, /*keep_tunnel=*/true);
  return DecodeEthernetHeader(packet, offset, info);
}

// Decodes the IPv4 or IPv6 packet that a GTP-U G-PDU carries. Like MPLS, GTP-U does not
// name its payload, so the version nibble decides.
DecodeStatus DecodeInnerIpByVersion(Bytes packet, size_t offset, DecodeStatus unknown,
                                    PacketInfo& info) {
  const uint8_t version = Load8(packet, offset) >> 4;
  if (version != 4 && version != 6) {
    return unknown;
  }
  ResetIpLayer(info, /*keep_tunnel=*/true);
  return version == 4 ? DecodeIpv4(packet, offset, info) : DecodeIpv6(packet, offset, info);
}

// ERSPAN type I has no header of its own, and type II differs from it only by the GRE
// sequence number. Wireshark's ERSPAN dissector separates the two the same way.
DecodeStatus DecodeErspanTypeIOrII(Bytes packet, size_t offset, bool has_sequence,
                                   PacketInfo& info) {
  if (!has_sequence) {
    info.tunnel.type = TunnelType::kErspanI;
    return DecodeInnerEthernet(packet, offset, info);
  }
  info.tunnel.type = TunnelType::kErspanII;
  if (!Fits(packet.size(), offset, kErspanIIHeaderLength)) {
    return DecodeStatus::kTruncatedErspan;
  }
  if ((Load8(packet, offset) >> 4) != kErspanIIVersion) {
    return DecodeStatus::kUnsupportedErspanVersion;
  }
  SetTunnelId(Load16(packet, offset + 2) & kErspanSessionIdMask, info);
  return DecodeInnerEthernet(packet, offset + kErspanIIHeaderLength, info);
}

DecodeStatus DecodeErspanTypeIII(Bytes packet, size_t offset, PacketInfo& info) {
  info.tunnel.type = TunnelType::kErspanIII;
  if (!Fits(packet.size(), offset, kErspanIIIHeaderLength)) {
    return DecodeStatus::kTruncatedErspan;
  }
  if ((Load8(packet, offset) >> 4) != kErspanIIIVersion) {
    return DecodeStatus::kUnsupportedErspanVersion;
  }
  SetTunnelId(Load16(packet, offset + 2) & kErspanSessionIdMask, info);
  size_t header_length = kErspanIIIHeaderLength;
  if ((Load8(packet, offset + kErspanIIIHeaderLength - 1) & kErspanIIIOptionalSubheader) != 0) {
    header_length += kErspanPlatformSubheaderLength;
  }
  if (!Fits(packet.size(), offset, header_length)) {
    return DecodeStatus::kTruncatedErspan;
  }
  return DecodeInnerEthernet(packet, offset + header_length, info);
}

DecodeStatus DecodeVxlan(Bytes packet, size_t offset, PacketInfo& info) {
  if (!EnterTunnel(TunnelType::kVxlan, info)) {
    return DecodeStatus::kTooManyTunnels;
  }
  if (!Fits(packet.size(), offset, kVxlanHeaderLength)) {
    return DecodeStatus::kTruncatedVxlan;
  }
  if ((Load8(packet, offset) & kVxlanFlagI) == 0) {
    return DecodeStatus::kBadVxlanFlags;
  }
  SetTunnelId(Load32(packet, offset + 4) >> 8, info);
  return DecodeInnerEthernet(packet, offset + kVxlanHeaderLength, info);
}

// Walks the GTP-U extension header chain (3GPP TS 29.281 section 5.2) that starts with
// `next_type` at `cursor`, and returns the offset after it through `cursor`. Each header
// states its length in 4-byte units, and its last byte is the type of the next one.
DecodeStatus SkipGtpExtensionHeaders(Bytes packet, uint8_t next_type, size_t& cursor) {
  int header_count = 0;
  while (next_type != kGtpNoMoreExtensionHeaders) {
    if (header_count == kMaxGtpExtensionHeaders) {
      return DecodeStatus::kTooManyGtpExtensionHeaders;
    }
    ++header_count;
    if (!Fits(packet.size(), cursor, 1)) {
      return DecodeStatus::kTruncatedGtp;
    }
    const size_t header_length = Load8(packet, cursor) * kGtpExtensionLengthUnit;
    if (header_length == 0) {
      return DecodeStatus::kBadGtpExtensionHeader;
    }
    if (!Fits(packet.size(), cursor, header_length)) {
      return DecodeStatus::kTruncatedGtp;
    }
    next_type = Load8(packet, cursor + header_length - 1);
    cursor += header_length;
  }
  return DecodeStatus::kOk;
}

DecodeStatus DecodeGtpU(Bytes packet, size_t offset, PacketInfo& info) {
  if (!EnterTunnel(TunnelType::kGtpU, info)) {
    return DecodeStatus::kTooManyTunnels;
  }
  if (!Fits(packet.size(), offset, kGtpHeaderLength)) {
    return DecodeStatus::kTruncatedGtp;
  }
  const uint8_t flags = Load8(packet, offset);
  if ((flags >> 5) != kGtpVersion1 || (flags & kGtpProtocolTypeGtp) == 0) {
    return DecodeStatus::kUnsupportedGtpVersion;
  }
  SetTunnelId(Load32(packet, offset + 4), info);
  // Echo, error indication, end marker and the other signalling messages carry no user
  // packet.
  if (Load8(packet, offset + 1) != kGtpMessageGpdu) {
    return DecodeStatus::kGtpSignallingMessage;
  }

  // The length field counts the bytes after the first 8. The capture or the UDP length
  // may cut the G-PDU earlier.
  const size_t gtp_end =
      std::min(packet.size(), offset + kGtpHeaderLength + Load16(packet, offset + 2));
  const Bytes gpdu = packet.first(gtp_end);
  size_t cursor = offset + kGtpHeaderLength;
  if ((flags & kGtpOptionalFieldFlags) != 0) {
    // If any of E, S and PN is set, all three optional fields are present. The next
    // extension header type is only meaningful when E is set.
    if (!Fits(gpdu.size(), cursor, kGtpOptionalFieldsLength)) {
      return DecodeStatus::kTruncatedGtp;
    }
    const uint8_t next_type = Load8(gpdu, cursor + 3);
    cursor += kGtpOptionalFieldsLength;
    if ((flags & kGtpFlagExtension) != 0) {
      const DecodeStatus status = SkipGtpExtensionHeaders(gpdu, next_type, cursor);
      if (status != DecodeStatus::kOk) {
        return status;
      }
    }
  }
  if (cursor >= gpdu.size()) {
    return DecodeStatus::kTruncatedGtp;
  }
  return DecodeInnerIpByVersion(gpdu, cursor, DecodeStatus::kUnknownGtpPayload, info);
}

}  // namespace

bool IsIpTunnelProtocol(uint8_t protocol) {
  return protocol == kIpProtoGre || protocol == kIpProtoIpv4InIp || protocol == kIpProtoIpv6InIp;
}

bool IsUdpTunnelPort(uint16_t port) {
  return port == kUdpPortVxlan || port == kUdpPortGtpU || port == kUdpPortVxlanGpe ||
         port == kUdpPortGeneve;
}

DecodeStatus DecodeGre(Bytes packet, size_t offset, PacketInfo& info) {
  if (!EnterTunnel(TunnelType::kGre, info)) {
    return DecodeStatus::kTooManyTunnels;
  }
  if (!Fits(packet.size(), offset, kGreBaseLength)) {
    return DecodeStatus::kTruncatedGre;
  }
  const uint16_t flags_and_version = Load16(packet, offset);
  // Version 1 is the enhanced GRE of PPTP (RFC 2637), whose PPP payload is not decoded.
  if ((flags_and_version & kGreVersionMask) != 0) {
    return DecodeStatus::kUnsupportedGreVersion;
  }
  if ((flags_and_version & kGreRfc1701Bits) != 0) {
    return DecodeStatus::kUnsupportedGreFlags;
  }
  const uint16_t protocol_type = Load16(packet, offset + 2);

  // The optional fields come in this order: checksum with Reserved1, key, sequence number.
  size_t cursor = offset + kGreBaseLength;
  if ((flags_and_version & kGreChecksumPresent) != 0) {
    cursor += kGreOptionalFieldLength;
  }
  if ((flags_and_version & kGreKeyPresent) != 0) {
    if (!Fits(packet.size(), cursor, kGreOptionalFieldLength)) {
      return DecodeStatus::kTruncatedGre;
    }
    SetTunnelId(Load32(packet, cursor), info);
    cursor += kGreOptionalFieldLength;
  }
  const bool has_sequence = (flags_and_version & kGreSequencePresent) != 0;
  if (has_sequence) {
    cursor += kGreOptionalFieldLength;
  }
  if (!Fits(packet.size(), offset, cursor - offset)) {
    return DecodeStatus::kTruncatedGre;
  }

  switch (protocol_type) {
    case kEtherTypeIpv4:
      ResetIpLayer(info, /*keep_tunnel=*/true);
      return DecodeIpv4(packet, cursor, info);
    case kEtherTypeIpv6:
      ResetIpLayer(info, /*keep_tunnel=*/true);
      return DecodeIpv6(packet, cursor, info);
    case kEtherTypeMplsUnicast:
    case kEtherTypeMplsMulticast:
      // MPLS in GRE (RFC 4023 section 4).
      ResetIpLayer(info, /*keep_tunnel=*/true);
      return DecodeMpls(packet, cursor, info);
    case kGreTransparentEthernetBridging:
      return DecodeInnerEthernet(packet, cursor, info);
    case kGreErspanTypeIOrII:
      return DecodeErspanTypeIOrII(packet, cursor, has_sequence, info);
    case kGreErspanTypeIII:
      return DecodeErspanTypeIII(packet, cursor, info);
    default:
      return DecodeStatus::kUnknownGreProtocol;
  }
}

DecodeStatus DecodeIpInIp(Bytes packet, size_t offset, uint8_t protocol, PacketInfo& info) {
  if (!EnterTunnel(TunnelType::kIpInIp, info)) {
    return DecodeStatus::kTooManyTunnels;
  }
  ResetIpLayer(info, /*keep_tunnel=*/true);
  // Protocol 4 carries IPv4 (RFC 2003), protocol 41 IPv6 (RFC 4213 section 3.5), in IPv4
  // and IPv6 outer headers alike (RFC 2473).
  if (protocol == kIpProtoIpv4InIp) {
    return DecodeIpv4(packet, offset, info);
  }
  return DecodeIpv6(packet, offset, info);
}

DecodeStatus DecodeUdpTunnel(Bytes packet, size_t offset, uint16_t dst_port, PacketInfo& info) {
  switch (dst_port) {
    case kUdpPortVxlan:
      return DecodeVxlan(packet, offset, info);
    case kUdpPortGtpU:
      return DecodeGtpU(packet, offset, info);
    case kUdpPortVxlanGpe:
      return DecodeStatus::kUnsupportedVxlanGpe;
    case kUdpPortGeneve:
      return DecodeStatus::kUnsupportedGeneve;
    default:
      return DecodeStatus::kOk;
  }
}

}  // namespace decode_internal

std::string_view TunnelTypeName(TunnelType type) {
  switch (type) {
    case TunnelType::kNone:
      return "none";
    case TunnelType::kGre:
      return "gre";
    case TunnelType::kErspanI:
      return "erspan_i";
    case TunnelType::kErspanII:
      return "erspan_ii";
    case TunnelType::kErspanIII:
      return "erspan_iii";
    case TunnelType::kVxlan:
      return "vxlan";
    case TunnelType::kGtpU:
      return "gtp_u";
    case TunnelType::kIpInIp:
      return "ip_in_ip";
  }
  return "invalid";
}

}  // namespace sensor::dp
