// Fuzz target for the packet decoder: the input is one captured frame, from the Ethernet
// header on (DecodeEthernet), and the same bytes read as a bare IP packet (DecodeIp).
#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/decode/decoder.h"
#include "dataplane/decode/packet.h"

namespace {

using sensor::dp::DecodeStatus;
using sensor::dp::PacketInfo;

// The worker reads the payload through these offsets, so they must stay inside the frame
// whatever the decoder returns.
void CheckOffsets(const PacketInfo& info, size_t frame_length) {
  if (info.payload_offset + size_t{info.payload_length} > frame_length &&
      info.payload_length != 0) {
    __builtin_trap();
  }
  if (sensor::dp::DecodeStatusName(DecodeStatus::kOk).empty()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> frame(reinterpret_cast<const std::byte*>(data), size);

  PacketInfo ethernet;
  const DecodeStatus status = sensor::dp::DecodeEthernet(frame, ethernet);
  if (sensor::dp::DecodeStatusName(status).empty()) __builtin_trap();
  CheckOffsets(ethernet, size);
  if (status == DecodeStatus::kOk && ethernet.ip_version != 4 && ethernet.ip_version != 6) {
    __builtin_trap();
  }

  PacketInfo ip;
  sensor::dp::DecodeIp(frame, 0, ip);
  CheckOffsets(ip, size);
  return 0;
}
