// End-of-run statistics: a human-readable summary and the same figures as JSON.
//
// Main thread only, after the dataplane has stopped.
#pragma once

#include <string>

#include "ctrlplane/alert_pipeline.h"
#include "ctrlplane/indicator_compiler.h"
#include "sensor/capture_scan.h"
#include "sensor/engine.h"

namespace sensor {

struct RunSummary {
  std::string mode;                      // "replay" or "run".
  const CaptureScan* capture = nullptr;  // Replay only.
  std::string capture_path;
  const ctl::CompileStats* indicators = nullptr;
  const ctl::AlertPipelineStats* alerts = nullptr;
  const EngineReport* engine = nullptr;
  std::string alerts_path;
};

std::string FormatStatsText(const RunSummary& summary);
std::string FormatStatsJson(const RunSummary& summary);

}  // namespace sensor
