#include "ctrlplane/misp/misp_client.h"

#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/log.h"
#include "ctrlplane/misp/misp_loader.h"
#include "ctrlplane/misp/misp_snapshot.h"
#include "fmt/format.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace sensor::misp {
namespace {

constexpr std::string_view kManifestName = "manifest.json";

// Cuts server text for a one-line message and replaces control characters.
std::string Excerpt(std::string_view text, size_t max_bytes = 160) {
  std::string line(text.substr(0, max_bytes));
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (text.size() > max_bytes) line += "...";
  return line;
}

// Describes an error status. MISP returns errors as a JSON object whose "message" (or
// "name") describes the failure, which is more use than the status alone.
std::string DescribeErrorStatus(const HttpResponse& response, std::string_view secret) {
  std::string detail;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view message;
  if (!DescribeNonJsonBody(response.body, response.content_type).empty()) {
    detail = DescribeNonJsonBody(response.body, response.content_type);
  } else if (parser.parse(response.body).get(root) == simdjson::SUCCESS &&
             (root["message"].get_string().get(message) == simdjson::SUCCESS ||
              root["name"].get_string().get(message) == simdjson::SUCCESS)) {
    detail = Excerpt(message);
  } else {
    detail = Excerpt(response.body);
  }
  std::string text = fmt::format("HTTP {}", response.status);
  if (!detail.empty()) absl::StrAppend(&text, ": ", detail);
  if (response.attempts > 1) absl::StrAppend(&text, " (", response.attempts, " attempts)");
  if (response.status == 301 || response.status == 302 || response.status == 307 ||
      response.status == 308) {
    absl::StrAppend(&text, "; redirects are not followed, give the final URL");
  }
  return Redact(text, secret);
}

std::string DirectoryUrl(std::string_view feed_url) {
  std::string url(feed_url);
  if (url.ends_with(kManifestName)) {
    url.resize(url.size() - kManifestName.size());
  }
  if (url.empty() || url.back() != '/') url.push_back('/');
  return url;
}

}  // namespace

std::string_view SourceKindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kPath:
      return "file";
    case SourceKind::kFeed:
      return "feed";
    case SourceKind::kRest:
      return "rest";
  }
  return "file";
}

std::string FeedManifestUrl(std::string_view feed_url) {
  return DirectoryUrl(feed_url) + std::string(kManifestName);
}

std::string RestSearchBody(const SyncFilters& filters, std::optional<bool> to_ids,
                           int64_t timestamp, uint32_t page, uint32_t limit) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("returnFormat");
  writer.String("json");
  writer.Key("page");
  writer.Uint(page);
  writer.Key("limit");
  writer.Uint(limit);
  writer.Key("timestamp");
  writer.Int64(timestamp);
  // Deleted attributes come back too, so that an incremental sync can remove them.
  writer.Key("deleted");
  writer.StartArray();
  writer.Int(0);
  writer.Int(1);
  writer.EndArray();
  writer.Key("includeEventTags");
  writer.Bool(true);
  // Adds the whole event (Orgc, date, threat level, tags) to each attribute, which alerts
  // carry as their MISP context.
  writer.Key("includeContext");
  writer.Bool(true);
  if (to_ids.has_value()) {
    writer.Key("to_ids");
    writer.Int(*to_ids ? 1 : 0);
  }
  if (filters.published.has_value()) {
    writer.Key("published");
    writer.Int(*filters.published ? 1 : 0);
  }
  if (!filters.tags.empty()) {
    writer.Key("tags");
    writer.StartArray();
    for (const std::string& tag : filters.tags) {
      writer.String(tag.data(), static_cast<rapidjson::SizeType>(tag.size()));
    }
    writer.EndArray();
  }
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// One source's state between syncs.
class MispSync::Source {
 public:
  Source(SourceSpec spec, const MispSyncOptions& options, MispHttpClient* http)
      : spec_(std::move(spec)), options_(options), http_(http) {}
  virtual ~Source() = default;

