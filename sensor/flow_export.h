// Flow export of replay and live mode: the --ipfix options, the IPFIX exporter built from
// them, and its hooks into the alert pipeline, the engine and the end-of-run summary.
//
// Main thread only; Tick() runs on the control loop, which is the main thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "ctrlplane/alert_pipeline.h"
#include "ctrlplane/ipfix/ipfix_exporter.h"

namespace CLI {
class App;
}  // namespace CLI

namespace sensor {

struct EngineOptions;
struct RunSummary;

struct FlowExportOptions {
  std::string ipfix_url;  // Empty: no flow export.
  uint32_t observation_domain = 1;
  uint32_t enterprise_number = ctl::kDefaultEnterpriseNumber;
  uint32_t path_mtu = 1500;
  double template_refresh_s = 600;
  uint32_t template_refresh_messages = 100;
  double active_timeout_s = 1800;  // Applies to the flow table with or without export.
};

// Adds --ipfix and the options that go with it to `replay` or `run`.
void AddFlowExportOptions(CLI::App& command, FlowExportOptions& options);

class FlowExport {
 public:
  // Checks the options before anything is opened; InvalidArgument names the bad value.
  static absl::Status Validate(const FlowExportOptions& options);

  // With --ipfix, resolves the collector and opens the exporter. Replay takes the
  // messages' Export Time from packet times and waits for a slow TCP collector.
  absl::Status Open(const FlowExportOptions& options, bool replay);

  // Sets the active timeout and, with an exporter, makes every flow send records and the
  // pipeline hand them to the exporter.
  void Attach(ctl::AlertPipeline& pipeline, EngineOptions& engine_options);

  // Control loop: sends what is due and keeps the TCP connection up.
  void Tick();

  // After the last record: sends what is queued and prints a line on standard error if
  // records could not be exported.
  void Finish();

  void FillSummary(RunSummary& summary) const;

 private:
  FlowExportOptions options_;
  std::unique_ptr<ctl::IpfixExporter> exporter_;
};

}  // namespace sensor
