#include "sensor/alert_outputs.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/log.h"
#include "ctrlplane/misp/misp_http.h"
#include "ctrlplane/sinks/elasticsearch_template.h"
#include "sensor/cli_checks.h"
#include "sensor/misp_sources.h"
#include "sensor/signals.h"

namespace sensor {
namespace {

std::chrono::milliseconds Milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

absl::Status InvalidTlp(std::string_view option, std::string_view value) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid ", ToAbsl(option), " '", ToAbsl(value),
                   "': use clear, green, amber, amber+strict or red"));
}

absl::StatusOr<ctl::FsyncPolicy> FsyncFrom(std::string_view option, std::string_view value) {
  const std::optional<ctl::FsyncPolicy> policy = ctl::FsyncPolicyFromName(value);
  if (!policy) {
    return absl::InvalidArgumentError(absl::StrCat("invalid ", ToAbsl(option), " '", ToAbsl(value),
                                                   "': use none, batch or interval"));
  }
  return *policy;
}

ctl::ElasticsearchConnectionOptions ConnectionFrom(const SensorOptions& options) {
  ctl::ElasticsearchConnectionOptions connection;
  connection.url = options.elasticsearch_url;
  connection.api_key_file = options.elasticsearch_key_file;
  connection.basic_auth_file = options.elasticsearch_basic_auth_file;
  connection.ca_file = options.elasticsearch_ca;
  connection.verify_tls = !options.elasticsearch_insecure;
  connection.request_timeout = Milliseconds(options.elasticsearch_timeout_s);
  connection.connect_timeout =
      std::min(connection.request_timeout, std::chrono::milliseconds(5'000));
  return connection;
}

absl::StatusOr<ctl::NdjsonSinkOptions> NdjsonOptionsFrom(const SensorOptions& options) {
  ctl::NdjsonSinkOptions ndjson;
  ndjson.path = options.alerts;
  ndjson.fsync = options.fsync_alerts ? ctl::FsyncPolicy::kBatch : ctl::FsyncPolicy::kNone;
  if (!options.alerts_fsync.empty()) {
    absl::StatusOr<ctl::FsyncPolicy> policy = FsyncFrom("--alerts-fsync", options.alerts_fsync);
    if (!policy.ok()) return policy.status();
    ndjson.fsync = *policy;
  }
  ndjson.rotate_bytes = options.alerts_rotate_size;
  ndjson.rotate_interval =
      std::chrono::seconds(static_cast<int64_t>(std::llround(options.alerts_rotate_interval_s)));
  if (options.alerts_rotate_interval_s > 0 && ndjson.rotate_interval.count() == 0) {
    return absl::InvalidArgumentError("--alerts-rotate-interval must be at least 1 second");
  }
  return ndjson;
}

absl::StatusOr<ctl::ElasticsearchSinkOptions> ElasticsearchOptionsFrom(
    const SensorOptions& options) {
  ctl::ElasticsearchSinkOptions sink;
  sink.connection = ConnectionFrom(options);
  sink.index = options.elasticsearch_index;
  sink.gzip = !options.elasticsearch_no_gzip;
  sink.batch_documents = options.elasticsearch_batch_documents;
  sink.batch_bytes = options.elasticsearch_batch_bytes;
  sink.flush_interval = Milliseconds(options.elasticsearch_flush_interval_s);
  sink.backoff_max = Milliseconds(options.elasticsearch_backoff_max_s);
  sink.backoff_initial = std::min(sink.backoff_initial, sink.backoff_max);
  sink.dead_letter_path = options.elasticsearch_dead_letter.empty()
                              ? absl::StrCat(options.alerts, ".dead-letter.ndjson")
                              : options.elasticsearch_dead_letter;
  sink.spool.directory =
      options.spool_dir.empty() ? absl::StrCat(options.alerts, ".spool") : options.spool_dir;
  sink.spool.max_bytes = options.spool_max_bytes;
  sink.spool.segment_bytes = std::min<uint64_t>(sink.spool.segment_bytes, options.spool_max_bytes);
  absl::StatusOr<ctl::FsyncPolicy> policy = FsyncFrom("--spool-fsync", options.spool_fsync);
  if (!policy.ok()) return policy.status();
  sink.spool.fsync = *policy;
  if (sink.flush_interval.count() <= 0 || sink.connection.request_timeout.count() <= 0 ||
      sink.backoff_max.count() <= 0) {
    return absl::InvalidArgumentError(
        "--elasticsearch-flush-interval, --elasticsearch-timeout and --elasticsearch-backoff-max "
        "must be at least 1 ms");
  }
  return sink;
}

absl::StatusOr<misp::SightingsSinkOptions> SightingsOptionsFrom(const SensorOptions& options) {
  if (options.misp_rest.empty()) {
    return absl::InvalidArgumentError(
        "--misp-sightings needs a --misp-rest source: sightings go only to MISP instances "
        "read with the REST API");
  }
  if (!ctl::TlpFromName(options.misp_sightings_max_tlp)) {
    return InvalidTlp("--misp-sightings-max-tlp", options.misp_sightings_max_tlp);
  }
  absl::StatusOr<misp::MispSyncOptions> sync = MispSyncOptionsFrom(options);
  if (!sync.ok()) return sync.status();

  misp::SightingsSinkOptions sightings;
  sightings.instances = options.misp_rest;
  sightings.key_file = options.misp_key_file;
  sightings.http = sync->http;
  if (options.misp_sightings_source.empty()) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    sightings.source = host;
  } else {
    sightings.source = options.misp_sightings_source;
  }

  sightings.queue.batch_size = options.misp_sightings_batch;
  sightings.queue.rate_per_minute = options.misp_sightings_rate;
  sightings.queue.flush_interval = Milliseconds(options.misp_sightings_interval_s);
  sightings.queue.dedup_window = std::chrono::seconds(
      static_cast<int64_t>(std::llround(options.misp_sightings_dedup_window_s)));
  if (sightings.queue.flush_interval.count() <= 0) {
    return absl::InvalidArgumentError("--misp-sightings-interval must be at least 1 ms");
  }
  return sightings;
}

// The options that reach the cluster, shared by replay, run and es-template.
void AddConnectionOptions(CLI::App& command, SensorOptions& options, bool required) {
  CLI::Option* url = command.add_option(
      "--elasticsearch", options.elasticsearch_url,
      "Elasticsearch URL (http://HOST:PORT or https://HOST:PORT, optionally with a path "
      "prefix); alerts are indexed there through _bulk, spooled on disk first");
  if (required) url->required();
  command
      .add_option("--elasticsearch-key-file", options.elasticsearch_key_file,
                  "File with an Elasticsearch API key (encoded, or id:api_key); mode 600")
      ->check(CLI::ExistingFile);
  command
      .add_option("--elasticsearch-basic-auth-file", options.elasticsearch_basic_auth_file,
                  "File with user:password for HTTP basic authentication; mode 600")
      ->check(CLI::ExistingFile);
  command
      .add_option("--elasticsearch-ca", options.elasticsearch_ca,
                  "PEM file of the CA that signed the cluster's certificate (default: the "
                  "system's CAs)")
      ->check(CLI::ExistingFile);
  command.add_flag("--elasticsearch-insecure", options.elasticsearch_insecure,
                   "Do not verify the cluster's TLS certificate and host name");
  command
      .add_option("--elasticsearch-index", options.elasticsearch_index,
                  "Index name; %Y, %m, %d and %H come from the alert's @timestamp (UTC). A "
                  "name without % can be an alias or a data stream")
      ->capture_default_str();
  command
      .add_option("--elasticsearch-timeout", options.elasticsearch_timeout_s,
                  "Seconds one request may take before it is abandoned and retried")
      ->capture_default_str()
      ->check(sensor::Seconds(/*zero_allowed=*/false));
}

void AddSightingsOptions(CLI::App& command, SensorOptions& options) {
  command.add_flag("--misp-sightings", options.misp_sightings,
                   "Report each alerted attribute of a --misp-rest source to that MISP "
                   "instance as a sighting (POST /sightings/add, type 0)");
  command
      .add_option("--misp-sightings-max-tlp", options.misp_sightings_max_tlp,
                  "Highest TLP of the attributes sighted: clear, green, amber, amber+strict or "
                  "red; alerts above it are counted, not sighted")
      ->capture_default_str();
  command
      .add_option("--misp-sightings-rate", options.misp_sightings_rate,
                  "Sightings sent per minute at most; more are dropped and counted. 0: no limit")
      ->capture_default_str();
  command
      .add_option("--misp-sightings-batch", options.misp_sightings_batch,
                  "Sightings sent together at most, one request each")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  command
      .add_option("--misp-sightings-interval", options.misp_sightings_interval_s,
                  "Seconds a sighting waits for its batch to fill before it is sent anyway")
      ->capture_default_str()
      ->check(sensor::Seconds(/*zero_allowed=*/false));
  command
      .add_option("--misp-sightings-dedup-window", options.misp_sightings_dedup_window_s,
                  "Seconds during which further alerts of a sighted attribute send no new "
                  "sighting; 0 sends one per alert")
      ->capture_default_str()
      ->check(sensor::Seconds());
  command
      .add_option("--misp-sightings-drain-timeout", options.misp_sightings_drain_timeout_s,
                  "Seconds to keep sending queued sightings at the end of a replay or after "
                  "SIGINT/SIGTERM")
      ->capture_default_str()
      ->check(sensor::Seconds());
  command.add_option("--misp-sightings-source", options.misp_sightings_source,
                     "The sightings' source field (default: the host name)");
}

}  // namespace