  // Fetches what changed. On success the new data replaces the old; on failure nothing
  // changes. Fills the counters of `report`.
  virtual absl::Status Fetch(SourceReport& report) = 0;
  // The data of the last good sync, or of the adopted snapshot.
  virtual LoadResult Data() const = 0;
  virtual bool has_data() const = 0;
  // Uses a snapshot's data until a sync succeeds; the next sync then fetches everything.
  virtual void AdoptSnapshot(LoadResult data) = 0;
  // The Event::source a live sync gives `event`.
  virtual std::string EventSource(const Event& event) const = 0;

  const SourceSpec& spec() const { return spec_; }
  bool snapshot_current = false;  // The state directory contains this source's current data.

 protected:
  SourceSpec spec_;
  const MispSyncOptions& options_;
  MispHttpClient* http_;
};

namespace {

class PathSource final : public MispSync::Source {
 public:
  using Source::Source;

  absl::Status Fetch(SourceReport& report) override {
    absl::StatusOr<LoadResult> loaded = LoadMispPath(spec_.location);
    if (!loaded.ok()) return loaded.status();
    data_ = std::move(*loaded);
    has_data_ = true;
    report.changed = true;
    report.fetched = data_.events.size();
    return absl::OkStatus();
  }
  LoadResult Data() const override { return data_; }
  bool has_data() const override { return has_data_; }
  void AdoptSnapshot(LoadResult) override {}
  std::string EventSource(const Event& event) const override { return event.source; }

 private:
  LoadResult data_;
  bool has_data_ = false;
};

class FeedSource final : public MispSync::Source {
 public:
  FeedSource(SourceSpec spec, const MispSyncOptions& options, MispHttpClient* http)
      : Source(std::move(spec), options, http),
        directory_url_(DirectoryUrl(spec_.location)),
        manifest_url_(FeedManifestUrl(spec_.location)) {}

  absl::Status Fetch(SourceReport& report) override;
  LoadResult Data() const override {
    LoadResult result;
    for (const Entry& entry : entries_) AppendLoadResult(result, entry.data);
    result.errors.insert(result.errors.end(), missing_events_.begin(), missing_events_.end());
    return result;
  }
  bool has_data() const override { return has_data_; }
  void AdoptSnapshot(LoadResult data) override;
  std::string EventSource(const Event& event) const override { return EventUrl(event.uuid); }

 private:
  struct Entry {
    std::string uuid;
    // Manifest timestamp of the stored data; -1 when unknown (from a snapshot).
    int64_t timestamp = -1;
    std::string etag;
    std::string last_modified;
    std::vector<std::string> tags;
    LoadResult data;
  };

  std::string EventUrl(std::string_view uuid) const {
    return absl::StrCat(directory_url_, ToAbsl(uuid), ".json");
  }
  bool PassesFilters(const ManifestEntry& entry, int64_t now) const {
    const SyncFilters& filters = options_.filters;
    if (filters.max_age_s > 0 && entry.timestamp < now - filters.max_age_s) return false;
    return MatchesTagFilter(filters.tags, entry.tags);
  }
  absl::StatusOr<Entry> FetchEvent(const ManifestEntry& listed, const Entry* previous,
                                   SourceReport& report);

