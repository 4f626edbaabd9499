#include "ctrlplane/sinks/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ctrlplane/log.h"

namespace sensor::ctl {
namespace {

constexpr char kMagic[8] = {'S', 'N', 'S', 'P', 'O', 'O', 'L', '1'};
constexpr size_t kMagicBytes = sizeof(kMagic);
constexpr size_t kRecordHeaderBytes = 8;  // u32 length, u32 CRC-32.
constexpr size_t kAckEntryBytes = 12;     // u64 sequence, u32 CRC-32.
constexpr size_t kSegmentNameDigits = 20;
constexpr char kSegmentSuffix[] = ".seg";
constexpr size_t kSegmentSuffixBytes = sizeof(kSegmentSuffix) - 1;
constexpr char kAckLogName[] = "acked.log";

uint32_t Crc32(const void* data, size_t size) {
  return static_cast<uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), static_cast<const Bytef*>(data), static_cast<uInt>(size)));
}

void PutU32(char* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(value >> (8 * i));
}

void PutU64(char* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(value >> (8 * i));
}

uint32_t GetU32(const char* in) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= uint32_t{static_cast<unsigned char>(in[i])} << (8 * i);
  return value;
}

uint64_t GetU64(const char* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
  return value;
}

absl::Status Errno(absl::string_view operation, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(operation, " ", path, ": ", std::strerror(errno)));
}