void AddAlertOutputOptions(CLI::App& command, SensorOptions& options) {
  command
      .add_option("--alerts-rotate-size", options.alerts_rotate_size,
                  "Rotate the alert file before it grows past this many bytes; 0 is off")
      ->capture_default_str();
  command
      .add_option("--alerts-rotate-interval", options.alerts_rotate_interval_s,
                  "Rotate the alert file when it is this many seconds old (wall clock); 0 is "
                  "off. Rotated files get a UTC time suffix")
      ->capture_default_str()
      ->check(sensor::Seconds());
  command
      .add_option("--alerts-fsync", options.alerts_fsync,
                  "When to fsync the alert file: none, batch (after each write of buffered "
                  "lines) or interval (at most once a second); default none, or batch with "
                  "--fsync-alerts")
      ->check(CLI::IsMember({"none", "batch", "interval"}));

  AddConnectionOptions(command, options, /*required=*/false);
  command
      .add_option("--elasticsearch-max-tlp", options.elasticsearch_max_tlp,
                  "Highest TLP sent to Elasticsearch: clear, green, amber, amber+strict or "
                  "red; alerts above it are counted, not sent")
      ->capture_default_str();
  command.add_option("--elasticsearch-dead-letter", options.elasticsearch_dead_letter,
                     "NDJSON file for alerts Elasticsearch rejects, with the reason (default: "
                     "<alerts>.dead-letter.ndjson)");
  command.add_flag("--elasticsearch-no-gzip", options.elasticsearch_no_gzip,
                   "Send request bodies uncompressed");
  command
      .add_option("--elasticsearch-batch-docs", options.elasticsearch_batch_documents,
                  "Alerts per _bulk request at most")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  command
      .add_option("--elasticsearch-batch-bytes", options.elasticsearch_batch_bytes,
                  "Uncompressed alert bytes per _bulk request at most")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1024}, uint64_t{1} << 30));
  command
      .add_option("--elasticsearch-flush-interval", options.elasticsearch_flush_interval_s,
                  "Seconds an alert waits for its batch to fill before it is sent anyway")
      ->capture_default_str()
      ->check(sensor::Seconds(/*zero_allowed=*/false));
  command
      .add_option("--elasticsearch-backoff-max", options.elasticsearch_backoff_max_s,
                  "Cap in seconds of the exponential backoff between retries")
      ->capture_default_str()
      ->check(sensor::Seconds(/*zero_allowed=*/false));
  command
      .add_option("--elasticsearch-drain-timeout", options.elasticsearch_drain_timeout_s,
                  "Seconds to keep sending at the end of a replay or after SIGINT/SIGTERM; "
                  "what is left stays in the spool for the next run")
      ->capture_default_str()
      ->check(sensor::Seconds());
  command.add_option("--spool-dir", options.spool_dir,
                     "Directory of the Elasticsearch spool (default: <alerts>.spool)");
  command
      .add_option("--spool-max-bytes", options.spool_max_bytes,
                  "Size limit of the spool; alerts beyond it are rejected and counted")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1} << 20, uint64_t{1} << 50));
  command
      .add_option("--spool-fsync", options.spool_fsync,
                  "When to fsync the spool: none, batch (before each _bulk request) or "
                  "interval (at most once a second)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "batch", "interval"}));
  AddSightingsOptions(command, options);
}

