// Start and end of the DPDK environment abstraction layer for the sensor's modes.
//
// Main thread only; InitEal once per process.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace sensor {

// Initialises EAL with `arguments` (the first is the program name).
absl::Status InitEal(std::vector<std::string> arguments);

// Releases EAL's resources and removes its runtime directory (under /var/run/dpdk or
// $XDG_RUNTIME_DIR), so a finished run leaves no files behind.
void CleanupEal();

}  // namespace sensor
