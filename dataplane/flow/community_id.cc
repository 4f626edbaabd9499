#include "dataplane/flow/community_id.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>

#include "dataplane/decode/packet.h"

namespace sensor::dp {

namespace {

constexpr char kVersionPrefix[] = "1:";
constexpr size_t kVersionPrefixLength = sizeof(kVersionPrefix) - 1;
constexpr size_t kBase64Length = kCommunityIdLength - kVersionPrefixLength;

// Seed, two IPv6 addresses, protocol, one padding byte and two ports.
constexpr size_t kMaxHashInputLength = 2 + 16 + 16 + 1 + 1 + 2 + 2;
// IpAddress stores IPv4 as ::ffff:a.b.c.d, so the four IPv4 bytes are its last four.
constexpr size_t kIpv4BytesOffset = 12;

// Returns the ICMP type that pairs with `type` in the request and reply pairs that the
// specification treats as two-way: echo, timestamp, information, router discovery and
// address mask. The table is that of the specification's reference script
// community-id.py, which took it from Zeek's ICMP analyzer.
std::optional<uint8_t> IcmpCounterpart(uint8_t type) {
  switch (type) {
    case 8:
      return 0;
    case 0:
      return 8;
    case 13:
      return 14;
    case 14:
      return 13;
    case 15:
      return 16;
    case 16:
      return 15;
    case 10:
      return 9;
    case 9:
      return 10;
    case 17:
      return 18;
    case 18:
      return 17;
    default:
      return std::nullopt;
  }
}

// Returns the same for ICMPv6: echo, router and neighbor discovery, multicast listener query and
// report, node information (who-are-you) and home agent address discovery.
std::optional<uint8_t> Icmpv6Counterpart(uint8_t type) {
  switch (type) {
    case 128:
      return 129;
    case 129:
      return 128;
    case 133:
      return 134;
    case 134:
      return 133;
    case 135:
      return 136;
    case 136:
      return 135;
    case 130:
      return 131;
    case 131:
      return 130;
    case 139:
      return 140;
    case 140:
      return 139;
    case 144:
      return 145;
    case 145:
      return 144;
    default:
      return std::nullopt;
  }
}

bool HasPortPart(uint8_t protocol) {
  return protocol == kIpProtoTcp || protocol == kIpProtoUdp || protocol == kIpProtoSctp ||
         protocol == kIpProtoIcmp || protocol == kIpProtoIcmpv6;
}

std::span<const uint8_t> AddressBytes(const IpAddress& address, uint8_t ip_version) {
  const std::span<const uint8_t> bytes(address.bytes);
  return ip_version == 4 ? bytes.subspan(kIpv4BytesOffset) : bytes;
}

// The endpoints in the order they are hashed.
struct OrderedEndpoints {
  std::span<const uint8_t> first_address;
  std::span<const uint8_t> second_address;
  uint16_t first_port = 0;
  uint16_t second_port = 0;
};

// Puts the smaller address (then the smaller port) first, so both directions of a flow
// hash alike. ICMP messages without a counterpart are one-way and keep their order,
// with the code as the second port.
OrderedEndpoints OrderEndpoints(const CommunityIdTuple& tuple) {
  OrderedEndpoints endpoints{
      .first_address = AddressBytes(tuple.src, tuple.ip_version),
      .second_address = AddressBytes(tuple.dst, tuple.ip_version),
      .first_port = tuple.src_port,
      .second_port = tuple.dst_port,
  };
  bool one_way = false;
  if (tuple.protocol == kIpProtoIcmp || tuple.protocol == kIpProtoIcmpv6) {
    const uint8_t type = static_cast<uint8_t>(tuple.src_port);
    const std::optional<uint8_t> counterpart =
        tuple.protocol == kIpProtoIcmp ? IcmpCounterpart(type) : Icmpv6Counterpart(type);
    one_way = !counterpart.has_value();
    endpoints.first_port = type;
    endpoints.second_port = counterpart.value_or(static_cast<uint8_t>(tuple.dst_port));
  }
  if (one_way) {
    return endpoints;
  }

  const int address_order =
      std::memcmp(endpoints.first_address.data(), endpoints.second_address.data(),
                  endpoints.first_address.size());
  const bool ordered =
      address_order < 0 || (address_order == 0 && endpoints.first_port < endpoints.second_port);
  if (!ordered) {
    std::swap(endpoints.first_address, endpoints.second_address);
    std::swap(endpoints.first_port, endpoints.second_port);
  }
  return endpoints;
}

// Fills `input` with the bytes the specification hashes, all in network byte order: seed,
// both addresses, protocol, a zero byte and, for protocols with a port part, both ports.
size_t BuildHashInput(const CommunityIdTuple& tuple, uint16_t seed,
                      std::array<uint8_t, kMaxHashInputLength>& input) {
  const OrderedEndpoints endpoints = OrderEndpoints(tuple);
  size_t length = 0;
  const auto append16 = [&](uint16_t value) {
    input[length++] = static_cast<uint8_t>(value >> 8);
    input[length++] = static_cast<uint8_t>(value);
  };
  append16(seed);
  for (const std::span<const uint8_t> address :
       {endpoints.first_address, endpoints.second_address}) {
    std::copy(address.begin(), address.end(), input.begin() + static_cast<std::ptrdiff_t>(length));
    length += address.size();
  }
  input[length++] = tuple.protocol;
  input[length++] = 0;
  if (HasPortPart(tuple.protocol)) {
    append16(endpoints.first_port);
    append16(endpoints.second_port);
  }
  return length;
}

// Fetched once and kept for the life of the process. Passing EVP_sha1() instead makes
// OpenSSL 3.0 look the algorithm up on every digest: 3 allocations per call instead of 2.
const EVP_MD* Sha1() {
  static EVP_MD* const sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  return sha1;
}

}  // namespace

std::optional<CommunityIdTuple> CommunityIdTupleOf(const PacketInfo& info) {
  if (info.ip_version != 4 && info.ip_version != 6) {
    return std::nullopt;
  }
  CommunityIdTuple tuple{
      .src = info.src,
      .dst = info.dst,
      .ip_version = info.ip_version,
      .protocol = info.protocol,
  };
  const bool later_fragment = info.is_fragment && !info.is_first_fragment;
  switch (info.protocol) {
    case kIpProtoTcp:
    case kIpProtoUdp:
    case kIpProtoSctp:
      if (!info.has_ports) {
        return std::nullopt;
      }
      tuple.src_port = info.src_port;
      tuple.dst_port = info.dst_port;
      return tuple;
    case kIpProtoIcmp:
    case kIpProtoIcmpv6:
      if (later_fragment) {
        return std::nullopt;
      }
      tuple.src_port = info.icmp_type;
      tuple.dst_port = info.icmp_code;
      return tuple;
    default:
      return tuple;
  }
}

bool ComputeCommunityIdDigest(const CommunityIdTuple& tuple, uint16_t seed,
                              std::span<uint8_t, kCommunityIdDigestLength> digest) {
  const EVP_MD* sha1 = Sha1();
  if (sha1 == nullptr) {
    return false;
  }
  std::array<uint8_t, kMaxHashInputLength> input{};
  const size_t input_length = BuildHashInput(tuple, seed, input);
  unsigned int digest_length = 0;
  return EVP_Digest(input.data(), input_length, digest.data(), &digest_length, sha1, nullptr) ==
             1 &&
         digest_length == kCommunityIdDigestLength;
}

bool WriteCommunityId(const CommunityIdTuple& tuple, uint16_t seed,
                      std::span<char, kCommunityIdLength> id) {
  std::array<uint8_t, kCommunityIdDigestLength> digest{};
  if (!ComputeCommunityIdDigest(tuple, seed, digest)) {
    return false;
  }
  // EVP_EncodeBlock writes a terminating NUL after the base64 text.
  std::array<unsigned char, kBase64Length + 1> base64{};
  if (EVP_EncodeBlock(base64.data(), digest.data(), static_cast<int>(digest.size())) !=
      static_cast<int>(kBase64Length)) {
    return false;
  }
  std::copy_n(kVersionPrefix, kVersionPrefixLength, id.begin());
  std::copy_n(base64.begin(), kBase64Length, id.begin() + kVersionPrefixLength);
  return true;
}

std::string CommunityId(const CommunityIdTuple& tuple, uint16_t seed) {
  std::array<char, kCommunityIdLength> id{};
  if (!WriteCommunityId(tuple, seed, id)) {
    return {};
  }
  return std::string(id.data(), id.size());
}

}  // namespace sensor::dp