void AddEsTemplateOptions(CLI::App& command, SensorOptions& options) {
  AddConnectionOptions(command, options, /*required=*/true);
  command.add_option("--template-name", options.es_template_name, "Name of the index template")
      ->capture_default_str();
  command
      .add_option("--template", options.es_template_file,
                  "Install this template file instead of the one built into the sensor")
      ->check(CLI::ExistingFile);
  command.add_flag("--data-stream", options.es_data_stream,
                   "Make --elasticsearch-index a data stream (the template gets data_stream)");
}

absl::Status AlertOutputs::Validate(const SensorOptions& options) {
  if (!ctl::TlpFromName(options.alerts_max_tlp)) {
    return InvalidTlp("--alerts-max-tlp", options.alerts_max_tlp);
  }
  if (absl::StatusOr<ctl::NdjsonSinkOptions> ndjson = NdjsonOptionsFrom(options); !ndjson.ok()) {
    return ndjson.status();
  }
  if (options.misp_sightings) {
    absl::StatusOr<misp::SightingsSinkOptions> sightings = SightingsOptionsFrom(options);
    if (!sightings.ok()) return sightings.status();
  }
  const bool elasticsearch_options_given =
      !options.elasticsearch_key_file.empty() || !options.elasticsearch_basic_auth_file.empty() ||
      !options.elasticsearch_ca.empty() || !options.spool_dir.empty();
  if (options.elasticsearch_url.empty()) {
    if (elasticsearch_options_given) {
      return absl::InvalidArgumentError(
          "Elasticsearch options were given without --elasticsearch URL");
    }
    return absl::OkStatus();
  }
  if (!ctl::TlpFromName(options.elasticsearch_max_tlp)) {
    return InvalidTlp("--elasticsearch-max-tlp", options.elasticsearch_max_tlp);
  }
  if (absl::Status status = ctl::ValidateIndexPattern(options.elasticsearch_index); !status.ok()) {
    return status;
  }
  absl::StatusOr<ctl::ElasticsearchSinkOptions> sink = ElasticsearchOptionsFrom(options);
  if (!sink.ok()) return sink.status();
  // Reads the credential files now, so a wrong mode fails before the capture is loaded.
  absl::StatusOr<std::unique_ptr<ctl::ElasticsearchClient>> client =
      ctl::ElasticsearchClient::Create(sink->connection);
  return client.status();
}

