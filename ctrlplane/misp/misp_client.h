// MISP sources that the sensor syncs: local files and feed directories (read with the
// loader), feed URLs (manifest.json plus <uuid>.json over HTTP) and MISP instances (the
// REST API, /attributes/restSearch with an API key). A MispSync keeps every source's
// state, and Sync() can be called again and again: each call fetches what changed and
// returns the merged data of all sources, in the order they were given.
//
// - Feed URL: GET manifest.json (conditional on its ETag or Last-Modified), then only the
//   events whose manifest timestamp changed, also conditionally. Events no longer listed
//   are dropped.
// - REST: the first sync, and one every full_sync_interval, fetches everything. The others
//   request attributes with a timestamp at or after the last one seen, deleted ones
//   included, and merge them by attribute uuid.
// - A source whose fetch fails keeps the data of its last good sync. At the first sync,
//   a source that fails uses its snapshot from the state directory, if there is one.
// - Each response is checked whole before any of it is used: an error status, HTML,
//   invalid or truncated JSON or an unexpected shape rejects the sync of that source.
//
// Control thread only, apart from status(), which any thread may read. The API key appears
// in no message, log line, status or snapshot.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctrlplane/misp/misp_http.h"
#include "ctrlplane/misp/misp_model.h"
#include "ctrlplane/misp/misp_source_status.h"
#include "ctrlplane/misp/misp_sync_state.h"

namespace sensor::misp {

enum class SourceKind {
  kPath,  // Local file or feed directory.
  kFeed,  // Feed URL: the directory (ending in '/') or its manifest.json.
  kRest,  // Base URL of a MISP instance; needs the API key.
};

struct SourceSpec {
  SourceKind kind = SourceKind::kPath;
  std::string location;  // Path or URL.
};

// Returns "file", "feed" or "rest".
std::string_view SourceKindName(SourceKind kind);

struct MispSyncOptions {
  std::vector<SourceSpec> sources;  // Merged in this order.
  std::string api_key_file;         // Needed when a source is kRest.
  SyncFilters filters;
  HttpOptions http;
  uint32_t page_size = 5000;  // restSearch "limit".
  // REST sources refetch everything at this interval, which also drops what an
  // incremental sync cannot see: hard-deleted events, and attributes that no longer
  // match the tag or published filters.
  std::chrono::seconds full_sync_interval{24 * 3600};
  std::string state_dir;  // Snapshots of URL sources; empty: none are read or written.
  // Unix time in seconds; tests replace it.
  std::function<int64_t()> now = [] {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
};

// Outcome of one source in a Sync().
struct SourceReport {
  std::string location;
  SourceKind kind = SourceKind::kPath;
  absl::Status status;   // The fetch error; OK when the source synced.
  bool changed = false;  // New data since the previous Sync().
  // Set when the data comes from the state directory because the fetch failed.
  std::string snapshot_path;
  int64_t snapshot_age_s = 0;
  bool stale = false;          // The fetch failed and an earlier sync's data is used.
  uint64_t requests = 0;       // HTTP requests sent, retries included.
  uint64_t fetched = 0;        // Feed events or REST attributes received.
  uint64_t events = 0;         // Events in the source's data now.
  uint64_t attributes = 0;     // Attributes in the source's data now.
  long http_status = 0;        // Of the last HTTP response; 0 for files or without one.
  std::string snapshot_error;  // Writing or reading the snapshot failed, if set.
};

struct SyncResult {
  LoadResult merged;
  std::vector<SourceReport> sources;  // In the order of MispSyncOptions::sources.
};

class MispSync {
 public:
  // Checks the URLs and reads the API key file; sends nothing yet. InvalidArgument for an
  // invalid option; other codes for a key file or CA file that cannot be used.
  static absl::StatusOr<std::unique_ptr<MispSync>> Create(MispSyncOptions options);
  ~MispSync();
  MispSync(const MispSync&) = delete;
  MispSync& operator=(const MispSync&) = delete;

  // Syncs every source and returns the merged data. Fails only when a source has no
  // data at all: its first fetch failed and the state directory has no usable snapshot.
  absl::StatusOr<SyncResult> Sync();

  // A flag that, once raised, ends the request in progress within about a second.
  void set_abort_flag(const std::atomic<bool>* abort);

  // The state of each source after the last Sync(), in the order of the options' sources.
  // Sync() updates it source by source, so a reader on another thread may see a sync
  // half recorded, never a torn entry.
  const SourceStatusBoard& status() const { return status_; }

  class Source;

 private:
  explicit MispSync(MispSyncOptions options);

  MispSyncOptions options_;
  std::string api_key_;  // Read from api_key_file; empty without REST sources.
  std::unique_ptr<MispHttpClient> http_;
  std::vector<std::unique_ptr<Source>> sources_;
  SourceStatusBoard status_;
};

// The URL of a feed's manifest for a feed URL: the URL itself when it ends in
// manifest.json, else the URL as a directory ('/' added) plus manifest.json.
std::string FeedManifestUrl(std::string_view feed_url);

// The restSearch request body for one page. `timestamp` 0 requests everything, and
// `to_ids` is left out when nullopt.
std::string RestSearchBody(const SyncFilters& filters, std::optional<bool> to_ids,
                           int64_t timestamp, uint32_t page, uint32_t limit);

}  // namespace sensor::misp
