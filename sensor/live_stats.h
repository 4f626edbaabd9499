// The figures of a running sensor as the control socket's stats command (JSON) and the
// Prometheus endpoint (text exposition format) report them, read from the same sources.
//
// Control thread only, while the engine runs.
#pragma once

#include <chrono>
#include <string>

#include "ctrlplane/ctl/ctl_server.h"
#include "sensor/live_control.h"

namespace sensor {

struct LiveStatsContext {
  const ControlSources* sources = nullptr;
  const ctl::CtlServerStats* ctl = nullptr;  // Null without a control socket.
  std::string metrics_address;               // Empty without the metrics endpoint.
  std::chrono::system_clock::time_point started;
  double uptime_seconds = 0;
  // Version of the running snapshot and when the control loop first saw it.
  uint64_t snapshot_version = 0;
  std::chrono::system_clock::time_point snapshot_published;
};

// Writes the stats command's result: cumulative per-lcore packets and bytes, drops,
// alerts, snapshot, reloads, MISP sources and uptime. Clients compute rates from two
// results and their uptime_seconds.
void WriteStatsResult(const LiveStatsContext& context, ctl::CtlWriter& writer);

// Renders the metrics page.
std::string RenderMetricsPage(const LiveStatsContext& context);

}  // namespace sensor
