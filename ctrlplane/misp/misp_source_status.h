// The sync state of each MISP source, as `sensorctl stats` and the metrics report it. The
// thread that syncs (the reload build thread, or the main thread at start) writes it after
// each sync, and the control thread reads a copy.
//
// Thread-safe: every method takes the board's mutex, which is held only to copy a few
// strings. The API key never reaches it: names are paths or URLs without credentials,
// and errors come from messages that are redacted already.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sensor::misp {

struct SourceStatus {
  std::string name;  // Path or URL, without credentials.
  std::string kind;  // "file", "feed" or "rest".
  std::chrono::system_clock::time_point last_success{};  // The epoch if it never synced.
  std::chrono::system_clock::time_point last_attempt{};  // The epoch before the first sync.
  std::string last_error;   // One line; empty after a good sync.
  uint64_t attributes = 0;  // MISP attributes in the source's data now.
  // Status of the last HTTP response of the last sync; 0 for files, and when no response
  // came (connection refused, timeout).
  long http_status = 0;
};

// One sync's outcome of one source, as SourceStatusBoard::Record takes it.
struct SourceOutcome {
  bool ok = false;
  std::string_view error;  // Ignored when ok.
  uint64_t attributes = 0;
  long http_status = 0;
};

class SourceStatusBoard {
 public:
  // One entry per source, in the order of the sync's sources.
  void Reset(std::vector<SourceStatus> sources);
  // Records the outcome of source `index` at `now`. An index out of range is ignored.
  void Record(size_t index, const SourceOutcome& outcome,
              std::chrono::system_clock::time_point now);
  std::vector<SourceStatus> Read() const;

 private:
  mutable std::mutex mutex_;
  std::vector<SourceStatus> sources_;
};

// Removes "user:password@" from an http:// or https:// URL; other text is returned as is.
std::string WithoutCredentials(std::string_view url);

// Joins the lines of `text` with "; " and replaces other control characters with spaces.
std::string OneLine(std::string_view text);

}  // namespace sensor::misp
