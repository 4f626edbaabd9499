// Live statistics and control of replay and live mode: the control socket that sensorctl
// talks to (--ctl-socket) and the Prometheus endpoint (--metrics), with the commands and
// metrics they serve.
//
// Main thread only. Tick() runs on the control loop, which is the main thread, so the
// commands read the engine, pipeline and reloader there. The metrics HTTP thread only
// receives pages that Tick() renders.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ctrlplane/alert_pipeline.h"
#include "ctrlplane/ctl/ctl_server.h"
#include "ctrlplane/ctl/top_flows.h"
#include "ctrlplane/indicator_compiler.h"
#include "ctrlplane/intel_reloader.h"
#include "ctrlplane/metrics/metrics_server.h"
#include "ctrlplane/misp/misp_sightings.h"
#include "ctrlplane/misp/misp_source_status.h"
#include "ctrlplane/resolved_watch.h"
#include "ctrlplane/snapshot_publisher.h"
#include "ctrlplane/warninglist/warninglist_index.h"

namespace CLI {
class App;
}  // namespace CLI

namespace sensor {

class Engine;
struct EngineOptions;
struct LiveStatsContext;

inline constexpr char kDefaultCtlSocket[] = "/run/sensor/ctl.sock";

struct ControlOptions {
  // Control socket path. Empty: kDefaultCtlSocket in live mode, none in replay.
  std::string ctl_socket;
  bool no_ctl_socket = false;  // Live mode without a control socket.
  std::string metrics;         // ADDRESS:PORT of the Prometheus endpoint; empty: off.
  // With --user: the control socket (and its default directory, when created here) is
  // handed to this uid, which may connect besides root. Unset: the uid the sensor starts
  // as.
  std::optional<uid_t> run_as_uid;
};

// Adds --ctl-socket, --no-ctl-socket (live only) and --metrics to `replay` or `run`.
void AddControlOptions(CLI::App& command, ControlOptions& options, bool live);

// The sync state of one MISP source, as the stats command and the metrics report it.
using MispSourceStatus = misp::SourceStatus;

// Sources of the commands and metrics. The caller owns them, and they must outlive the
// LiveControl. All of them are control-thread state.
struct ControlSources {
  std::string mode;  // "replay" or "run".
  const Engine* engine = nullptr;
  const ctl::AlertPipeline* pipeline = nullptr;
  std::vector<std::string> sink_names;  // In the pipeline's sink order.
  ctl::IntelReloader* reloader = nullptr;
  const ctl::SnapshotPublisher* publisher = nullptr;
  const ctl::ResolvedWatch* resolved = nullptr;
  // Compile statistics of the first snapshot, reported until a reload publishes another.
  const ctl::CompileStats* initial_compile = nullptr;
  // The index compiles screen with; null without --warninglists. A reload's build thread
  // uses it while the reloader is busy, so lookups check it only when it is not.
  const ctl::WarninglistIndex* warninglists = nullptr;
  // MISP sources with their sync state, for stats and the metrics. It is called on the
  // control thread while a reload may sync, so it must return a copy taken under a lock
  // (MispSync::status()).
  std::function<std::vector<MispSourceStatus>()> misp_sources;
  // The figures of the sightings sent to MISP; unset without --misp-sightings.
  std::function<misp::SightingsStats()> misp_sightings;
};

// The names of the pipeline's outputs, in its order.
std::vector<std::string> SinkNames(const std::vector<ctl::SinkBinding>& bindings);

class LiveControl {
 public:
  // Checks the options before anything is opened; InvalidArgument names the bad value.
  static absl::Status Validate(const ControlOptions& options);

  // Creates the control socket and starts the metrics endpoint, as far as the options
  // ask for them. Call early, before other threads start: creating the socket sets the
  // process umask for a moment.
  absl::Status Open(const ControlOptions& options, bool replay);

  // With the control socket on: makes every flow send a record and keeps the ended flows
  // for top-flows, after any flow hook set before (flow export).
  void Attach(ctl::AlertPipeline& pipeline, EngineOptions& engine_options);

  // Hands over what the commands and metrics read; call after Attach() and before the
  // engine runs.
  void Bind(ControlSources sources);

  // Control loop: serves the control socket and renders the metrics page once a second.
  void Tick();

  // At the end of the run: publishes the last metrics page and closes the socket and the
  // endpoint.
  void Close();

  bool enabled() const { return server_ != nullptr || metrics_ != nullptr; }

 private:
  void AddCommands();
  void PublishMetrics();
  // Notes when the running snapshot changed, for its age.
  void WatchSnapshot();
  LiveStatsContext StatsContext() const;

  std::unique_ptr<ctl::CtlServer> server_;
  std::unique_ptr<ctl::MetricsServer> metrics_;
  std::unique_ptr<ctl::TopFlows> top_flows_;
  ControlSources sources_;
  bool bound_ = false;
  std::chrono::steady_clock::time_point started_;
  std::chrono::system_clock::time_point started_wall_;
  std::chrono::steady_clock::time_point next_metrics_;
  uint64_t seen_snapshot_version_ = 0;
  std::chrono::system_clock::time_point snapshot_published_;
};

}  // namespace sensor