  std::string directory_url_;
  std::string manifest_url_;
  std::string manifest_etag_;
  std::string manifest_last_modified_;
  std::vector<Entry> entries_;
  // One line per event that the manifest lists but the server does not have (404).
  std::vector<std::string> missing_events_;
  bool has_data_ = false;
};

absl::Status FeedSource::Fetch(SourceReport& report) {
  const int64_t now = options_.now();
  HttpRequest request;
  request.url = manifest_url_;
  if (has_data_) {
    request.if_none_match = manifest_etag_;
    request.if_modified_since = manifest_last_modified_;
  }
  absl::StatusOr<HttpResponse> response = http_->Send(request);
  if (!response.ok()) {
    report.http_status = 0;
    return response.status();
  }
  report.requests += response->attempts;
  report.http_status = response->status;

  if (response->status == 304 && has_data_) {
    // Nothing listed changed, but events may have aged past max_age_s since.
    const size_t before = entries_.size();
    std::erase_if(entries_, [&](const Entry& entry) {
      return options_.filters.max_age_s > 0 && entry.timestamp >= 0 &&
             entry.timestamp < now - options_.filters.max_age_s;
    });
    report.changed = entries_.size() != before;
    return absl::OkStatus();
  }
  if (response->status != 200) {
    return absl::UnavailableError(
        fmt::format("GET {}: {}", manifest_url_, DescribeErrorStatus(*response, "")));
  }
  absl::StatusOr<std::vector<ManifestEntry>> manifest =
      ParseFeedManifest(response->body, response->content_type, manifest_url_);
  if (!manifest.ok()) return manifest.status();

  absl::flat_hash_map<std::string, const Entry*> stored_by_uuid;
  for (const Entry& entry : entries_) stored_by_uuid[entry.uuid] = &entry;
  std::vector<Entry> next;
  std::vector<std::string> missing;
  bool changed = false;
  absl::flat_hash_set<std::string> listed;
  for (const ManifestEntry& item : *manifest) {
    if (!listed.insert(item.uuid).second || !PassesFilters(item, now)) continue;
    auto stored = stored_by_uuid.find(item.uuid);
    const Entry* previous = stored == stored_by_uuid.end() ? nullptr : stored->second;
    if (previous != nullptr && previous->timestamp == item.timestamp) {
      next.push_back(*previous);
      continue;
    }
    absl::StatusOr<Entry> fetched = FetchEvent(item, previous, report);
    if (absl::IsNotFound(fetched.status())) {
      // The local loader skips an event file that is missing from a feed directory, and a
      // feed URL does the same, so one stale manifest entry does not block the feed.
      missing.emplace_back(fetched.status().message());
      continue;
    }
    if (!fetched.ok()) return fetched.status();
    next.push_back(std::move(*fetched));
    changed = true;
  }
  changed = changed || next.size() != entries_.size() || !has_data_ || missing != missing_events_;
  entries_ = std::move(next);
  missing_events_ = std::move(missing);
  manifest_etag_ = response->etag;
  manifest_last_modified_ = response->last_modified;
  has_data_ = true;
  report.changed = changed;
  return absl::OkStatus();
}

absl::StatusOr<FeedSource::Entry> FeedSource::FetchEvent(const ManifestEntry& listed,
                                                         const Entry* previous,
                                                         SourceReport& report) {
  HttpRequest request;
  request.url = EventUrl(listed.uuid);
  if (previous != nullptr && previous->timestamp >= 0) {
    request.if_none_match = previous->etag;
    request.if_modified_since = previous->last_modified;
  }
  absl::StatusOr<HttpResponse> response = http_->Send(request);
  if (!response.ok()) {
    report.http_status = 0;
    return response.status();
  }
  report.requests += response->attempts;
  report.http_status = response->status;
  if (response->status == 304 && previous != nullptr) {
    Entry entry = *previous;
    entry.timestamp = listed.timestamp;
    entry.tags = listed.tags;
    return entry;
  }
  if (response->status == 404) {
    return absl::NotFoundError(fmt::format("GET {}: {}, although {} lists the event", request.url,
                                           DescribeErrorStatus(*response, ""), manifest_url_));
  }
  if (response->status != 200) {
    return absl::UnavailableError(
        fmt::format("GET {}: {}", request.url, DescribeErrorStatus(*response, "")));
  }
  if (absl::Status status = CheckJsonDocument(response->body, response->content_type, request.url);
      !status.ok()) {
    return status;
  }
  Entry entry;
  entry.uuid = listed.uuid;
  entry.timestamp = listed.timestamp;
  entry.tags = listed.tags;
  entry.etag = response->etag;
  entry.last_modified = response->last_modified;
  if (absl::Status status = ParseMispDocument(response->body, request.url, entry.data);
      !status.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: rejected the response: {}", request.url, ToStd(status.message())));
  }
  if (entry.data.events.size() != 1 || entry.data.events.front().uuid != listed.uuid) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: rejected the response: expected the event {} that the manifest lists, found {} "
        "event(s){}",
        request.url, listed.uuid, entry.data.events.size(),
        entry.data.events.empty() ? "" : " with uuid " + entry.data.events.front().uuid));
  }
  ++report.fetched;
  return entry;
}

