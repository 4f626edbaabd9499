// Helpers shared by the decoder tests: printers for GoogleTest, a buffer that lets
// AddressSanitizer catch reads past a frame, frame editing, and a capture file reader.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "dataplane/decode/decoder.h"
#include "dataplane/decode/packet.h"

namespace sensor::dp {

// GoogleTest finds these printers by argument-dependent lookup, so they live in the
// namespace of the printed types rather than in the unnamed namespace.
inline void PrintTo(DecodeStatus status, std::ostream* out) { *out << DecodeStatusName(status); }

inline void PrintTo(const IpAddress& address, std::ostream* out) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, address.bytes.data(), text, sizeof(text));
  *out << text;
}

inline void PrintTo(TunnelType type, std::ostream* out) { *out << TunnelTypeName(type); }

namespace decode_test {

// A frame in a heap block of exactly its size, so that AddressSanitizer reports any read
// past the end of the frame.
class ExactBuffer {
 public:
  explicit ExactBuffer(std::span<const uint8_t> bytes)
      : size_(bytes.size()), data_(std::make_unique<std::byte[]>(bytes.size())) {
    if (size_ > 0) {
      std::memcpy(data_.get(), bytes.data(), size_);
    }
  }

  std::span<const std::byte> bytes() const { return {data_.get(), size_}; }

 private:
  size_t size_;
  std::unique_ptr<std::byte[]> data_;
};

inline DecodeStatus DecodeFrame(std::span<const uint8_t> frame, PacketInfo& info) {
  const ExactBuffer buffer(frame);
  return DecodeEthernet(buffer.bytes(), info);
}

// Parses an IPv6 address, or an IPv4 address into its ::ffff:a.b.c.d form. Parsing with
// inet_pton keeps the expected values independent of IpAddress::FromV4.
inline IpAddress Address(const std::string& text) {
  const bool is_v4 = text.find(':') == std::string::npos;
  const std::string v6_text = is_v4 ? "::ffff:" + text : text;
  IpAddress address;
  EXPECT_EQ(inet_pton(AF_INET6, v6_text.c_str(), address.bytes.data()), 1) << text;
  return address;
}

inline std::vector<uint8_t> CopyOf(std::span<const uint8_t> frame) {
  return std::vector<uint8_t>(frame.begin(), frame.end());
}

inline void Insert(std::vector<uint8_t>& frame, size_t offset,
                   std::initializer_list<uint8_t> bytes) {
  frame.insert(frame.begin() + static_cast<std::ptrdiff_t>(offset), bytes);
}

inline void Store16(std::vector<uint8_t>& frame, size_t offset, uint16_t value) {
  frame[offset] = static_cast<uint8_t>(value >> 8);
  frame[offset + 1] = static_cast<uint8_t>(value);
}

inline void ExpectPacketInfoEq(const PacketInfo& actual, const PacketInfo& expected) {
  EXPECT_EQ(actual.src, expected.src);
  EXPECT_EQ(actual.dst, expected.dst);
  EXPECT_EQ(actual.src_port, expected.src_port);
  EXPECT_EQ(actual.dst_port, expected.dst_port);
  EXPECT_EQ(actual.ip_version, expected.ip_version);
  EXPECT_EQ(actual.protocol, expected.protocol);
  EXPECT_EQ(actual.tcp_flags, expected.tcp_flags);
  EXPECT_EQ(actual.has_ports, expected.has_ports);
  EXPECT_EQ(actual.is_fragment, expected.is_fragment);
  EXPECT_EQ(actual.is_first_fragment, expected.is_first_fragment);
  EXPECT_EQ(actual.icmp_type, expected.icmp_type);
  EXPECT_EQ(actual.icmp_code, expected.icmp_code);
  EXPECT_EQ(actual.vlan_count, expected.vlan_count);
  EXPECT_EQ(actual.mpls_count, expected.mpls_count);
  EXPECT_EQ(actual.vlan_outer, expected.vlan_outer);
  EXPECT_EQ(actual.vlan_inner, expected.vlan_inner);
  EXPECT_EQ(actual.ip_length, expected.ip_length);
  EXPECT_EQ(actual.l3_offset, expected.l3_offset);
  EXPECT_EQ(actual.l4_offset, expected.l4_offset);
  EXPECT_EQ(actual.payload_offset, expected.payload_offset);
  EXPECT_EQ(actual.payload_length, expected.payload_length);

  EXPECT_EQ(actual.tunnel.outer_src, expected.tunnel.outer_src);
  EXPECT_EQ(actual.tunnel.outer_dst, expected.tunnel.outer_dst);
  EXPECT_EQ(actual.tunnel.id, expected.tunnel.id);
  EXPECT_EQ(actual.tunnel.has_id, expected.tunnel.has_id);
  EXPECT_EQ(actual.tunnel.depth, expected.tunnel.depth);
  EXPECT_EQ(actual.tunnel.type, expected.tunnel.type);
  EXPECT_EQ(actual.tunnel.inner_vlan_count, expected.tunnel.inner_vlan_count);
  EXPECT_EQ(actual.tunnel.inner_vlan_outer, expected.tunnel.inner_vlan_outer);
  EXPECT_EQ(actual.tunnel.inner_vlan_inner, expected.tunnel.inner_vlan_inner);
}

// Status of a frame truncated to `min_length` bytes or more, up to the next entry.
struct StatusFromLength {
  size_t min_length;
  DecodeStatus status;
};

// The tests/data directory: $SENSOR_TEST_DATA, as meson sets it, or else found from this
// file's own path (tests/dataplane/decode/decode_test_util.h).
inline std::filesystem::path TestDataDir() {
  const char* from_environment = std::getenv("SENSOR_TEST_DATA");
  if (from_environment != nullptr && *from_environment != '\0') {
    return from_environment;
  }
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "data";
}

// Reads every frame of a capture file under tests/data, such as "pcap/gre-tunnel.pcap".
// A file that cannot be read fails the test and yields no frames.
inline std::vector<std::vector<uint8_t>> ReadCaptureFrames(const std::string& relative_path) {
  const std::string path = (TestDataDir() / relative_path).string();
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pcap = pcap_open_offline(path.c_str(), error);
  if (pcap == nullptr) {
    ADD_FAILURE() << "cannot open " << path << ": " << error;
    return {};
  }
  std::vector<std::vector<uint8_t>> frames;
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  int result = 0;
  while ((result = pcap_next_ex(pcap, &header, &data)) == 1) {
    frames.emplace_back(data, data + header->caplen);
  }
  if (result != PCAP_ERROR_BREAK) {
    ADD_FAILURE() << "reading " << path << " failed: " << pcap_geterr(pcap);
  }
  pcap_close(pcap);
  return frames;
}

}  // namespace decode_test
}  // namespace sensor::dp
