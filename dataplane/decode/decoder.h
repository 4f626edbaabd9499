// Packet decoder: Ethernet, 802.1Q/802.1ad tags, MPLS label stacks, IPv4, IPv6 and its
// extension headers, TCP, UDP, ICMP and ICMPv6. It also decodes GRE (with ERSPAN and
// transparent Ethernet bridging), VXLAN, GTP-U and IP-in-IP tunnels, up to
// kMaxTunnelDepth layers, and then describes the innermost packet (see TunnelInfo).
//
// Called on worker lcores for every packet: it never allocates, locks or logs, and
// reads only inside `frame`. The caller counts the returned status.
#pragma once

#include <cstddef>
#include <span>

#include "dataplane/decode/packet.h"

namespace sensor::dp {

// Decodes an Ethernet frame into `info`. Fields of layers that were reached stay set
// in `info` even when a later layer is malformed.
DecodeStatus DecodeEthernet(std::span<const std::byte> frame, PacketInfo& info);

// Decodes starting at an IPv4 or IPv6 header (the version nibble chooses).
DecodeStatus DecodeIp(std::span<const std::byte> packet, size_t offset, PacketInfo& info);

}  // namespace sensor::dp