void FeedSource::AdoptSnapshot(LoadResult data) {
  entries_.clear();
  std::vector<Entry> by_event(data.events.size());
  for (size_t i = 0; i < data.events.size(); ++i) {
    by_event[i].uuid = data.events[i].uuid;
    by_event[i].data.events.push_back(std::move(data.events[i]));
    by_event[i].data.files_read = 1;
  }
  for (Attribute& attribute : data.attributes) {
    Entry& entry = by_event[attribute.event_index];
    attribute.event_index = 0;
    entry.data.attributes.push_back(std::move(attribute));
  }
  entries_ = std::move(by_event);
  missing_events_.clear();
  manifest_etag_.clear();
  manifest_last_modified_.clear();
  has_data_ = true;
}

class RestSource final : public MispSync::Source {
 public:
  RestSource(SourceSpec spec, const MispSyncOptions& options, MispHttpClient* http,
             const std::string* api_key)
      : Source(std::move(spec), options, http), api_key_(api_key) {
    search_url_ = spec_.location;
    while (!search_url_.empty() && search_url_.back() == '/') search_url_.pop_back();
    search_url_ += "/attributes/restSearch";
  }

  absl::Status Fetch(SourceReport& report) override;
  LoadResult Data() const override {
    if (snapshot_data_.has_value()) return *snapshot_data_;
    LoadResult result = set_.Build(spec_.location);
    result.errors = errors_;
    result.rejected_attributes = rejected_;
    result.files_read = pages_;
    return result;
  }
  bool has_data() const override { return has_data_; }
  void AdoptSnapshot(LoadResult data) override {
    snapshot_data_ = std::move(data);
    has_data_ = true;
    last_full_sync_ = 0;
  }
  std::string EventSource(const Event&) const override { return spec_.location; }

 private:
  absl::StatusOr<RestSearchPage> FetchPage(int64_t timestamp, std::optional<bool> to_ids,
                                           uint32_t page, SourceReport& report);

  const std::string* api_key_;
  std::string search_url_;
  RestAttributeSet set_;
  std::optional<LoadResult> snapshot_data_;
  std::vector<std::string> errors_;  // Problems the loader found in the last sync.
  uint64_t rejected_ = 0;
  uint64_t pages_ = 0;
  int64_t next_timestamp_ = 0;
  int64_t last_full_sync_ = 0;  // 0: none yet.
  bool has_data_ = false;
};

absl::StatusOr<RestSearchPage> RestSource::FetchPage(int64_t timestamp, std::optional<bool> to_ids,
                                                     uint32_t page, SourceReport& report) {
  HttpRequest request;
  request.method = "POST";
  request.url = search_url_;
  request.body = RestSearchBody(options_.filters, to_ids, timestamp, page, options_.page_size);
  request.secret_headers.push_back(absl::StrCat("Authorization: ", *api_key_));
  absl::StatusOr<HttpResponse> response = http_->Send(request);
  if (!response.ok()) {
    report.http_status = 0;
    return absl::Status(response.status().code(),
                        Redact(ToStd(response.status().message()), *api_key_));
  }
  report.requests += response->attempts;
  report.http_status = response->status;
  const std::string where = fmt::format("POST {} (page {})", search_url_, page);
  if (response->status == 401 || response->status == 403) {
    return absl::PermissionDeniedError(
        fmt::format("{}: {}; check the key in {} and that its user may use the API", where,
                    DescribeErrorStatus(*response, *api_key_), options_.api_key_file));
  }
  if (response->status != 200) {
    return absl::UnavailableError(
        fmt::format("{}: {}", where, DescribeErrorStatus(*response, *api_key_)));
  }
  absl::StatusOr<RestSearchPage> parsed =
      ParseRestSearchPage(response->body, response->content_type, where);
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(),
                        Redact(ToStd(parsed.status().message()), *api_key_));
  }
  if (parsed->entries > options_.page_size) {
    return absl::InvalidArgumentError(
        fmt::format("{}: rejected the response: {} attributes for a limit of {}, so the "
                    "server does not page",
                    where, parsed->entries, options_.page_size));
  }
  return parsed;
}

