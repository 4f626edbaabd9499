// End-of-run statistics: a human-readable summary and the same figures as JSON.
//
// Main thread only, after the dataplane has stopped.
#pragma once

#include <string>

#include "ctrlplane/alert_pipeline.h"
#include "ctrlplane/indicator_compiler.h"
#include "ctrlplane/intel_reloader.h"
#include "ctrlplane/ipfix/ipfix_exporter.h"
#include "ctrlplane/misp/misp_sightings.h"
#include "ctrlplane/sinks/elasticsearch_sink.h"
#include "ctrlplane/sinks/ndjson_sink.h"
#include "sensor/capture_scan.h"
#include "sensor/engine.h"

namespace sensor {

struct RunSummary {
  std::string mode;                      // "replay" or "run".
  const CaptureScan* capture = nullptr;  // Replay only.
  std::string capture_path;
  const ctl::CompileStats* indicators = nullptr;  // Of the snapshot running at the end.
  const ctl::IntelReloadStats* reloads = nullptr;
  const ctl::AlertPipelineStats* alerts = nullptr;
  const EngineReport* engine = nullptr;
  std::string alerts_path;
  const ctl::NdjsonSinkStats* ndjson = nullptr;
  // Elasticsearch output; null when it is off.
  const ctl::ElasticsearchSinkStats* elasticsearch = nullptr;
  uint64_t elasticsearch_withheld_by_tlp = 0;
  std::string elasticsearch_url;
  std::string spool_dir;
  std::string dead_letter_path;
  // Sightings sent to MISP; null without --misp-sightings.
  const misp::SightingsStats* sightings = nullptr;
  uint64_t sightings_withheld_by_tlp = 0;
  // IPFIX flow export; null when it is off.
  const ctl::IpfixExporterStats* ipfix = nullptr;
  std::string ipfix_collector;
  uint32_t ipfix_observation_domain = 0;
};

std::string FormatStatsText(const RunSummary& summary);
std::string FormatStatsJson(const RunSummary& summary);

}  // namespace sensor
