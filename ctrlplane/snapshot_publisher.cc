#include "ctrlplane/snapshot_publisher.h"

#include <rte_rcu_qsbr.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"

namespace sensor::ctl {

absl::StatusOr<std::unique_ptr<SnapshotPublisher>> SnapshotPublisher::Create(
    uint32_t max_workers, std::unique_ptr<dp::Snapshot> initial) {
  const size_t size = rte_rcu_qsbr_get_memsize(max_workers);
  if (size == 1 || initial == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create an RCU variable for ", max_workers, " workers"));
  }
  // QSBR memory is plain memory: no EAL heap is needed, which keeps this testable.
  const size_t rounded =
      (size + RTE_CACHE_LINE_SIZE - 1) / RTE_CACHE_LINE_SIZE * RTE_CACHE_LINE_SIZE;
  auto* qsbr = static_cast<rte_rcu_qsbr*>(std::aligned_alloc(RTE_CACHE_LINE_SIZE, rounded));
  if (qsbr == nullptr || rte_rcu_qsbr_init(qsbr, max_workers) != 0) {
    std::free(qsbr);
    return absl::ResourceExhaustedError("cannot initialise the RCU variable");
  }
  std::unique_ptr<SnapshotPublisher> publisher(new SnapshotPublisher());
  publisher->qsbr_ = qsbr;
  publisher->owned_ = std::move(initial);
  publisher->current_.store(publisher->owned_.get(), std::memory_order_release);
  return publisher;
}

SnapshotPublisher::~SnapshotPublisher() { std::free(qsbr_); }

std::unique_ptr<dp::Snapshot> SnapshotPublisher::Publish(std::unique_ptr<dp::Snapshot> next) {
  // Release: a worker that loads the new pointer sees the fully built snapshot.
  current_.store(next.get(), std::memory_order_release);
  std::unique_ptr<dp::Snapshot> previous = std::move(owned_);
  owned_ = std::move(next);
  // Every worker that might hold the old pointer reports quiescence at its next burst
  // boundary; offline workers (stopped or blocked) are not waited for.
  const uint64_t token = rte_rcu_qsbr_start(qsbr_);
  while (rte_rcu_qsbr_check(qsbr_, token, /*wait=*/false) == 0) {
    const size_t done = wait_work_ ? wait_work_() : 0;
    // Workers may share cores with this thread in replay, so an idle wait gives way.
    if (done == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return previous;
}

}  // namespace sensor::ctl