absl::Status WriteAll(int fd, const char* data, size_t size, const std::string& path) {
  size_t written = 0;
  while (written < size) {
    const ssize_t n = write(fd, data + written, size - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno("cannot write", path);
    written += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status ReadAll(int fd, std::string& out, const std::string& path) {
  out.clear();
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot read", path);
    if (n == 0) return absl::OkStatus();
    out.append(buffer, static_cast<size_t>(n));
  }
}

absl::Status PreadAll(int fd, char* data, size_t size, uint64_t offset, const std::string& path) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pread(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot read", path);
    if (n == 0) {
      return absl::DataLossError(absl::StrCat("spool segment ", path, " ends inside a record at ",
                                              offset, "; it was changed by another program"));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status SyncDirectory(const std::string& directory) {
  const int fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", directory);
  const int rc = fsync(fd);
  close(fd);
  if (rc != 0) return Errno("cannot fsync", directory);
  return absl::OkStatus();
}

// The first sequence encoded in a segment file name, or -1 for other names.
int64_t SegmentNameSequence(std::string_view name) {
  if (name.size() != kSegmentNameDigits + kSegmentSuffixBytes ||
      name.substr(kSegmentNameDigits) != kSegmentSuffix) {
    return -1;
  }
  uint64_t value = 0;
  for (size_t i = 0; i < kSegmentNameDigits; ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    value = value * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return value > static_cast<uint64_t>(INT64_MAX) ? -1 : static_cast<int64_t>(value);
}

}  // namespace

Spool::Spool(const SpoolOptions& options)
    : options_(options), fsync_schedule_(options.fsync, options.fsync_interval) {}

Spool::~Spool() {
  if (options_.fsync != FsyncPolicy::kNone) (void)SyncFiles();
  for (auto& [first, segment] : segments_) close(segment.fd);
  if (ack_fd_ >= 0) close(ack_fd_);
  if (lock_fd_ >= 0) close(lock_fd_);
}

absl::StatusOr<std::unique_ptr<Spool>> Spool::Open(const SpoolOptions& options) {
  if (options.directory.empty()) {
    return absl::InvalidArgumentError("the spool directory name is empty");
  }
  if (options.segment_bytes < kMagicBytes + kRecordHeaderBytes + 1 ||
      options.max_bytes < options.segment_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid spool sizes for ", options.directory, ": segment ", options.segment_bytes,
        " bytes, maximum ", options.max_bytes, " bytes; the maximum must be at least one segment"));
  }
  if (mkdir(options.directory.c_str(), 0700) != 0 && errno != EEXIST) {
    return Errno("cannot create spool directory", options.directory);
  }
  struct stat info;
  if (stat(options.directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("spool path ", options.directory, " is not a directory"));
  }
  std::unique_ptr<Spool> spool(new Spool(options));
  const std::string lock_path = absl::StrCat(options.directory, "/lock");
  spool->lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (spool->lock_fd_ < 0) return Errno("cannot create", lock_path);
  if (flock(spool->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("spool directory ", options.directory,
                     " is in use by another sensor process; give each process its own spool"));
  }
  if (absl::Status status = spool->Recover(); !status.ok()) return status;
  return spool;
}

std::string Spool::SegmentPath(uint64_t first_sequence) const {
  std::string digits = absl::StrCat(first_sequence);
  digits.insert(0, kSegmentNameDigits - digits.size(), '0');
  return absl::StrCat(options_.directory, "/", digits, kSegmentSuffix);
}

absl::Status Spool::Recover() {
  DIR* dir = opendir(options_.directory.c_str());
  if (dir == nullptr) return Errno("cannot list spool directory", options_.directory);
  std::vector<uint64_t> firsts;
  while (dirent* entry = readdir(dir)) {
    const int64_t first = SegmentNameSequence(entry->d_name);
    if (first >= 0) firsts.push_back(static_cast<uint64_t>(first));
  }
  closedir(dir);
  std::sort(firsts.begin(), firsts.end());

  for (uint64_t first : firsts) {
    if (!segments_.empty()) {
      const Segment& previous = segments_.rbegin()->second;
      if (first < previous.first_sequence + previous.records) {
        return absl::DataLossError(absl::StrCat("spool segment ", SegmentPath(first), " overlaps ",
                                                SegmentPath(previous.first_sequence),
                                                "; move the spool directory aside and restart"));
      }
    }
    if (absl::Status status = LoadSegment(first, SegmentPath(first)); !status.ok()) return status;
  }
  if (!segments_.empty()) {
    const Segment& last = segments_.rbegin()->second;
    next_sequence_ = last.first_sequence + last.records;
  }

  std::vector<uint64_t> acknowledged;
  if (absl::Status status = LoadAckLog(acknowledged); !status.ok()) return status;
  for (uint64_t sequence : acknowledged) {
    auto it = pending_.find(sequence);
    if (it == pending_.end()) continue;
    --segments_[it->second.segment].pending;
    stats_.pending_bytes -= it->second.length;
    pending_.erase(it);
  }
  stats_.recovered = pending_.size();

  // Continue in a fresh segment when the last one is fully acknowledged or absent, so
  // that acknowledged segments can all go.
  if (segments_.empty() || active().pending == 0) {
    if (absl::Status status = StartSegment(next_sequence_); !status.ok()) return status;
  }
  DeleteAcknowledgedSegments();
  return RewriteAckLog();
}

absl::Status Spool::LoadSegment(uint64_t first_sequence, const std::string& path) {
  const int fd = open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open spool segment", path);
  Segment segment;
  segment.first_sequence = first_sequence;
  segment.fd = fd;
  std::string content;
  if (absl::Status status = ReadAll(fd, content, path); !status.ok()) {
    close(fd);
    return status;
  }
  if (content.size() >= kMagicBytes && std::memcmp(content.data(), kMagic, kMagicBytes) != 0) {
    close(fd);
    return absl::DataLossError(absl::StrCat(
        path, " is not a spool segment (wrong magic); move it out of the spool directory"));
  }

  size_t offset = kMagicBytes;
  std::vector<Location> locations;
  if (content.size() >= kMagicBytes) {
    while (offset + kRecordHeaderBytes <= content.size()) {
      const uint32_t length = GetU32(content.data() + offset);
      const uint32_t crc = GetU32(content.data() + offset + 4);
      if (length > kMaxRecordBytes || offset + kRecordHeaderBytes + length > content.size() ||
          Crc32(content.data() + offset + kRecordHeaderBytes, length) != crc) {
        break;
      }
      locations.push_back({first_sequence, offset, length});
      offset += kRecordHeaderBytes + length;
    }
  }
  // NOTE: the first bad record ends the segment, so damage in the middle of a segment
  // (not a torn tail) also drops the valid records after it; they are counted as cut.
  // A file shorter than the magic was cut while being created: start it again.
  const size_t valid = content.size() >= kMagicBytes ? offset : 0;
  if (valid < content.size()) {
    const uint64_t cut = content.size() - valid;
    LogWarn("spool", "event=corrupt_tail_truncated segment={} offset={} bytes={} records_kept={}",
            path, valid, cut, locations.size());
    ++stats_.corrupt_tails;
    stats_.corrupt_bytes += cut;
    if (ftruncate(fd, static_cast<off_t>(valid)) != 0) {
      close(fd);
      return Errno("cannot truncate the damaged tail of spool segment", path);
    }
  }
  if (valid == 0) {
    if (absl::Status status = WriteAll(fd, kMagic, kMagicBytes, path); !status.ok()) {
      close(fd);
      return status;
    }
  }
  segment.size = std::max<uint64_t>(valid, kMagicBytes);
  segment.records = locations.size();
  segment.pending = locations.size();
  for (size_t i = 0; i < locations.size(); ++i) {
    pending_[first_sequence + i] = locations[i];
    stats_.pending_bytes += locations[i].length;
  }
  stats_.disk_bytes += segment.size;
  segments_[first_sequence] = segment;
  return absl::OkStatus();
}

absl::Status Spool::LoadAckLog(std::vector<uint64_t>& acknowledged) {
  const std::string path = absl::StrCat(options_.directory, "/", kAckLogName);
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return Errno("cannot open", path);
  }
  std::string content;
  absl::Status status = ReadAll(fd, content, path);
  close(fd);
  if (!status.ok()) return status;
  size_t offset = 0;
  for (; offset + kAckEntryBytes <= content.size(); offset += kAckEntryBytes) {
    const char* entry = content.data() + offset;
    if (Crc32(entry, 8) != GetU32(entry + 8)) break;
    acknowledged.push_back(GetU64(entry));
  }
  if (offset < content.size()) {
    // RewriteAckLog() replaces the file, which drops the damaged tail.
    LogWarn("spool", "event=corrupt_tail_truncated file={} offset={} bytes={}", path, offset,
            content.size() - offset);
    ++stats_.corrupt_tails;
    stats_.corrupt_bytes += content.size() - offset;
  }
  return absl::OkStatus();
}

absl::Status Spool::StartSegment(uint64_t first_sequence) {
  const std::string path = SegmentPath(first_sequence);
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create spool segment", path);
  if (absl::Status status = WriteAll(fd, kMagic, kMagicBytes, path); !status.ok()) {
    close(fd);
    unlink(path.c_str());
    return status;
  }
  if (options_.fsync != FsyncPolicy::kNone) (void)SyncDirectory(options_.directory);
  auto existing = segments_.find(first_sequence);
  if (existing != segments_.end()) {
    // Only an empty last segment can share the first sequence of the next one.
    stats_.disk_bytes -= existing->second.size;
    close(existing->second.fd);
    segments_.erase(existing);
  }
  Segment segment;
  segment.first_sequence = first_sequence;
  segment.fd = fd;
  segment.size = kMagicBytes;
  segments_[first_sequence] = segment;
  stats_.disk_bytes += kMagicBytes;
  return absl::OkStatus();
}

void Spool::DeleteSegment(std::map<uint64_t, Segment>::iterator it) {
  const std::string path = SegmentPath(it->first);
  close(it->second.fd);
  if (unlink(path.c_str()) != 0) {
    LogWarn("spool", "event=delete_failed segment={} error=\"{}\"", path, std::strerror(errno));
  }
  stats_.disk_bytes -= it->second.size;
  segments_.erase(it);
  segments_deleted_ = true;
}

void Spool::DeleteAcknowledgedSegments() {
  const uint64_t active_first = segments_.rbegin()->first;
  for (auto it = segments_.begin(); it != segments_.end() && it->first != active_first;) {
    auto next = std::next(it);
    if (it->second.pending == 0) DeleteSegment(it);
    it = next;
  }
}

absl::Status Spool::RewriteAckLog() {
  const std::string path = absl::StrCat(options_.directory, "/", kAckLogName);
  const std::string temporary = absl::StrCat(path, ".tmp");
  std::string content;
  for (const auto& [first, segment] : segments_) {
    for (uint64_t sequence = first; sequence < first + segment.records; ++sequence) {
      if (pending_.contains(sequence)) continue;
      char entry[kAckEntryBytes];
      PutU64(entry, sequence);
      PutU32(entry + 8, Crc32(entry, 8));
      content.append(entry, kAckEntryBytes);
    }
  }

  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", temporary);
  absl::Status status = WriteAll(fd, content.data(), content.size(), temporary);
  if (status.ok() && options_.fsync != FsyncPolicy::kNone && fsync(fd) != 0) {
    status = Errno("cannot fsync", temporary);
  }
  close(fd);
  if (status.ok() && rename(temporary.c_str(), path.c_str()) != 0) {
    status = Errno("cannot rename to", path);
  }
  if (!status.ok()) {
    unlink(temporary.c_str());
    return status;
  }
  if (options_.fsync != FsyncPolicy::kNone) (void)SyncDirectory(options_.directory);

  if (ack_fd_ >= 0) close(ack_fd_);
  ack_fd_ = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (ack_fd_ < 0) return Errno("cannot open", path);
  segments_deleted_ = false;
  return absl::OkStatus();
}

absl::Status Spool::Append(std::string_view document) {
  if (document.size() > kMaxRecordBytes) {
    return absl::InvalidArgumentError(absl::StrCat("document of ", document.size(),
                                                   " bytes exceeds the spool's record limit of ",
                                                   kMaxRecordBytes, " bytes"));
  }
  std::string record(kRecordHeaderBytes, '\0');
  PutU32(record.data(), static_cast<uint32_t>(document.size()));
  PutU32(record.data() + 4, Crc32(document.data(), document.size()));
  record.append(document);

  std::lock_guard<std::mutex> lock(mutex_);
  if (stats_.disk_bytes + record.size() > options_.max_bytes && active().pending == 0 &&
      active().records > 0) {
    // Everything in the current segment is acknowledged: start afresh to free its space.
    if (absl::Status status = StartSegment(next_sequence_); !status.ok()) return status;
    DeleteAcknowledgedSegments();
  }
  const bool new_segment =
      active().records > 0 && active().size + record.size() > options_.segment_bytes;
  const uint64_t needed = record.size() + (new_segment ? kMagicBytes : 0);
  if (stats_.disk_bytes + needed > options_.max_bytes) {
    ++stats_.rejected_full;
    return absl::ResourceExhaustedError(
        absl::StrCat("spool ", options_.directory, " is full (", stats_.disk_bytes, " of ",
                     options_.max_bytes, " bytes, ", pending_.size(),
                     " documents waiting for Elasticsearch); the document was "
                     "not spooled. Check the connection to Elasticsearch or raise the spool size"));
  }
  if (new_segment) {
    if (absl::Status status = StartSegment(next_sequence_); !status.ok()) return status;
    DeleteAcknowledgedSegments();
  }
  Segment& segment = active();
  const std::string path = SegmentPath(segment.first_sequence);
  if (absl::Status status = WriteAll(segment.fd, record.data(), record.size(), path);
      !status.ok()) {
    ++stats_.rejected_write_failed;
    // Cut a partial record so the next append starts on a record boundary.
    if (ftruncate(segment.fd, static_cast<off_t>(segment.size)) != 0) {
      LogError("spool", "event=truncate_failed segment={} error=\"{}\"", path,
               std::strerror(errno));
    }
    return status;
  }
  pending_[next_sequence_] = {segment.first_sequence, segment.size,
                              static_cast<uint32_t>(document.size())};
  ++next_sequence_;
  segment.size += record.size();
  ++segment.records;
  ++segment.pending;
  stats_.disk_bytes += record.size();
  stats_.pending_bytes += document.size();
  ++stats_.appended;
  return MaybeSync(/*batch_end=*/false);
}

absl::StatusOr<std::vector<SpoolRecord>> Spool::Peek(size_t max_records, size_t max_bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<SpoolRecord> records;
  size_t bytes = 0;
  for (const auto& [sequence, location] : pending_) {
    if (records.size() >= max_records) break;
    if (!records.empty() && bytes + location.length > max_bytes) break;
    const Segment& segment = segments_.at(location.segment);
    const std::string path = SegmentPath(location.segment);
    char header[kRecordHeaderBytes];
    if (absl::Status status =
            PreadAll(segment.fd, header, kRecordHeaderBytes, location.offset, path);
        !status.ok()) {
      return status;
    }
    SpoolRecord record;
    record.sequence = sequence;
    record.document.resize(location.length);
    if (absl::Status status = PreadAll(segment.fd, record.document.data(), location.length,
                                       location.offset + kRecordHeaderBytes, path);
        !status.ok()) {
      return status;
    }
    if (GetU32(header) != location.length ||
        Crc32(record.document.data(), record.document.size()) != GetU32(header + 4)) {
      return absl::DataLossError(absl::StrCat("spool segment ", path, " changed at offset ",
                                              location.offset,
                                              " after it was read; it fails its CRC now"));
    }
    bytes += location.length;
    records.push_back(std::move(record));
  }
  return records;
}

absl::Status Spool::Acknowledge(std::span<const uint64_t> sequences) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string entries;
  for (uint64_t sequence : sequences) {
    auto it = pending_.find(sequence);
    if (it == pending_.end()) continue;
    --segments_.at(it->second.segment).pending;
    stats_.pending_bytes -= it->second.length;
    pending_.erase(it);
    ++stats_.acknowledged;
    char entry[kAckEntryBytes];
    PutU64(entry, sequence);
    PutU32(entry + 8, Crc32(entry, 8));
    entries.append(entry, kAckEntryBytes);
  }
  if (entries.empty()) return absl::OkStatus();
  DeleteAcknowledgedSegments();
  if (segments_deleted_) return RewriteAckLog();
  const std::string path = absl::StrCat(options_.directory, "/", kAckLogName);
  if (absl::Status status = WriteAll(ack_fd_, entries.data(), entries.size(), path); !status.ok()) {
    // The records stay acknowledged in memory. After a restart they would be sent again,
    // and Elasticsearch returns 409 for documents it already has.
    return status;
  }
  return MaybeSync(/*batch_end=*/true);
}

absl::Status Spool::Sync() {
  std::lock_guard<std::mutex> lock(mutex_);
  return MaybeSync(/*batch_end=*/true);
}

absl::Status Spool::MaybeSync(bool batch_end) {
  const auto now = std::chrono::steady_clock::now();
  if (!fsync_schedule_.Due(batch_end, now)) return absl::OkStatus();
  fsync_schedule_.Synced(now);
  return SyncFiles();
}

absl::Status Spool::SyncFiles() {
  if (!segments_.empty() && fsync(active().fd) != 0) {
    return Errno("cannot fsync", SegmentPath(active().first_sequence));
  }
  if (ack_fd_ >= 0 && fsync(ack_fd_) != 0) {
    return Errno("cannot fsync", absl::StrCat(options_.directory, "/", kAckLogName));
  }
  return absl::OkStatus();
}

SpoolStats Spool::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  SpoolStats stats = stats_;
  stats.pending_records = pending_.size();
  stats.segments = segments_.size();
  return stats;
}

uint64_t Spool::pending_records() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pending_.size();
}

}  // namespace sensor::ctl
