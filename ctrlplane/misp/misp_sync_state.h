// The parts of MISP sync that need no network: checking and reading restSearch pages and
// feed manifests, the per-source filters, and the set of attributes that incremental REST
// syncs update by uuid.
//
// Control thread only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctrlplane/misp/misp_model.h"

namespace sensor::misp {

// Filters for what a MISP source delivers. The REST API applies them on the server;
// feeds apply tags and max_age_s to the events of the manifest.
struct SyncFilters {
  // MISP tag names. Attributes (REST) or events (feeds) match if they carry at least one
  // of the plain names, or any tag when there are none, and none of the names written
  // "!name".
  std::vector<std::string> tags;
  std::optional<bool> to_ids;     // REST only; nullopt: both.
  std::optional<bool> published;  // REST only; nullopt: both.
  // Attributes (REST) or events (feeds) whose timestamp, the Unix time of their last
  // change, is older than this many seconds are neither fetched nor kept. 0 is no limit.
  int64_t max_age_s = 0;
};

// Parses a MISP relative time as restSearch takes it ("30d", "12h", "90m", "45s") into
// seconds. A bare number is seconds.
absl::StatusOr<int64_t> ParseMaxAge(std::string_view text);

// Applies SyncFilters::tags to a list of tag names.
bool MatchesTagFilter(const std::vector<std::string>& filter, const std::vector<std::string>& tags);

// One page of an /attributes/restSearch response.
struct RestSearchPage {
  LoadResult result;   // Its attributes, each with a stub event from its "Event" field.
  size_t entries = 0;  // Entries in response.Attribute, including any the loader rejected.
};

// Checks and reads one restSearch page. The body must be MISP's JSON shape
// {"response": {"Attribute": [...]}}; HTML, invalid or truncated JSON and any other shape
// return InvalidArgument with the reason, prefixed by `source`. Event tags that MISP
// copies into an attribute's Tag list (marked "inherited", from includeEventTags) are
// removed from the attribute's tags when the attribute's "Event" (from includeContext)
// carries the event's own tags.
absl::StatusOr<RestSearchPage> ParseRestSearchPage(std::string_view body,
                                                   std::string_view content_type,
                                                   std::string_view source);

// One event listed in a feed's manifest.json.
struct ManifestEntry {
  std::string uuid;
  int64_t timestamp = 0;  // Unix time of the event's last change.
  std::vector<std::string> tags;
};

// Checks and reads a feed manifest: an object keyed by event uuid, each value an object
// with the event's timestamp and tags. Keys that cannot be a file name (anything but
// letters, digits and '-') make the whole manifest invalid.
absl::StatusOr<std::vector<ManifestEntry>> ParseFeedManifest(std::string_view body,
                                                             std::string_view content_type,
                                                             std::string_view source);

// Names what a body is when it is not JSON ("an HTML page", "an empty body"), or returns
// an empty string when it may be JSON.
std::string DescribeNonJsonBody(std::string_view body, std::string_view content_type);

// Checks that `body` is one whole JSON document. Returns InvalidArgument, prefixed by
// `source`, for HTML, an empty body, invalid JSON or JSON cut short.
absl::Status CheckJsonDocument(std::string_view body, std::string_view content_type,
                               std::string_view source);

// The `timestamp` filter for the next incremental restSearch: the highest attribute
// timestamp seen so far, which is on the server's clock, but never later than the local
// start of the sync that saw it. The second bound keeps an attribute with a timestamp in
// the future from hiding later changes. Attributes at exactly that second are fetched
// again, which the merge by uuid makes harmless.
int64_t NextSyncTimestamp(int64_t previous, int64_t max_seen_timestamp, int64_t sync_started);

// The attributes a REST source stores, keyed by attribute uuid, with the events they belong
// to keyed by event uuid (or id when the stub has no uuid).
class RestAttributeSet {
 public:
  // Retention rules of Apply: attributes whose to_ids differs from `to_ids` or whose
  // timestamp is before `min_timestamp` are removed like deleted ones.
  struct Retention {
    std::optional<bool> to_ids;
    int64_t min_timestamp = 0;
  };

  // Merges one page: a new or changed attribute replaces the stored one with its uuid, a
  // deleted one (or one that Retention excludes) is removed, and each event stub replaces
  // the stored event with its key. The page's `errors` are left to the caller. Returns
  // true if the stored set changed.
  bool Apply(const LoadResult& page, const Retention& retention);

  // Removes attributes older than `min_timestamp`. Returns true if any was removed.
  bool DropOlderThan(int64_t min_timestamp);

  // The stored attributes and the events they reference, ordered by event key and attribute
  // uuid so that the same set always yields the same document. Each event's source is
  // `source`; `errors` stays empty.
  LoadResult Build(std::string_view source) const;

  size_t size() const { return attributes_.size(); }
  int64_t max_timestamp() const { return max_timestamp_; }
  bool contains(const std::string& uuid) const { return attributes_.contains(uuid); }

 private:
  struct StoredAttribute {
    Attribute attribute;
    std::string event_key;
  };

  std::map<std::string, StoredAttribute> attributes_;  // By attribute uuid.
  std::map<std::string, Event> events_;                // By event key.
  int64_t max_timestamp_ = 0;  // Highest attribute timestamp seen, deleted ones included.
};

// Returns the key RestAttributeSet uses for an event: "uuid:<uuid>", else "id:<id>".
std::string EventKey(const Event& event);

// Appends `from` to `into`, re-basing attribute event indexes, in the way LoadMispPaths
// merges several sources.
void AppendLoadResult(LoadResult& into, LoadResult from);

}  // namespace sensor::misp