absl::Status RestSource::Fetch(SourceReport& report) {
  const int64_t now = options_.now();
  const bool full =
      last_full_sync_ == 0 || now - last_full_sync_ >= options_.full_sync_interval.count();
  const int64_t min_timestamp =
      options_.filters.max_age_s > 0 ? now - options_.filters.max_age_s : 0;
  const int64_t timestamp = full ? min_timestamp : std::max(next_timestamp_, min_timestamp);
  // An incremental sync leaves to_ids out of the request, so that an attribute whose
  // to_ids was cleared comes back and Retention removes it.
  const std::optional<bool> request_to_ids = full ? options_.filters.to_ids : std::nullopt;

  std::vector<RestSearchPage> pages;
  absl::flat_hash_set<std::string> seen;
  for (uint32_t page = 1;; ++page) {
    absl::StatusOr<RestSearchPage> result = FetchPage(timestamp, request_to_ids, page, report);
    if (!result.ok()) return result.status();
    size_t added = 0;
    for (const Attribute& attribute : result->result.attributes) {
      added += seen.insert(attribute.uuid).second ? 1 : 0;
    }
    const bool last = result->entries < options_.page_size;
    if (!last && added == 0) {
      return absl::InvalidArgumentError(
          fmt::format("POST {} (page {}): rejected the response: the page repeats attributes "
                      "of earlier pages, so the server does not page",
                      search_url_, page));
    }
    report.fetched += result->entries;
    pages.push_back(std::move(*result));
    if (last) break;
  }

  const RestAttributeSet::Retention retention{options_.filters.to_ids, min_timestamp};
  RestAttributeSet fresh;
  RestAttributeSet& target = full ? fresh : set_;
  std::vector<std::string> errors;
  uint64_t rejected = 0;
  bool changed = false;
  for (const RestSearchPage& page : pages) {
    changed = target.Apply(page.result, retention) || changed;
    errors.insert(errors.end(), page.result.errors.begin(), page.result.errors.end());
    rejected += page.result.rejected_attributes;
  }
  if (full) {
    set_ = std::move(fresh);
    last_full_sync_ = now;
    next_timestamp_ = NextSyncTimestamp(0, set_.max_timestamp(), now);
  } else {
    changed = set_.DropOlderThan(min_timestamp) || changed;
    next_timestamp_ = NextSyncTimestamp(next_timestamp_, set_.max_timestamp(), now);
  }
  // A full sync replaces the set, so it counts as a change. An incremental sync always
  // refetches the attributes of the last second seen, and those change nothing.
  report.changed = full || changed || snapshot_data_.has_value();
  errors_ = std::move(errors);
  rejected_ = rejected;
  pages_ = pages.size();
  snapshot_data_.reset();
  has_data_ = true;
  return absl::OkStatus();
}

}  // namespace

MispSync::MispSync(MispSyncOptions options) : options_(std::move(options)) {}

MispSync::~MispSync() = default;

void MispSync::set_abort_flag(const std::atomic<bool>* abort) {
  if (http_ != nullptr) http_->set_abort_flag(abort);
}

