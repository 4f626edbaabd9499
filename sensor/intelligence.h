// Loading steps shared by the modes that read intelligence (replay, run, explain).
//
// Main thread only.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ctrlplane/indicator_compiler.h"
#include "ctrlplane/warninglist/warninglist_index.h"
#include "sensor/sensor_main.h"

namespace sensor {

// Prints the first lines of a list of problems on stderr, and how many more there were.
void PrintProblems(const std::vector<std::string>& problems, std::string_view what);

// Compile options from the command line, without warninglists; fails with a message
// naming the option when a TLP name is invalid.
absl::StatusOr<ctl::CompileOptions> CompileOptionsFrom(const SensorOptions& options);

// Loads and indexes the warninglists folder `folder` (lists/<name>/list.json), printing
// each skipped entry; returns nullopt when `folder` is empty.
absl::StatusOr<std::optional<ctl::WarninglistIndex>> LoadWarninglistFolder(
    const std::string& folder);

}  // namespace sensor
