// The MISP sources of the command line: files, feed directories and feed URLs from
// --misp, MISP instances from --misp-rest, and the options of the HTTP sync and of the
// state directory that keeps the last good copy of each URL source.
//
// Main thread, or the one reload thread that calls SyncMispSources at a time.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ctrlplane/misp/misp_client.h"
#include "ctrlplane/misp/misp_model.h"
#include "sensor/sensor_main.h"

namespace CLI {
class App;
}  // namespace CLI

namespace sensor {

// Adds --misp-rest, --misp-key-file, the filters, timeouts and --state-dir to `command`.
void AddMispSyncOptions(CLI::App& command, SensorOptions& options);

// Builds the sync options: --misp values in order, a value starting with http:// or
// https:// as a feed URL and any other as a path, then the --misp-rest URLs in order.
// InvalidArgument for an invalid option value.
absl::StatusOr<misp::MispSyncOptions> MispSyncOptionsFrom(const SensorOptions& options);

// Creates the sync for the command line's sources, reading the API key file. Nothing is
// fetched yet.
absl::StatusOr<std::unique_ptr<misp::MispSync>> CreateMispSync(const SensorOptions& options);

// Lists the --misp and --misp-rest values, comma-separated, for messages.
std::string JoinMispSources(const SensorOptions& options);

// Syncs every source, logs one line per URL source (synced, using a snapshot, or kept
// from the last sync after an error) and returns the merged data.
absl::StatusOr<misp::LoadResult> SyncMispSources(misp::MispSync& sync);

}  // namespace sensor
