#include "ctrlplane/intel_reloader.h"

#include <utility>

#include "absl/hash/hash.h"
#include "ctrlplane/log.h"

namespace sensor::ctl {

IntelReloader::IntelReloader(Loader loader, CompileOptions options,
                             SnapshotPublisher* publisher, AlertPipeline* pipeline,
                             ResolvedWatch* resolved)
    : loader_(std::move(loader)),
      options_(options),
      publisher_(publisher),
      pipeline_(pipeline),
      resolved_(resolved) {}

IntelReloader::~IntelReloader() {
  if (build_.valid()) build_.wait();
}

uint64_t IntelReloader::Fingerprint(const misp::LoadResult& loaded) {
  // Detects change, nothing more: a collision only delays a reload to the next change.
  uint64_t hash = absl::HashOf(loaded.events.size(), loaded.attributes.size());
  for (const misp::Event& event : loaded.events) {
    hash = absl::HashOf(hash, event.uuid, event.timestamp, event.published, event.tags,
                        event.info, event.source);
  }
  for (const misp::Attribute& attribute : loaded.attributes) {
    hash = absl::HashOf(hash, attribute.uuid, attribute.type, attribute.value,
                        attribute.timestamp, attribute.to_ids, attribute.deleted, attribute.tags,
                        attribute.event_index);
  }
  return hash;
}

void IntelReloader::Request(std::string reason) {
  ++stats_.requested;
  if (build_.valid()) {
    pending_ = true;
    pending_reason_ = std::move(reason);
    return;
  }
  LogInfo("reload", "reloading intelligence reason={}", reason);
  Start();
}

void IntelReloader::Start() {
  // The version is fixed when the build is published, because the resolved-address
  // watch may publish versions in the meantime.
  build_ = std::async(std::launch::async, [this] {
    Build build;
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<misp::LoadResult> loaded = loader_();
    if (!loaded.ok()) {
      build.status = loaded.status();
    } else if (build.fingerprint = Fingerprint(*loaded); build.fingerprint == fingerprint_) {
      build.unchanged = true;
    } else {
      build.compiled = CompileIndicators(std::move(*loaded), options_, 0);
      if (build.compiled.stats.loaded() == 0 && !build.compiled.stats.errors.empty()) {
        build.status = absl::InvalidArgumentError(
            "no indicator could be loaded: " + build.compiled.stats.errors.front());
      }
    }
    build.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                        .count();
    return build;
  });
}

void IntelReloader::Tick() {
  if (!build_.valid()) return;
  if (build_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
  Build build = build_.get();
  stats_.last_build_seconds = build.seconds;
  if (build.status.ok() && build.unchanged) {
    ++stats_.unchanged;
    stats_.last_error.clear();
    Log(LogLevel::kDebug, "reload", "sources unchanged, snapshot kept");
  } else if (!build.status.ok()) {
    ++stats_.failed;
    stats_.last_error = std::string(build.status.message());
    LogError("reload", "reload failed, the running intelligence stays: {}", stats_.last_error);
  } else {
    std::unique_ptr<dp::Snapshot> next = std::move(build.compiled.snapshot);
    const dp::Snapshot* current = publisher_->current();
    next->version = current->version + 1;
    if (resolved_ != nullptr) {
      next->resolved = resolved_->Rebase(*current->indicators, *next->indicators);
    }
    pipeline_->AddSnapshot(next->version, next->indicators);
    const uint64_t version = next->version;
    std::unique_ptr<dp::Snapshot> previous = publisher_->Publish(std::move(next));
    if (previous != nullptr) pipeline_->RetireSnapshot(previous->version);
    ++stats_.published;
    fingerprint_ = build.fingerprint;
    stats_.last_error.clear();
    stats_.snapshot_version = version;
    stats_.last_published = std::chrono::system_clock::now();
    stats_.compile = std::move(build.compiled.stats);
    LogInfo("reload", "published snapshot version={} indicators={} build_seconds={:.3f}",
            version, stats_.compile.loaded(), build.seconds);
  }
  if (pending_) {
    pending_ = false;
    LogInfo("reload", "reloading intelligence reason={}", pending_reason_);
    Start();
  }
}

}  // namespace sensor::ctl
