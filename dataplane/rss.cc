#include "dataplane/rss.h"

#include <rte_thash.h>

namespace sensor::dp {

const std::array<uint8_t, kRssKeyLength>& SymmetricRssKey() {
  static constexpr std::array<uint8_t, kRssKeyLength> kKey = [] {
    std::array<uint8_t, kRssKeyLength> key{};
    for (size_t i = 0; i < kRssKeyLength; i += 2) {
      key[i] = 0x6d;
      key[i + 1] = 0x5a;
    }
    return key;
  }();
  return kKey;
}

uint32_t SymmetricRssHash(const PacketInfo& info) {
  // rte_softrss takes the tuple as host-order 32-bit words in the order the NIC reads
  // the fields: source address, destination address, then both ports in one word.
  uint32_t tuple[9];
  uint32_t words = 0;
  auto add_address = [&](const IpAddress& address, int first_byte) {
    for (int i = first_byte; i < 16; i += 4) {
      tuple[words++] = uint32_t{address.bytes[i]} << 24 | uint32_t{address.bytes[i + 1]} << 16 |
                       uint32_t{address.bytes[i + 2]} << 8 | address.bytes[i + 3];
    }
  };
  if (info.ip_version == 4) {
    add_address(info.src, 12);
    add_address(info.dst, 12);
  } else if (info.ip_version == 6) {
    add_address(info.src, 0);
    add_address(info.dst, 0);
  } else {
    return 0;
  }
  if (info.has_ports) tuple[words++] = uint32_t{info.src_port} << 16 | info.dst_port;
  return rte_softrss(tuple, words, SymmetricRssKey().data());
}

}  // namespace sensor::dp
