// Alert sink writing one JSON document per line to a local file (NDJSON), the output
// that needs no server; a log shipper such as Filebeat can forward it.
//
// Lines are buffered and written whole, so a reader never sees a partial line unless the
// disk fills. The file rotates by size (before a line would push it past rotate_bytes)
// and by age, to "<path>.<UTC time as YYYYmmddTHHMMSSZ>" (".1", ".2"... appended if that
// name exists). Reopen() starts a new file at the path after an outside tool such as
// logrotate moved the old one.
//
// Before each write the sink checks that the path still names its open file, and opens
// the path again if the file or its directory was removed. When that fails, the lines
// stay in memory (up to max_buffer_bytes) and the failure is counted and logged. Tick()
// retries every retry_interval. Alerts beyond that memory bound are rejected with an
// error, so none disappears silently.
//
// Control thread only.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ctrlplane/log.h"
#include "ctrlplane/sinks/alert_sink.h"
#include "ctrlplane/sinks/fsync_policy.h"

namespace sensor::ctl {

struct NdjsonSinkOptions {
  std::string path;
  FsyncPolicy fsync = FsyncPolicy::kNone;  // kBatch: fsync(2) after each write of the buffer.
  std::chrono::milliseconds fsync_interval{1'000};
  size_t buffer_bytes = 64 * 1024;
  uint64_t rotate_bytes = 0;                // 0: no rotation by size.
  std::chrono::seconds rotate_interval{0};  // 0: no rotation by age.
  // Tick() writes buffered lines once they are this old, so a live sensor's file stays
  // current when alerts are rare.
  std::chrono::milliseconds flush_interval{1'000};
  std::chrono::milliseconds retry_interval{1'000};  // After a failed open or write.
  size_t max_buffer_bytes = 64u << 20;
};

struct NdjsonSinkStats {
  uint64_t lines_written = 0;
  uint64_t bytes_written = 0;
  uint64_t rotations = 0;
  uint64_t reopens = 0;         // On request and after the file vanished from its path.
  uint64_t write_errors = 0;    // Failed opens, writes and fsyncs.
  uint64_t lines_rejected = 0;  // Alerts refused because the memory bound was reached.
  uint64_t lines_buffered = 0;  // Lines waiting in memory now.
};

class NdjsonSink : public AlertSink {
 public:
  // Opens (creating or appending to) the file.
  static absl::StatusOr<std::unique_ptr<NdjsonSink>> Open(const NdjsonSinkOptions& options);
  ~NdjsonSink() override;

  std::string_view name() const override { return "ndjson"; }
  // Buffers the line. Fails only when the line cannot be kept (memory bound reached); a
  // failed write of the buffer is counted and retried later instead.
  absl::Status Write(std::string_view document) override;
  // Writes the buffer; fails if lines remain unwritten.
  absl::Status Flush() override;

  // Periodic work from the control loop: writes lines older than flush_interval,
  // rotates by age, retries after a failure and runs the interval fsync.
  void Tick();
  // Writes the buffer to a newly opened file at the path (logrotate's postrotate step).
  absl::Status Reopen();

  const NdjsonSinkStats& stats() const { return stats_; }

 private:
  explicit NdjsonSink(const NdjsonSinkOptions& options)
      : options_(options), fsync_schedule_(options.fsync, options.fsync_interval) {}
  absl::Status OpenFile();
  // Makes sure fd_ is open and still the file at options_.path.
  absl::Status EnsureFile();
  absl::Status WriteBuffer();
  void Rotate();
  void CountError(const absl::Status& status);

  NdjsonSinkOptions options_;
  int fd_ = -1;
  uint64_t file_size_ = 0;
  std::chrono::steady_clock::time_point opened_at_;
  std::chrono::steady_clock::time_point buffered_since_;  // Oldest line in buffer_.
  std::chrono::steady_clock::time_point retry_at_;
  bool failing_ = false;
  bool unsynced_ = false;
  std::string buffer_;
  FsyncSchedule fsync_schedule_;
  NdjsonSinkStats stats_;
  RateLimitedLog error_log_{3, std::chrono::seconds(10)};
};

}  // namespace sensor::ctl
