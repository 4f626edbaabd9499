// Test helper that reads a capture from tests/data/pcap with libpcap and decodes every
// frame with the sensor's decoder. The protocol tests get the transport payloads of real
// packets, numbered as tshark numbers frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/decode/packet.h"

namespace sensor::dp::testing {

struct CapturedFrame {
  uint32_t frame_number = 0;  // 1-based.
  DecodeStatus status = DecodeStatus::kOk;
  PacketInfo info;
  std::vector<std::byte> payload;  // The transport payload, as PacketInfo locates it.
};

// The tests/data directory: $SENSOR_TEST_DATA, as meson sets it, or else found from this
// file's own path.
std::filesystem::path TestDataDir();

// Reads every frame of tests/data/pcap/`file_name`. A file that cannot be opened yields no
// frames and a test failure. A damaged record ends the list, as it ends tshark's reading.
std::vector<CapturedFrame> ReadCapture(const std::string& file_name);

// The payload of frame `frame_number`, or an empty vector and a test failure.
std::vector<std::byte> PayloadOf(const std::vector<CapturedFrame>& frames,
                                 uint32_t frame_number);

// Bytes of a text, for building crafted messages.
std::vector<std::byte> BytesOf(std::string_view text);

// Bytes of a hexadecimal string, skipping spaces and line breaks.
std::vector<std::byte> BytesFromHex(std::string_view hex);

}  // namespace sensor::dp::testing
