#include "sensor/misp_sources.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/log.h"
#include "ctrlplane/misp/misp_snapshot.h"
#include "fmt/format.h"
#include "sensor/cli_checks.h"

namespace sensor {
namespace {

bool IsUrl(const std::string& value) {
  return value.rfind("http://", 0) == 0 || value.rfind("https://", 0) == 0;
}

std::chrono::milliseconds Milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

std::string FormatUtc(int64_t unix_seconds) {
  const time_t seconds = static_cast<time_t>(unix_seconds);
  tm utc;
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

void AddMispSyncOptions(CLI::App& command, SensorOptions& options) {
  command.add_option("--misp-rest", options.misp_rest,
                     "Base URL of a MISP instance to read with its REST API "
                     "(/attributes/restSearch); needs --misp-key-file. Repeat for several "
                     "instances; they merge after the --misp sources");
  command.add_option("--misp-key-file", options.misp_key_file,
                     "File with the MISP API key (mode 600) for --misp-rest");

  command
      .add_option("--misp-ca", options.misp_ca,
                  "PEM file with the CA certificates that sign the MISP server's certificate "
                  "(default: the system's)")
      ->check(CLI::ExistingFile);
  command.add_flag("--misp-insecure", options.misp_insecure,
                   "Do not verify the MISP server's TLS certificate and host name");

  command.add_option("--misp-tag", options.misp_tags,
                     "Fetch only attributes (REST) or events (feed URLs) with this tag; "
                     "!TAG excludes a tag. Repeat for several");
  command.add_flag("--misp-published-only", options.misp_published_only,
                   "Fetch only attributes of published events (REST)");
  command.add_option("--misp-max-age", options.misp_max_age,
                     "Ignore attributes (REST) or events (feed URLs) last changed longer ago "
                     "than this, for example 90d, 12h or 30m");

  command
      .add_option("--misp-connect-timeout", options.misp_connect_timeout_s,
                  "Seconds to connect to MISP")
      ->capture_default_str()
      ->check(sensor::Seconds(/*zero_allowed=*/false));
  command
      .add_option("--misp-timeout", options.misp_timeout_s,
                  "Seconds one MISP request may take, connect to last byte, before it is "
                  "abandoned and retried")
      ->capture_default_str()
      ->check(sensor::Seconds(/*zero_allowed=*/false));
  command
      .add_option("--misp-retries", options.misp_retries,
                  "Retries of a MISP request after a timeout, a connection error or an HTTP "
                  "5xx, with exponential backoff")
      ->capture_default_str()
      ->check(CLI::Range(0, 10));
  command
      .add_option("--misp-page-size", options.misp_page_size,
                  "Attributes per restSearch page (the request's limit)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));

  command.add_option("--state-dir", options.state_dir,
                     "Directory for the last good copy of each MISP URL source, used at start "
                     "when MISP is unreachable (default for run: /var/lib/sensor; replay and "
                     "explain keep none unless given)");
}

absl::StatusOr<misp::MispSyncOptions> MispSyncOptionsFrom(const SensorOptions& options) {
  misp::MispSyncOptions sync;
  for (const std::string& value : options.misp) {
    sync.sources.push_back(
        {IsUrl(value) ? misp::SourceKind::kFeed : misp::SourceKind::kPath, value});
  }
  for (const std::string& url : options.misp_rest) {
    sync.sources.push_back({misp::SourceKind::kRest, url});
  }
  sync.api_key_file = options.misp_key_file;
  sync.filters.tags = options.misp_tags;
  // Attributes without to_ids are not compiled without --include-non-ids, so they are
  // not fetched either.
  if (!options.include_non_ids) sync.filters.to_ids = true;
  if (options.misp_published_only) sync.filters.published = true;
  if (!options.misp_max_age.empty()) {
    absl::StatusOr<int64_t> max_age = misp::ParseMaxAge(options.misp_max_age);
    if (!max_age.ok()) return max_age.status();
    sync.filters.max_age_s = *max_age;
  }
  sync.http.ca_file = options.misp_ca;
  sync.http.verify_tls = !options.misp_insecure;
  sync.http.connect_timeout = Milliseconds(options.misp_connect_timeout_s);
  sync.http.total_timeout = Milliseconds(options.misp_timeout_s);
  sync.http.retries = static_cast<int>(options.misp_retries);
  sync.page_size = options.misp_page_size;
  sync.state_dir = options.state_dir;
  return sync;
}

absl::StatusOr<std::unique_ptr<misp::MispSync>> CreateMispSync(const SensorOptions& options) {
  absl::StatusOr<misp::MispSyncOptions> sync_options = MispSyncOptionsFrom(options);
  if (!sync_options.ok()) return sync_options.status();
  return misp::MispSync::Create(std::move(*sync_options));
}

std::string JoinMispSources(const SensorOptions& options) {
  std::vector<std::string> all = options.misp;
  all.insert(all.end(), options.misp_rest.begin(), options.misp_rest.end());
  return absl::StrJoin(all, ", ");
}

absl::StatusOr<misp::LoadResult> SyncMispSources(misp::MispSync& sync) {
  absl::StatusOr<misp::SyncResult> result = sync.Sync();
  if (!result.ok()) return result.status();
  for (const misp::SourceReport& report : result->sources) {
    if (report.kind == misp::SourceKind::kPath) {
      if (!report.status.ok()) {
        ctl::LogWarn("misp", "{}; keeping the data of the last good load",
                     ToStd(report.status.message()));
      }
      continue;
    }
    if (!report.snapshot_path.empty()) {
      ctl::LogWarn(
          "misp", "{}; using the snapshot {} written {} ago ({}), {} events and {} attributes",
          ToStd(report.status.message()), report.snapshot_path,
          misp::FormatAge(report.snapshot_age_s),
          FormatUtc(std::time(nullptr) - report.snapshot_age_s), report.events, report.attributes);
    } else if (report.stale) {
      ctl::LogWarn("misp", "{}; keeping the data of the last good sync",
                   ToStd(report.status.message()));
    } else {
      ctl::LogInfo(
          "misp", "synced {} source {}: {} events, {} attributes ({} received, {} requests{})",
          misp::SourceKindName(report.kind), report.location, report.events, report.attributes,
          report.fetched, report.requests, report.changed ? "" : ", unchanged");
    }
    if (!report.snapshot_error.empty()) {
      ctl::LogWarn("misp", "cannot save the snapshot of {}: {}", report.location,
                   report.snapshot_error);
    }
  }
  return std::move(result->merged);
}

}  // namespace sensor