absl::Status AlertOutputs::Open(const SensorOptions& options) {
  options_ = options;
  file_max_tlp_ = *ctl::TlpFromName(options.alerts_max_tlp);
  absl::StatusOr<ctl::NdjsonSinkOptions> ndjson_options = NdjsonOptionsFrom(options);
  if (!ndjson_options.ok()) return ndjson_options.status();
  absl::StatusOr<std::unique_ptr<ctl::NdjsonSink>> ndjson = ctl::NdjsonSink::Open(*ndjson_options);
  if (!ndjson.ok()) return ndjson.status();
  ndjson_ = std::move(*ndjson);

  if (options.misp_sightings) {
    absl::StatusOr<misp::SightingsSinkOptions> sightings_options = SightingsOptionsFrom(options);
    if (!sightings_options.ok()) return sightings_options.status();
    absl::StatusOr<std::string> key = misp::ReadApiKeyFile(options.misp_key_file);
    if (!key.ok()) return key.status();
    absl::StatusOr<std::unique_ptr<misp::MispSightingsSink>> sightings =
        misp::MispSightingsSink::Create(std::move(*sightings_options), std::move(*key));
    if (!sightings.ok()) return sightings.status();
    sightings_ = std::move(*sightings);
    sightings_max_tlp_ = *ctl::TlpFromName(options.misp_sightings_max_tlp);
  }

  if (options.elasticsearch_url.empty()) return absl::OkStatus();
  elasticsearch_max_tlp_ = *ctl::TlpFromName(options.elasticsearch_max_tlp);
  absl::StatusOr<ctl::ElasticsearchSinkOptions> sink_options = ElasticsearchOptionsFrom(options);
  if (!sink_options.ok()) return sink_options.status();
  absl::StatusOr<std::unique_ptr<ctl::ElasticsearchSink>> sink =
      ctl::ElasticsearchSink::Open(*sink_options);
  if (!sink.ok()) return sink.status();
  elasticsearch_ = std::move(*sink);
  return absl::OkStatus();
}

