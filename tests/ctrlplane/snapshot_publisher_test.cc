// Tests for SnapshotPublisher's grace period: Publish() returns once every online worker
// has reported a quiescent state, and runs the wait work meanwhile. DPDK's RCU QSBR
// library works on plain memory, so no EAL is needed.
#include "ctrlplane/snapshot_publisher.h"

#include <gtest/gtest.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace sensor::ctl {
namespace {

std::unique_ptr<dp::Snapshot> SnapshotVersion(uint64_t version) {
  auto snapshot = std::make_unique<dp::Snapshot>();
  snapshot->version = version;
  return snapshot;
}

TEST(SnapshotPublisher, PublishReturnsPrevious) {
  absl::StatusOr<std::unique_ptr<SnapshotPublisher>> publisher =
      SnapshotPublisher::Create(1, SnapshotVersion(1));
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  std::unique_ptr<dp::Snapshot> previous = (*publisher)->Publish(SnapshotVersion(2));
  ASSERT_NE(previous, nullptr);
  EXPECT_EQ(previous->version, 1u);
  EXPECT_EQ((*publisher)->current()->version, 2u);
}

// A replay worker that finds its record ring full waits in the middle of a burst until
// the control thread drains the ring. Here the worker reports quiescence only after the
// wait work has run, so Publish() must run it rather than block.
TEST(SnapshotPublisher, WaitWorkUnblocksWorker) {
  absl::StatusOr<std::unique_ptr<SnapshotPublisher>> publisher =
      SnapshotPublisher::Create(1, SnapshotVersion(1));
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  rte_rcu_qsbr* qsbr = (*publisher)->qsbr();
  ASSERT_EQ(rte_rcu_qsbr_thread_register(qsbr, 0), 0);
  rte_rcu_qsbr_thread_online(qsbr, 0);

  std::atomic<bool> drained{false};
  std::atomic<bool> worker_started{false};
  std::thread worker([&] {
    worker_started.store(true);
    while (!drained.load()) std::this_thread::yield();
    rte_rcu_qsbr_quiescent(qsbr, 0);
  });
  while (!worker_started.load()) std::this_thread::yield();

  int calls = 0;
  (*publisher)->set_wait_work([&] {
    ++calls;
    drained.store(true);
    return size_t{1};
  });
  std::unique_ptr<dp::Snapshot> previous = (*publisher)->Publish(SnapshotVersion(2));
  worker.join();
  EXPECT_GE(calls, 1);
  ASSERT_NE(previous, nullptr);
  EXPECT_EQ(previous->version, 1u);
  rte_rcu_qsbr_thread_offline(qsbr, 0);
  rte_rcu_qsbr_thread_unregister(qsbr, 0);
}

}  // namespace
}  // namespace sensor::ctl
