// On-disk spool of documents waiting for a remote output (Elasticsearch): every document
// is appended here first and leaves only when the output acknowledges it, so neither an
// unreachable server nor a restart loses an alert.
//
// Layout of the spool directory:
//   <first sequence, 20 digits>.seg  segments: an 8-byte magic, then records of
//                                    [u32 length][u32 CRC-32 of the payload][payload],
//                                    little-endian, appended only.
//   acked.log                        acknowledged sequence numbers: [u64 sequence][u32 CRC-32].
//   lock                             flock(2)ed while a process uses the spool.
// Each record's sequence number is its segment's first sequence plus its index there.
// A segment is deleted once every record in it is acknowledged, unless it is the one
// being appended to. acked.log is then rewritten with the entries still needed.
//
// Open() replays the directory: records not in acked.log are pending again, in
// sequence order, ahead of anything appended later. A record cut short or failing its
// CRC (a crash in the middle of a write) ends its segment: the tail from there on is
// truncated, logged and counted.
//
// Thread-safe: the control thread appends while a sender thread peeks and acknowledges.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctrlplane/sinks/fsync_policy.h"

namespace sensor::ctl {

struct SpoolOptions {
  std::string directory;
  // Bound on the segment files together; appends beyond it are rejected and counted.
  uint64_t max_bytes = uint64_t{1} << 30;
  // A new segment starts when the current one would grow past this size.
  uint64_t segment_bytes = uint64_t{16} << 20;
  FsyncPolicy fsync = FsyncPolicy::kBatch;
  std::chrono::milliseconds fsync_interval{1000};
};

struct SpoolRecord {
  uint64_t sequence = 0;
  std::string document;
};

struct SpoolStats {
  uint64_t appended = 0;       // Records appended by this process.
  uint64_t acknowledged = 0;   // Records acknowledged by this process.
  uint64_t rejected_full = 0;  // Appends rejected because the spool was at max_bytes.
  // Appends whose write failed, such as on a full file system (ENOSPC) or an I/O error.
  uint64_t rejected_write_failed = 0;
  uint64_t recovered = 0;      // Pending records found by Open().
  uint64_t corrupt_tails = 0;  // Segments or ack logs whose damaged tail Open() cut.
  uint64_t corrupt_bytes = 0;  // Bytes cut with those tails.
  uint64_t pending_records = 0;
  uint64_t pending_bytes = 0;  // Payload bytes of the pending records.
  uint64_t disk_bytes = 0;     // Size of the segment files.
  uint64_t segments = 0;
};

class Spool {
 public:
  // Records larger than this are rejected; no alert document comes near it.
  static constexpr uint32_t kMaxRecordBytes = 64u << 20;

  // Creates the directory (mode 0700) if needed, locks it, and recovers its records.
  static absl::StatusOr<std::unique_ptr<Spool>> Open(const SpoolOptions& options);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends one document. ResourceExhausted when the spool is full, Unavailable when the
  // write failed; in both cases nothing was added.
  absl::Status Append(std::string_view document);

  // Returns the first pending records in sequence order, up to `max_records` and
  // `max_bytes` of payload, but at least one if any is pending. They stay pending until
  // acknowledged, so the next call returns them again.
  absl::StatusOr<std::vector<SpoolRecord>> Peek(size_t max_records, size_t max_bytes);

  // Removes records from the pending set and records that in acked.log. Unknown or
  // already acknowledged sequence numbers are ignored.
  absl::Status Acknowledge(std::span<const uint64_t> sequences);

  // Marks a batch boundary: fsyncs the current segment and acked.log when the policy
  // requires it.
  absl::Status Sync();

  SpoolStats stats() const;
  uint64_t pending_records() const;
  const std::string& directory() const { return options_.directory; }

 private:
  struct Segment {
    uint64_t first_sequence = 0;
    int fd = -1;
    uint64_t size = 0;     // File size in bytes, magic included.
    uint64_t records = 0;  // Valid records in the file.
    uint64_t pending = 0;  // Of those, not yet acknowledged.
  };
  struct Location {
    uint64_t segment = 0;  // First sequence of the segment.
    uint64_t offset = 0;   // Of the record header.
    uint32_t length = 0;   // Payload bytes.
  };

  explicit Spool(const SpoolOptions& options);
  absl::Status Recover();
  absl::Status LoadSegment(uint64_t first_sequence, const std::string& path);
  absl::Status LoadAckLog(std::vector<uint64_t>& acknowledged);
  absl::Status StartSegment(uint64_t first_sequence);
  void DeleteSegment(std::map<uint64_t, Segment>::iterator it);
  void DeleteAcknowledgedSegments();
  absl::Status RewriteAckLog();
  absl::Status SyncFiles();
  absl::Status MaybeSync(bool batch_end);
  std::string SegmentPath(uint64_t first_sequence) const;
  Segment& active() { return segments_.rbegin()->second; }

  SpoolOptions options_;
  mutable std::mutex mutex_;
  int lock_fd_ = -1;
  int ack_fd_ = -1;
  std::map<uint64_t, Segment> segments_;  // By first sequence; the last is appended to.
  std::map<uint64_t, Location> pending_;  // By sequence.
  uint64_t next_sequence_ = 0;
  bool segments_deleted_ = false;  // acked.log contains entries of deleted segments.
  FsyncSchedule fsync_schedule_;
  SpoolStats stats_;
};

}  // namespace sensor::ctl
