#include <cstddef>
#include <cstdint>

#include "dataplane/decode/packet.h"

namespace sensor::dp {

namespace {

// Bytes 10 and 11 of an IPv4-mapped IPv6 address (RFC 4291 section 2.5.5.2).
constexpr size_t kMappedMarkerOffset = 10;
constexpr size_t kMappedV4Offset = 12;

}  // namespace

IpAddress IpAddress::FromV4(uint32_t host_order) {
  IpAddress address;
  address.bytes[kMappedMarkerOffset] = 0xFF;
  address.bytes[kMappedMarkerOffset + 1] = 0xFF;
  address.bytes[kMappedV4Offset] = static_cast<uint8_t>(host_order >> 24);
  address.bytes[kMappedV4Offset + 1] = static_cast<uint8_t>(host_order >> 16);
  address.bytes[kMappedV4Offset + 2] = static_cast<uint8_t>(host_order >> 8);
  address.bytes[kMappedV4Offset + 3] = static_cast<uint8_t>(host_order);
  return address;
}

// NOTE: an IPv6 packet whose address is literally ::ffff:a.b.c.d also reads as IPv4 here,
// so its address compares equal to that of an IPv4 packet from a.b.c.d.
bool IpAddress::IsV4() const {
  for (size_t i = 0; i < kMappedMarkerOffset; ++i) {
    if (bytes[i] != 0) {
      return false;
    }
  }
  return bytes[kMappedMarkerOffset] == 0xFF && bytes[kMappedMarkerOffset + 1] == 0xFF;
}

uint32_t IpAddress::v4() const {
  return static_cast<uint32_t>(bytes[kMappedV4Offset]) << 24 |
         static_cast<uint32_t>(bytes[kMappedV4Offset + 1]) << 16 |
         static_cast<uint32_t>(bytes[kMappedV4Offset + 2]) << 8 |
         static_cast<uint32_t>(bytes[kMappedV4Offset + 3]);
}

}  // namespace sensor::dp
