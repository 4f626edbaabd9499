// Reads a capture file once with libpcap before replay: how many packets it holds, the
// time span they cover, and whether (and where) the file is damaged.
//
// Startup only.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace sensor {

struct CaptureScan {
  uint64_t packets = 0;  // Readable packets before the end or the damage.
  uint64_t bytes = 0;    // Their captured bytes.
  uint64_t first_ns = 0;
  uint64_t last_ns = 0;
  uint64_t latest_ns = 0;  // Newest timestamp; later than last_ns if out of time order.
  int link_type = 0;     // DLT_* value.
  bool damaged = false;  // Reading stopped on an error rather than at end of file.
  std::string damage;    // libpcap's description of the error.
};

// Fails if the file cannot be opened or is not a pcap/pcapng capture at all.
absl::StatusOr<CaptureScan> ScanCapture(const std::string& path);

}  // namespace sensor
