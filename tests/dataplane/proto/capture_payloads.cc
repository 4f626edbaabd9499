#include "tests/dataplane/proto/capture_payloads.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataplane/decode/decoder.h"
#include "dataplane/decode/packet.h"

namespace sensor::dp::testing {

std::filesystem::path TestDataDir() {
  const char* from_environment = std::getenv("SENSOR_TEST_DATA");
  if (from_environment != nullptr && *from_environment != '\0') {
    return from_environment;
  }
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "data";
}

std::vector<CapturedFrame> ReadCapture(const std::string& file_name) {
  std::vector<CapturedFrame> frames;
  const std::string path = (TestDataDir() / "pcap" / file_name).string();
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* capture = pcap_open_offline(path.c_str(), error);
  if (capture == nullptr) {
    ADD_FAILURE() << "cannot open " << path << ": " << error;
    return frames;
  }
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(capture, &header, &data) == 1) {
    CapturedFrame frame;
    frame.frame_number = static_cast<uint32_t>(frames.size() + 1);
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data),
                                           header->caplen);
    frame.status = DecodeEthernet(bytes, frame.info);
    const auto payload = bytes.subspan(frame.info.payload_offset, frame.info.payload_length);
    frame.payload.assign(payload.begin(), payload.end());
    frames.push_back(std::move(frame));
  }
  pcap_close(capture);
  return frames;
}

std::vector<std::byte> PayloadOf(const std::vector<CapturedFrame>& frames,
                                 uint32_t frame_number) {
  if (frame_number == 0 || frame_number > frames.size()) {
    ADD_FAILURE() << "no frame " << frame_number << " in a capture of " << frames.size();
    return {};
  }
  return frames[frame_number - 1].payload;
}

std::vector<std::byte> BytesOf(std::string_view text) {
  std::vector<std::byte> bytes;
  for (char c : text) {
    bytes.push_back(static_cast<std::byte>(c));
  }
  return bytes;
}

std::vector<std::byte> BytesFromHex(std::string_view hex) {
  std::vector<std::byte> bytes;
  int high = -1;
  for (char c : hex) {
    int value = -1;
    if (c >= '0' && c <= '9') {
      value = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      value = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      value = c - 'A' + 10;
    } else {
      continue;
    }
    if (high < 0) {
      high = value;
    } else {
      bytes.push_back(static_cast<std::byte>(high << 4 | value));
      high = -1;
    }
  }
  EXPECT_LT(high, 0) << "odd number of hex digits";
  return bytes;
}

}  // namespace sensor::dp::testing
