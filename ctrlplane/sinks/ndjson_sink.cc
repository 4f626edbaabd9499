#include "ctrlplane/sinks/ndjson_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sensor::ctl {

absl::StatusOr<std::unique_ptr<NdjsonSink>> NdjsonSink::Open(const NdjsonSinkOptions& options) {
  const int fd = open(options.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open alert file ", options.path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<NdjsonSink>(new NdjsonSink(options, fd));
}

NdjsonSink::~NdjsonSink() {
  (void)Flush();
  if (fd_ >= 0) close(fd_);
}

absl::Status NdjsonSink::Write(std::string_view document) {
  buffer_.append(document);
  buffer_.push_back('\n');
  if (buffer_.size() >= options_.buffer_bytes) return Flush();
  return absl::OkStatus();
}

absl::Status NdjsonSink::Flush() {
  size_t written = 0;
  while (written < buffer_.size()) {
    const ssize_t n = write(fd_, buffer_.data() + written, buffer_.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Keep the unwritten tail so a later Flush (after space is freed) can retry it.
      buffer_.erase(0, written);
      return absl::UnavailableError(
          absl::StrCat("cannot write alert file ", options_.path, ": ", std::strerror(errno)));
    }
    written += static_cast<size_t>(n);
  }
  buffer_.clear();
  if (options_.fsync_on_flush && fsync(fd_) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot fsync alert file ", options_.path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace sensor::ctl
