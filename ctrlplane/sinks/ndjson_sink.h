// Alert sink writing one JSON document per line to a local file (NDJSON), the output
// that needs no server; a log shipper such as Filebeat can forward it.
//
// Control thread only. Lines are buffered and written whole, so a reader never sees a
// partial line unless the disk fills; a failed write is returned, never dropped silently.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ctrlplane/sinks/alert_sink.h"

namespace sensor::ctl {

struct NdjsonSinkOptions {
  std::string path;
  bool fsync_on_flush = false;  // fsync(2) after each Flush().
  size_t buffer_bytes = 64 * 1024;
};

class NdjsonSink : public AlertSink {
 public:
  // Opens (creating or appending to) the file.
  static absl::StatusOr<std::unique_ptr<NdjsonSink>> Open(const NdjsonSinkOptions& options);
  ~NdjsonSink() override;

  std::string_view name() const override { return "ndjson"; }
  absl::Status Write(std::string_view document) override;
  absl::Status Flush() override;

 private:
  NdjsonSink(const NdjsonSinkOptions& options, int fd) : options_(options), fd_(fd) {}

  NdjsonSinkOptions options_;
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace sensor::ctl