absl::StatusOr<std::unique_ptr<MispSync>> MispSync::Create(MispSyncOptions options) {
  std::unique_ptr<MispSync> sync(new MispSync(std::move(options)));
  const MispSyncOptions& opts = sync->options_;
  if (opts.sources.empty()) {
    return absl::InvalidArgumentError("no MISP source: give --misp or --misp-rest");
  }
  if (opts.page_size == 0) {
    return absl::InvalidArgumentError("the MISP page size must be at least 1");
  }
  bool needs_http = false;
  bool needs_key = false;
  for (const SourceSpec& spec : opts.sources) {
    if (spec.kind == SourceKind::kPath) continue;
    needs_http = true;
    needs_key = needs_key || spec.kind == SourceKind::kRest;
    const std::string_view option = spec.kind == SourceKind::kFeed ? "--misp" : "--misp-rest";
    if (absl::Status status = ValidateMispUrl(spec.location, option); !status.ok()) {
      return status;
    }
  }
  if (needs_key) {
    if (opts.api_key_file.empty()) {
      return absl::InvalidArgumentError(
          "--misp-rest needs --misp-key-file: a file with the MISP API key (chmod 600)");
    }
    absl::StatusOr<std::string> key = ReadApiKeyFile(opts.api_key_file);
    if (!key.ok()) return key.status();
    sync->api_key_ = std::move(*key);
  }
  if (needs_http) {
    absl::StatusOr<std::unique_ptr<MispHttpClient>> http = MispHttpClient::Create(opts.http);
    if (!http.ok()) return http.status();
    sync->http_ = std::move(*http);
  }
  for (const SourceSpec& spec : opts.sources) {
    switch (spec.kind) {
      case SourceKind::kPath:
        sync->sources_.push_back(std::make_unique<PathSource>(spec, opts, sync->http_.get()));
        break;
      case SourceKind::kFeed:
        sync->sources_.push_back(std::make_unique<FeedSource>(spec, opts, sync->http_.get()));
        break;
      case SourceKind::kRest:
        sync->sources_.push_back(
            std::make_unique<RestSource>(spec, opts, sync->http_.get(), &sync->api_key_));
        break;
    }
  }
  std::vector<SourceStatus> status;
  for (const SourceSpec& spec : opts.sources) {
    status.push_back({.name = WithoutCredentials(spec.location),
                      .kind = std::string(SourceKindName(spec.kind))});
  }
  sync->status_.Reset(std::move(status));
  return sync;
}

absl::StatusOr<SyncResult> MispSync::Sync() {
  SyncResult result;
  for (const std::unique_ptr<Source>& source : sources_) {
    const SourceSpec& spec = source->spec();
    SourceReport report;
    report.location = spec.location;
    report.kind = spec.kind;
    absl::Status status = source->Fetch(report);
    const bool remote = spec.kind != SourceKind::kPath;
    const std::string snapshot_path =
        remote && !options_.state_dir.empty()
            ? SnapshotPath(options_.state_dir, SourceKindName(spec.kind), spec.location)
            : "";
    LoadResult data;
    if (status.ok()) {
      data = source->Data();
      if (!snapshot_path.empty() && (report.changed || !source->snapshot_current)) {
        const std::string contents =
            FormatSnapshot(data, SourceKindName(spec.kind), spec.location, options_.now());
        absl::Status written = WriteFileAtomically(options_.state_dir, snapshot_path, contents);
        source->snapshot_current = written.ok();
        if (!written.ok()) report.snapshot_error = std::string(written.message());
      }
    } else {
      const std::string where =
          spec.kind == SourceKind::kPath
              ? std::string(status.message())
              : fmt::format("MISP {} source {}: {}", SourceKindName(spec.kind), spec.location,
                            ToStd(status.message()));
      report.status = absl::Status(status.code(), Redact(where, api_key_));
      if (source->has_data()) {
        report.stale = true;
      } else if (snapshot_path.empty()) {
        return report.status;
      } else {
        absl::StatusOr<LoadedSnapshot> snapshot =
            ReadSnapshot(snapshot_path, SourceKindName(spec.kind), spec.location,
                         [&](const Event& event) { return source->EventSource(event); });
        if (!snapshot.ok()) {
          return absl::Status(report.status.code(), absl::StrCat(report.status.message(),
                                                                 "; no snapshot to start "
                                                                 "from: ",
                                                                 snapshot.status().message()));
        }
        report.snapshot_path = snapshot_path;
        report.snapshot_age_s = options_.now() - snapshot->written_unix;
        source->AdoptSnapshot(std::move(snapshot->data));
        source->snapshot_current = true;
        report.changed = true;
      }
      data = source->Data();
    }
    report.events = data.events.size();
    report.attributes = data.attributes.size();
    status_.Record(result.sources.size(),
                   {.ok = report.status.ok(),
                    .error = ToStd(report.status.message()),
                    .attributes = report.attributes,
                    .http_status = report.http_status},
                   std::chrono::system_clock::time_point(std::chrono::seconds(options_.now())));
    AppendLoadResult(result.merged, std::move(data));
    result.sources.push_back(std::move(report));
  }
  return result;
}

}  // namespace sensor::misp
