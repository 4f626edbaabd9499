// Symmetric receive-side scaling: the Toeplitz hash with a key made of the repeated
// 16-bit pattern 0x6d5a, for which swapping source and destination (addresses and ports)
// yields the same hash. NICs are programmed with this key in live mode, and replay
// spreads packets to workers with the same function, so both directions of a flow land
// on the same worker in either mode.
//
// Safe on any lcore; no allocation.
#pragma once

#include <array>
#include <cstdint>

#include "dataplane/decode/packet.h"

namespace sensor::dp {

inline constexpr size_t kRssKeyLength = 40;

// The 40-byte symmetric key.
const std::array<uint8_t, kRssKeyLength>& SymmetricRssKey();

// Toeplitz hash of the packet's addresses and, when present, ports, as a NIC computes
// it for the IPv4/IPv6 TCP and UDP hash types. Non-IP packets hash to 0.
uint32_t SymmetricRssHash(const PacketInfo& info);

}  // namespace sensor::dp
