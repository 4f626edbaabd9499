#include "ctrlplane/sinks/ndjson_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ctrlplane/absl_bridge.h"

namespace sensor::ctl {
namespace {

using Clock = std::chrono::steady_clock;

// "20240131T235959Z" for the current UTC time.
std::string RotationSuffix() {
  const time_t now = time(nullptr);
  tm utc;
  gmtime_r(&now, &utc);
  return absl::StrFormat("%04d%02d%02dT%02d%02d%02dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                         utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

bool PathExists(const std::string& path) {
  struct stat info;
  return lstat(path.c_str(), &info) == 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NdjsonSink>> NdjsonSink::Open(const NdjsonSinkOptions& options) {
  std::unique_ptr<NdjsonSink> sink(new NdjsonSink(options));
  if (absl::Status status = sink->OpenFile(); !status.ok()) return status;
  return sink;
}

NdjsonSink::~NdjsonSink() {
  (void)Flush();
  if (fd_ >= 0) close(fd_);
}

absl::Status NdjsonSink::OpenFile() {
  if (fd_ >= 0) close(fd_);
  fd_ = open(options_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open alert file ", options_.path, ": ", std::strerror(errno)));
  }
  struct stat info;
  file_size_ = fstat(fd_, &info) == 0 ? static_cast<uint64_t>(info.st_size) : 0;
  opened_at_ = Clock::now();
  return absl::OkStatus();
}

absl::Status NdjsonSink::EnsureFile() {
  if (fd_ >= 0) {
    struct stat open_file;
    struct stat at_path;
    if (fstat(fd_, &open_file) == 0) {
      if (stat(options_.path.c_str(), &at_path) == 0) {
        if (open_file.st_dev == at_path.st_dev && open_file.st_ino == at_path.st_ino) {
          return absl::OkStatus();
        }
      } else if (errno != ENOENT && errno != ENOTDIR) {
        // The path cannot be checked, for example because a directory above it is not
        // searchable by the user the sensor switched to. That proves no replacement, so
        // the open file stays the alert file.
        return absl::OkStatus();
      }
    }
    // The file was moved or deleted, or its directory removed. Lines written to it now
    // could be lost with it, so they go to a new file at the path.
    LogWarn("alerts", "event=alert_file_replaced file={} note=\"opening the path again\"",
            options_.path);
    ++stats_.reopens;
  }
  return OpenFile();
}

void NdjsonSink::CountError(const absl::Status& status) {
  ++stats_.write_errors;
  failing_ = true;
  retry_at_ = Clock::now() + options_.retry_interval;
  uint64_t suppressed = 0;
  if (error_log_.Allow(suppressed)) {
    LogError("alerts",
             "event=alert_file_write_failed error=\"{}\" lines_kept_in_memory={} "
             "repeats_not_logged={}",
             ToStd(status.message()), stats_.lines_buffered, suppressed);
  }
}

absl::Status NdjsonSink::Write(std::string_view document) {
  if (buffer_.size() + document.size() + 1 > options_.max_buffer_bytes) {
    ++stats_.lines_rejected;
    return absl::ResourceExhaustedError(
        absl::StrCat("alert file ", options_.path, " cannot be written and ", buffer_.size(),
                     " bytes of alerts wait in memory, the limit; this alert was not written"));
  }
  if (options_.rotate_bytes != 0 && !failing_ &&
      file_size_ + buffer_.size() + document.size() + 1 > options_.rotate_bytes &&
      file_size_ + buffer_.size() > 0) {
    if (Flush().ok() && file_size_ > 0) Rotate();
  }
  if (buffer_.empty()) buffered_since_ = Clock::now();
  buffer_.append(document);
  buffer_.push_back('\n');
  ++stats_.lines_buffered;
  if (buffer_.size() >= options_.buffer_bytes && !failing_) (void)WriteBuffer();
  return absl::OkStatus();
}

absl::Status NdjsonSink::WriteBuffer() {
  if (absl::Status status = EnsureFile(); !status.ok()) {
    CountError(status);
    return status;
  }
  size_t written = 0;
  while (written < buffer_.size()) {
    const ssize_t n = write(fd_, buffer_.data() + written, buffer_.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const absl::Status status = absl::UnavailableError(
          absl::StrCat("cannot write alert file ", options_.path, ": ", std::strerror(errno)));
      // Keep the unwritten tail so a later write (after space is freed) can retry it.
      const uint64_t lines_done = std::count(buffer_.begin(), buffer_.begin() + written, '\n');
      buffer_.erase(0, written);
      file_size_ += written;
      stats_.bytes_written += written;
      stats_.lines_written += lines_done;
      stats_.lines_buffered -= lines_done;
      CountError(status);
      return status;
    }
    written += static_cast<size_t>(n);
  }
  file_size_ += written;
  stats_.bytes_written += written;
  stats_.lines_written += stats_.lines_buffered;
  stats_.lines_buffered = 0;
  buffer_.clear();
  if (failing_) {
    LogInfo("alerts", "event=alert_file_write_resumed file={}", options_.path);
    failing_ = false;
  }
  unsynced_ = true;
  const auto now = Clock::now();
  if (fsync_schedule_.Due(/*batch_end=*/true, now)) {
    fsync_schedule_.Synced(now);
    unsynced_ = false;
    if (fsync(fd_) != 0) {
      const absl::Status status = absl::UnavailableError(
          absl::StrCat("cannot fsync alert file ", options_.path, ": ", std::strerror(errno)));
      CountError(status);
      return status;
    }
  }
  return absl::OkStatus();
}

absl::Status NdjsonSink::Flush() {
  if (buffer_.empty()) return absl::OkStatus();
  return WriteBuffer();
}

void NdjsonSink::Rotate() {
  std::string rotated = absl::StrCat(options_.path, ".", RotationSuffix());
  for (int n = 1; PathExists(rotated); ++n) {
    rotated = absl::StrCat(options_.path, ".", RotationSuffix(), ".", n);
  }
  if (options_.fsync != FsyncPolicy::kNone && fd_ >= 0) fsync(fd_);
  if (rename(options_.path.c_str(), rotated.c_str()) != 0) {
    CountError(absl::UnavailableError(absl::StrCat("cannot rotate alert file ", options_.path,
                                                   " to ", rotated, ": ", std::strerror(errno))));
    return;
  }
  ++stats_.rotations;
  LogInfo("alerts", "event=alert_file_rotated file={} rotated_to={} bytes={}", options_.path,
          rotated, file_size_);
  if (absl::Status status = OpenFile(); !status.ok()) CountError(status);
}

void NdjsonSink::Tick() {
  const auto now = Clock::now();
  if (failing_) {
    if (now >= retry_at_) (void)WriteBuffer();
    return;
  }
  if (!buffer_.empty() && now - buffered_since_ >= options_.flush_interval) (void)WriteBuffer();
  if (options_.rotate_interval.count() > 0 && now - opened_at_ >= options_.rotate_interval) {
    if (file_size_ + buffer_.size() > 0 && Flush().ok()) {
      Rotate();
    } else {
      opened_at_ = now;  // Nothing to rotate: an empty file starts a new period.
    }
  }
  if (unsynced_ && fd_ >= 0 && fsync_schedule_.policy() == FsyncPolicy::kInterval &&
      fsync_schedule_.Due(/*batch_end=*/false, now)) {
    fsync_schedule_.Synced(now);
    unsynced_ = false;
    if (fsync(fd_) != 0) {
      CountError(absl::UnavailableError(
          absl::StrCat("cannot fsync alert file ", options_.path, ": ", std::strerror(errno))));
    }
  }
}

absl::Status NdjsonSink::Reopen() {
  ++stats_.reopens;
  LogInfo("alerts", "event=alert_file_reopen file={}", options_.path);
  if (absl::Status status = OpenFile(); !status.ok()) {
    CountError(status);
    return status;
  }
  return Flush();
}

}  // namespace sensor::ctl
