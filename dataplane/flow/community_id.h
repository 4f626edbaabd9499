// Community ID v1 flow hashing (https://github.com/corelight/community-id-spec): a
// direction-independent flow identifier, "1:" plus the base64 SHA-1 of the seed and the
// flow tuple, that Zeek, Suricata, Wireshark and Elastic compute the same way.
//
// NOTE: the SHA-1 goes through OpenSSL's EVP interface, which allocates a digest context
// on every call (2 allocations per ID with OpenSSL 3.0, counted through
// CRYPTO_set_mem_functions). Compute IDs when a flow record or an alert is written, not
// for every packet.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "dataplane/decode/packet.h"

namespace sensor::dp {

// "1:" followed by the 28 base64 characters of a 20-byte SHA-1 digest.
inline constexpr size_t kCommunityIdLength = 30;
inline constexpr size_t kCommunityIdDigestLength = 20;

// The fields of one packet or flow direction that Community ID v1 hashes.
struct CommunityIdTuple {
  IpAddress src;
  IpAddress dst;
  uint8_t ip_version = 4;  // 4 hashes 4-byte addresses, 6 hashes 16-byte addresses.
  uint8_t protocol = 0;
  // TCP, UDP and SCTP: the ports. ICMP (protocol 1) and ICMPv6 (58): the message type in
  // src_port and the code in dst_port, which are mapped to the specification's port
  // equivalents. Other protocols: unused, because their ID has no port part.
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
};

// Builds the tuple of a decoded packet, or returns nothing when the packet lacks the
// fields its protocol's ID needs: no IP header, or a TCP, UDP or ICMP fragment that does
// not start the datagram. SCTP ports are not decoded, so SCTP packets return nothing.
std::optional<CommunityIdTuple> CommunityIdTupleOf(const PacketInfo& info);

// Computes the SHA-1 that the ID encodes. Returns false only when OpenSSL fails.
bool ComputeCommunityIdDigest(const CommunityIdTuple& tuple, uint16_t seed,
                              std::span<uint8_t, kCommunityIdDigestLength> digest);

// Writes the ID into `id`. Apart from OpenSSL's digest context it allocates nothing.
// Returns false only when OpenSSL fails, and then leaves `id` unspecified.
bool WriteCommunityId(const CommunityIdTuple& tuple, uint16_t seed,
                      std::span<char, kCommunityIdLength> id);

// Returns the ID, or an empty string when OpenSSL fails, which the specification allows
// a monitor to report for a flow it cannot hash.
std::string CommunityId(const CommunityIdTuple& tuple, uint16_t seed = 0);

}  // namespace sensor::dp
