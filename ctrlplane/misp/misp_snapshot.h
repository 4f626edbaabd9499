// The last good data of each MISP URL source, kept in a state directory so that the
// sensor can start when MISP is unreachable.
//
// Format: an /events/restSearch response, {"response": [{"Event": {...}}, ...]}, holding
// every event with its attributes (object attributes inside an "Object" with the object's
// name), plus a "sensor_snapshot" object naming the source URL and the write time. The
// MISP loader already reads that shape, so a snapshot is also a valid --misp file, and
// jq or any JSON tool can inspect it. The file is written to a temporary name,
// flushed with fsync and renamed, so a crash leaves the old or the new snapshot, never a
// part of one.
//
// Control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctrlplane/misp/misp_model.h"

namespace sensor::misp {

// The snapshot file for a source in `state_dir`: misp-<kind>-<host>-<hash>.json, where
// the hash is over kind and URL, so two sources on one host get two files.
std::string SnapshotPath(const std::string& state_dir, std::string_view kind, std::string_view url);

// Serialises `data` in the snapshot format.
std::string FormatSnapshot(const LoadResult& data, std::string_view kind, std::string_view url,
                           int64_t written_unix);

// Creates `directory` (mode 0700) if missing, then writes `contents` to `path` in it
// through a temporary file, fsync and rename, and syncs the directory. The file gets mode
// 0600, because MISP data may be TLP:RED.
absl::Status WriteFileAtomically(const std::string& directory, const std::string& path,
                                 std::string_view contents);

struct LoadedSnapshot {
  LoadResult data;
  int64_t written_unix = 0;  // From the file's metadata, else its modification time.
};

// Reads the snapshot of source `url` from `path`. NotFound when there is none; another
// error when the file cannot be read, is not a snapshot of `url`, or is invalid.
// `source_of` gives each event its Event::source, as a live sync would have set it.
absl::StatusOr<LoadedSnapshot> ReadSnapshot(
    const std::string& path, std::string_view kind, std::string_view url,
    const std::function<std::string(const Event&)>& source_of);

// Formats an age in seconds as "3d 4h", "2h 5m", "4m 10s" or "12s".
std::string FormatAge(int64_t seconds);

}  // namespace sensor::misp
