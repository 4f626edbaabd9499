// Byte readers and layer decoders shared by the decoder's source files: decoder.cc
// (Ethernet, VLAN, MPLS, IP, transport) and tunnel.cc (GRE, ERSPAN, VXLAN, GTP-U, IP-in-IP).
// Code outside dataplane/decode includes decoder.h instead.
//
// Every layer decoder takes the frame as `packet` and an offset into it. The frame is cut
// to the end of the enclosing datagram before a tunnel's inner packet is decoded, so
// `packet.size()` is always the bound that reads are checked against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/decode/packet.h"

namespace sensor::dp::decode_internal {

using Bytes = std::span<const std::byte>;

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
inline constexpr uint16_t kEtherTypeMplsUnicast = 0x8847;
inline constexpr uint16_t kEtherTypeMplsMulticast = 0x8848;

inline uint8_t Load8(Bytes packet, size_t offset) {
  return std::to_integer<uint8_t>(packet[offset]);
}

inline uint16_t Load16(Bytes packet, size_t offset) {
  return static_cast<uint16_t>(Load8(packet, offset) << 8 | Load8(packet, offset + 1));
}

inline uint32_t Load32(Bytes packet, size_t offset) {
  return static_cast<uint32_t>(Load16(packet, offset)) << 16 | Load16(packet, offset + 2);
}

// Returns whether `length` bytes starting at `offset` lie before `end`, without overflow.
inline bool Fits(size_t end, size_t offset, size_t length) {
  return offset <= end && length <= end - offset;
}

// Clears everything from the IP layer up and keeps the link-layer fields and, unless
// `keep_tunnel` is false, the tunnel fields. Called before an inner packet is decoded.
void ResetIpLayer(PacketInfo& info, bool keep_tunnel);

// Layer decoders of decoder.cc. DecodeEthernetHeader starts at a MAC header. Inside a
// tunnel, its VLAN tags go to info.tunnel rather than to the frame's vlan_* fields.
DecodeStatus DecodeEthernetHeader(Bytes packet, size_t offset, PacketInfo& info);
DecodeStatus DecodeMpls(Bytes packet, size_t offset, PacketInfo& info);
DecodeStatus DecodeIpv4(Bytes packet, size_t offset, PacketInfo& info);
DecodeStatus DecodeIpv6(Bytes packet, size_t offset, PacketInfo& info);

// Tunnel decoders of tunnel.cc. `packet` ends where the outer datagram ends.
bool IsIpTunnelProtocol(uint8_t protocol);
bool IsUdpTunnelPort(uint16_t port);
DecodeStatus DecodeGre(Bytes packet, size_t offset, PacketInfo& info);
DecodeStatus DecodeIpInIp(Bytes packet, size_t offset, uint8_t protocol, PacketInfo& info);
// `offset` is the start of the UDP payload.
DecodeStatus DecodeUdpTunnel(Bytes packet, size_t offset, uint16_t dst_port, PacketInfo& info);

}  // namespace sensor::dp::decode_internal
