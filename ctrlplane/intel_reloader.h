// Reloads the intelligence while the workers run: loads and compiles the sources on a
// background thread, then publishes the new snapshot from the control thread (RCU, so
// workers never wait) and retires the old one once its records are drained.
//
// Control thread only, apart from the build thread it owns. One build runs at a time; a
// request during a build is remembered and starts the next one. A failed load or compile
// changes nothing: the running snapshot stays, and the error is kept for the statistics.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ctrlplane/alert_pipeline.h"
#include "ctrlplane/indicator_compiler.h"
#include "ctrlplane/misp/misp_model.h"
#include "ctrlplane/resolved_watch.h"
#include "ctrlplane/snapshot_publisher.h"

namespace sensor::ctl {

struct IntelReloadStats {
  uint64_t requested = 0;
  uint64_t published = 0;
  uint64_t unchanged = 0;  // Builds skipped because the sources had not changed.
  uint64_t failed = 0;
  std::string last_error;            // Empty after a successful reload.
  double last_build_seconds = 0;     // Load plus compile of the last finished build.
  uint64_t snapshot_version = 0;     // Version of the last reloaded snapshot, 0 before one.
  std::chrono::system_clock::time_point last_published{};  // Wall-clock time of that swap.
  CompileStats compile;              // Of the last published snapshot.
};

class IntelReloader {
 public:
  using Loader = std::function<absl::StatusOr<misp::LoadResult>()>;

  // `options.warninglists`, if set, must outlive the reloader and is used only by the
  // build thread while a build runs.
  IntelReloader(Loader loader, CompileOptions options, SnapshotPublisher* publisher,
                AlertPipeline* pipeline, ResolvedWatch* resolved);
  ~IntelReloader();  // Waits for a running build.

  // Records the Fingerprint() of the sources the initial snapshot was compiled from, so
  // that a reload of unchanged sources publishes nothing.
  void set_initial_fingerprint(uint64_t fingerprint) { fingerprint_ = fingerprint; }
  // A hash of everything in `loaded` that compiling reads, to detect change.
  static uint64_t Fingerprint(const misp::LoadResult& loaded);

  // Starts a build now, or after the running one. `reason` goes to the log.
  void Request(std::string reason);
  // Publishes a finished build; call from the control loop. Blocks for one RCU grace
  // period when it publishes.
  void Tick();
  // True while a build runs or a request waits.
  bool busy() const { return build_.valid() || pending_; }

  const IntelReloadStats& stats() const { return stats_; }

 private:
  struct Build {
    absl::Status status;
    bool unchanged = false;
    uint64_t fingerprint = 0;
    CompileResult compiled;
    double seconds = 0;
  };
  void Start();

  Loader loader_;
  CompileOptions options_;
  SnapshotPublisher* publisher_;
  AlertPipeline* pipeline_;
  ResolvedWatch* resolved_;
  std::future<Build> build_;
  // Fingerprint of the sources behind the running snapshot. The control thread writes it
  // only while no build runs, so the build thread reads it without a lock.
  uint64_t fingerprint_ = 0;
  bool pending_ = false;
  std::string pending_reason_;
  IntelReloadStats stats_;
};

}  // namespace sensor::ctl
