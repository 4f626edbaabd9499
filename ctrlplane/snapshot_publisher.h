// Publishes indicator snapshots to the workers without stopping them (RCU).
//
// The control thread calls Publish(); workers read Current() once per burst and report a
// quiescent state after each burst through the QSBR variable this class owns. Publish
// swaps the pointer, waits until every registered worker has passed a quiescent state,
// and only then returns the previous snapshot, which no worker can still be reading.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "dataplane/snapshot.h"

struct rte_rcu_qsbr;

namespace sensor::ctl {

class SnapshotPublisher {
 public:
  // `max_workers` bounds the worker thread ids (0 .. max_workers-1).
  static absl::StatusOr<std::unique_ptr<SnapshotPublisher>> Create(
      uint32_t max_workers, std::unique_ptr<dp::Snapshot> initial);
  ~SnapshotPublisher();

  rte_rcu_qsbr* qsbr() const { return qsbr_; }
  const std::atomic<const dp::Snapshot*>* current_pointer() const { return &current_; }
  const dp::Snapshot* current() const { return current_.load(std::memory_order_acquire); }

  // Makes `next` current and returns the previous snapshot once no worker reads it.
  // Blocks the calling (control) thread for the grace period; workers never wait.
  std::unique_ptr<dp::Snapshot> Publish(std::unique_ptr<dp::Snapshot> next);

  // Work that Publish() runs while it waits for the grace period, returning how much it
  // did. A replay worker that finds its record ring full waits for room in the middle of
  // a burst, before its quiescent report, so the waiting thread must keep draining.
  void set_wait_work(std::function<size_t()> work) { wait_work_ = std::move(work); }

 private:
  SnapshotPublisher() = default;

  rte_rcu_qsbr* qsbr_ = nullptr;
  std::atomic<const dp::Snapshot*> current_{nullptr};
  std::unique_ptr<dp::Snapshot> owned_;
  std::function<size_t()> wait_work_;
};

}  // namespace sensor::ctl
