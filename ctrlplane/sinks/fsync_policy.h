// When a file-backed output calls fsync(2): the trade between durability across a power
// loss or kernel crash and the cost of waiting for the disk. Under every policy, data that
// write(2) accepted survives a crash of the process itself, because the kernel's page
// cache holds it.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace sensor::ctl {

enum class FsyncPolicy {
  kNone,      // Leave flushing to the kernel.
  kBatch,     // After each batch: a flush of the NDJSON file, a bulk request of the spool.
  kInterval,  // At most once per interval, on the next write or batch after it elapses.
};

inline std::optional<FsyncPolicy> FsyncPolicyFromName(std::string_view name) {
  if (name == "none") return FsyncPolicy::kNone;
  if (name == "batch") return FsyncPolicy::kBatch;
  if (name == "interval") return FsyncPolicy::kInterval;
  return std::nullopt;
}

// Decides whether a write or batch boundary should fsync under a policy.
class FsyncSchedule {
 public:
  FsyncSchedule(FsyncPolicy policy, std::chrono::milliseconds interval)
      : policy_(policy), interval_(interval) {}

  // True if the data written so far should be synced now. `batch_end` is true at the end
  // of a batch, false after a single write.
  bool Due(bool batch_end, std::chrono::steady_clock::time_point now) const {
    switch (policy_) {
      case FsyncPolicy::kNone:
        return false;
      case FsyncPolicy::kBatch:
        return batch_end;
      case FsyncPolicy::kInterval:
        return now - last_sync_ >= interval_;
    }
    return false;
  }
  void Synced(std::chrono::steady_clock::time_point now) { last_sync_ = now; }
  FsyncPolicy policy() const { return policy_; }

 private:
  FsyncPolicy policy_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_sync_ = std::chrono::steady_clock::now();
};

}  // namespace sensor::ctl
