// The alert outputs of replay and live mode: the NDJSON file (rotation, reopen on
// SIGHUP), the optional Elasticsearch sink with its spool, and the optional sightings
// sent back to MISP (--misp-sightings), built from the command line.
//
// Main thread only; Tick() runs on the control loop, which is the main thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "ctrlplane/alert_pipeline.h"
#include "ctrlplane/misp/misp_sightings.h"
#include "ctrlplane/sinks/elasticsearch_sink.h"
#include "ctrlplane/sinks/ndjson_sink.h"
#include "ctrlplane/tlp.h"
#include "sensor/sensor_main.h"
#include "sensor/stats_report.h"

namespace CLI {
class App;
}  // namespace CLI

namespace sensor {

// Adds the alert file rotation, Elasticsearch and MISP sightings options to `replay` or
// `run`.
void AddAlertOutputOptions(CLI::App& command, SensorOptions& options);
// Adds the options of `sensor es-template`.
void AddEsTemplateOptions(CLI::App& command, SensorOptions& options);

class AlertOutputs {
 public:
  // Checks the output options (names, sizes, URL, credential files) before anything is
  // opened. InvalidArgument for a bad value; other codes for files that cannot be used.
  static absl::Status Validate(const SensorOptions& options);

  // Opens the alert file and, with --elasticsearch, the Elasticsearch sink (which starts
  // sending what earlier runs left in the spool).
  absl::Status Open(const SensorOptions& options);

  // The sinks with the maximum TLP each is cleared for, in pipeline order.
  std::vector<ctl::SinkBinding> bindings() const;

  // Control loop: reopens the file after SIGHUP (sensor/signals.h), then runs the file's
  // periodic work.
  void Tick();

  // After the pipeline's last write: sends what Elasticsearch has not acknowledged yet,
  // for at most the drain timeout, and logs what stays in the spool. Sends the queued
  // sightings, for at most their drain timeout.
  void Drain();

  // The sightings' figures so far; nullopt without --misp-sightings. Any thread.
  std::optional<misp::SightingsStats> sightings_stats() const;

  // Adds the outputs' figures to the end-of-run summary. `pipeline` gives the per-sink
  // TLP counts.
  void FillSummary(const ctl::AlertPipelineStats& pipeline, RunSummary& summary);

 private:
  SensorOptions options_;
  ctl::Tlp file_max_tlp_ = ctl::Tlp::kRed;
  ctl::Tlp elasticsearch_max_tlp_ = ctl::Tlp::kRed;
  std::unique_ptr<ctl::NdjsonSink> ndjson_;
  std::unique_ptr<ctl::ElasticsearchSink> elasticsearch_;
  ctl::ElasticsearchSinkStats elasticsearch_stats_;
  ctl::Tlp sightings_max_tlp_ = ctl::Tlp::kAmber;
  std::unique_ptr<misp::MispSightingsSink> sightings_;
  misp::SightingsStats sightings_final_;  // Taken by Drain() for the summary.
};

// `sensor es-template`: installs the shipped index template in the cluster. Returns the
// process exit status.
int RunEsTemplate(const SensorOptions& options);

}  // namespace sensor