std::vector<ctl::SinkBinding> AlertOutputs::bindings() const {
  std::vector<ctl::SinkBinding> bindings;
  bindings.push_back({ndjson_.get(), file_max_tlp_});
  if (elasticsearch_) bindings.push_back({elasticsearch_.get(), elasticsearch_max_tlp_});
  if (sightings_) bindings.push_back({sightings_.get(), sightings_max_tlp_});
  return bindings;
}

void AlertOutputs::Tick() {
  if (TakeReopenRequest()) (void)ndjson_->Reopen();
  ndjson_->Tick();
}

void AlertOutputs::Drain() {
  // A write that failed during the run has been retried on each tick; this is the last try.
  (void)ndjson_->Flush();
  if (sightings_) {
    sightings_->Drain(Milliseconds(options_.misp_sightings_drain_timeout_s));
    sightings_final_ = sightings_->stats();
  }
  if (!elasticsearch_) return;
  elasticsearch_->Drain(Milliseconds(options_.elasticsearch_drain_timeout_s));
  elasticsearch_stats_ = elasticsearch_->stats();
}

std::optional<misp::SightingsStats> AlertOutputs::sightings_stats() const {
  if (!sightings_) return std::nullopt;
  return sightings_->stats();
}

void AlertOutputs::FillSummary(const ctl::AlertPipelineStats& pipeline, RunSummary& summary) {
  summary.ndjson = &ndjson_->stats();
  if (sightings_) {
    summary.sightings = &sightings_final_;
    // The sightings sink is the last binding.
    summary.sightings_withheld_by_tlp =
        pipeline.tlp_withheld.size() == bindings().size() ? pipeline.tlp_withheld.back() : 0;
  }
  if (!elasticsearch_) return;
  summary.elasticsearch = &elasticsearch_stats_;
  summary.elasticsearch_url = options_.elasticsearch_url;
  summary.spool_dir = elasticsearch_->options().spool.directory;
  summary.dead_letter_path = elasticsearch_->options().dead_letter_path;
  summary.elasticsearch_withheld_by_tlp =
      pipeline.tlp_withheld.size() > 1 ? pipeline.tlp_withheld[1] : 0;
}

int RunEsTemplate(const SensorOptions& options) {
  auto fail = [](const absl::Status& status, int exit_status) {
    std::fprintf(stderr, "sensor: %s\n", std::string(ToStd(status.message())).c_str());
    return exit_status;
  };
  std::string template_json(ctl::ShippedIndexTemplate());
  if (!options.es_template_file.empty()) {
    std::ifstream in(options.es_template_file);
    std::stringstream content;
    content << in.rdbuf();
    if (!in) {
      return fail(absl::NotFoundError(
                      absl::StrCat("cannot read index template file ", options.es_template_file)),
                  kExitFailure);
    }
    template_json = content.str();
  }
  absl::StatusOr<std::string> body =
      ctl::BuildIndexTemplate(template_json, options.elasticsearch_index, options.es_data_stream);
  if (!body.ok()) return fail(body.status(), kExitUsage);
  absl::StatusOr<std::unique_ptr<ctl::ElasticsearchClient>> client =
      ctl::ElasticsearchClient::Create(ConnectionFrom(options));
  if (!client.ok()) {
    return fail(client.status(), client.status().code() == absl::StatusCode::kInvalidArgument
                                     ? kExitUsage
                                     : kExitFailure);
  }
  if (absl::Status status = ctl::InstallIndexTemplate(**client, options.es_template_name, *body);
      !status.ok()) {
    return fail(status, kExitFailure);
  }
  std::printf("index template %s installed at %s for %s%s\n", options.es_template_name.c_str(),
              (*client)->base_url().c_str(),
              ctl::IndexTemplatePattern(options.elasticsearch_index).c_str(),
              options.es_data_stream ? " (data stream)" : "");
  return kExitOk;
}

}  // namespace sensor
