#include "sensor/live_control.h"

#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/ctl/ctl_commands.h"
#include "ctrlplane/log.h"
#include "sensor/engine.h"
#include "sensor/live_stats.h"

namespace sensor {
namespace {

constexpr uint64_t kDefaultTopFlows = 10;
constexpr auto kMetricsInterval = std::chrono::seconds(1);

}  // namespace

void AddControlOptions(CLI::App& command, ControlOptions& options, bool live) {
  if (live) {
    command
        .add_option("--ctl-socket", options.ctl_socket,
                    "Unix socket for sensorctl, created with mode 0600; root and the user "
                    "the sensor runs as may connect")
        ->default_str(kDefaultCtlSocket);
    command.add_flag("--no-ctl-socket", options.no_ctl_socket, "Run without a control socket")
        ->excludes("--ctl-socket");
  } else {
    command.add_option("--ctl-socket", options.ctl_socket,
                       "Unix socket for sensorctl during the replay, created with mode 0600 "
                       "(default: none)");
  }
  command.add_option("--metrics", options.metrics,
                     "Serve Prometheus metrics at http://ADDRESS:PORT/metrics, for example "
                     "127.0.0.1:9101 or [::1]:9101; port 0 picks a free port (default: off)");
}

std::vector<std::string> SinkNames(const std::vector<ctl::SinkBinding>& bindings) {
  std::vector<std::string> names;
  for (const ctl::SinkBinding& binding : bindings) names.emplace_back(binding.sink->name());
  return names;
}

absl::Status LiveControl::Validate(const ControlOptions& options) {
  if (options.ctl_socket.size() >= sizeof(sockaddr_un::sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid --ctl-socket '", options.ctl_socket,
                                                   "': a socket path must be shorter than ",
                                                   sizeof(sockaddr_un::sun_path), " bytes"));
  }
  if (!options.metrics.empty()) {
    absl::StatusOr<ctl::MetricsAddress> address = ctl::ParseMetricsAddress(options.metrics);
    if (!address.ok()) return address.status();
  }
  return absl::OkStatus();
}

absl::Status LiveControl::Open(const ControlOptions& options, bool replay) {
  started_ = std::chrono::steady_clock::now();
  started_wall_ = std::chrono::system_clock::now();
  std::string path = options.ctl_socket;
  if (path.empty() && !replay && !options.no_ctl_socket) {
    path = kDefaultCtlSocket;
    // /run is a tmpfs, so the default directory is gone after a reboot.
    const std::string directory = std::filesystem::path(path).parent_path();
    if (mkdir(directory.c_str(), 0750) == 0) {
      if (options.run_as_uid && chown(directory.c_str(), *options.run_as_uid, -1) != 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "cannot change the owner of ", directory, " to uid ", *options.run_as_uid, ": ",
            std::strerror(errno)));
      }
    } else if (errno != EEXIST) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot create ", directory, " for the control socket: ", std::strerror(errno),
          "; pass --ctl-socket PATH or --no-ctl-socket"));
    }
  }
  if (!path.empty()) {
    ctl::CtlServerOptions server_options;
    server_options.path = path;
    if (options.run_as_uid) server_options.allowed_uids = {0, *options.run_as_uid};
    absl::StatusOr<std::unique_ptr<ctl::CtlServer>> server =
        ctl::CtlServer::Listen(std::move(server_options));
    if (!server.ok()) return server.status();
    server_ = std::move(*server);
    // The socket stays mode 0600; after the privilege drop its owner is the one who may
    // open it besides root.
    if (options.run_as_uid && lchown(path.c_str(), *options.run_as_uid, -1) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot change the owner of control socket ", path, " to uid ",
          *options.run_as_uid, ": ", std::strerror(errno)));
    }
  }
  if (!options.metrics.empty()) {
    absl::StatusOr<std::unique_ptr<ctl::MetricsServer>> metrics =
        ctl::MetricsServer::Start(options.metrics);
    if (!metrics.ok()) return metrics.status();
    metrics_ = std::move(*metrics);
  }
  return absl::OkStatus();
}

void LiveControl::Attach(ctl::AlertPipeline& pipeline, EngineOptions& engine_options) {
  if (server_ == nullptr) return;
  top_flows_ = std::make_unique<ctl::TopFlows>();
  engine_options.export_flows = true;
  std::function<void(const dp::FlowRecord&)> previous = pipeline.on_flow();
  ctl::TopFlows* top_flows = top_flows_.get();
  pipeline.set_on_flow([previous, top_flows](const dp::FlowRecord& record) {
    if (previous) previous(record);
    top_flows->OnFlowRecord(record);
  });
}

void LiveControl::Bind(ControlSources sources) {
  sources_ = std::move(sources);
  bound_ = true;
  seen_snapshot_version_ = sources_.publisher->current()->version;
  snapshot_published_ = started_wall_;
  next_metrics_ = std::chrono::steady_clock::now();
  if (server_ != nullptr) AddCommands();
  // The first page comes from the first Tick(), once the engine has launched the workers
  // on their lcores. Until then a scrape gets 503.
}

void LiveControl::WatchSnapshot() {
  const uint64_t version = sources_.publisher->current()->version;
  if (version != seen_snapshot_version_) {
    seen_snapshot_version_ = version;
    snapshot_published_ = std::chrono::system_clock::now();
  }
}

void LiveControl::Tick() {
  if (!bound_) return;
  WatchSnapshot();
  if (server_ != nullptr) server_->Poll();
  if (metrics_ != nullptr && std::chrono::steady_clock::now() >= next_metrics_) {
    PublishMetrics();
  }
}

void LiveControl::Close() {
  if (bound_ && metrics_ != nullptr) PublishMetrics();
  server_.reset();
  metrics_.reset();
  bound_ = false;
}

void LiveControl::PublishMetrics() {
  next_metrics_ = std::chrono::steady_clock::now() + kMetricsInterval;
  metrics_->Publish(RenderMetricsPage(StatsContext()));
}

LiveStatsContext LiveControl::StatsContext() const {
  LiveStatsContext context;
  context.sources = &sources_;
  context.ctl = server_ != nullptr ? &server_->stats() : nullptr;
  context.metrics_address = metrics_ != nullptr ? metrics_->bound_address() : "";
  context.started = started_wall_;
  context.uptime_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  context.snapshot_version = seen_snapshot_version_;
  context.snapshot_published = snapshot_published_;
  return context;
}

void LiveControl::AddCommands() {
  server_->AddCommand("stats", [this](const rapidjson::Value&, ctl::CtlWriter& writer) {
    WatchSnapshot();
    WriteStatsResult(StatsContext(), writer);
    return absl::OkStatus();
  });

  server_->AddCommand("reload", [this](const rapidjson::Value&, ctl::CtlWriter& writer) {
    const bool was_busy = sources_.reloader->busy();
    sources_.reloader->Request("ctl");
    writer.StartObject();
    writer.Key("accepted");
    writer.Bool(true);
    // A request during a build starts another build once that one has finished.
    writer.Key("after_running_build");
    writer.Bool(was_busy);
    writer.Key("requested");
    writer.Uint64(sources_.reloader->stats().requested);
    writer.EndObject();
    return absl::OkStatus();
  });

  server_->AddCommand("lookup", [this](const rapidjson::Value& request, ctl::CtlWriter& writer) {
    absl::StatusOr<std::string_view> value = ctl::RequestString(request, "value");
    if (!value.ok()) return value.status();
    return ctl::WriteLookup(*sources_.publisher->current(), *value, sources_.warninglists,
                            !sources_.reloader->busy(), writer);
  });

  server_->AddCommand("top-flows", [this](const rapidjson::Value& request, ctl::CtlWriter& writer) {
    absl::StatusOr<uint64_t> count = ctl::RequestCount(request, "count", kDefaultTopFlows);
    if (!count.ok()) return count.status();
    const size_t most = top_flows_->options().per_bucket;
    if (*count == 0 || *count > most) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid request: \"count\" must be from 1 to ", most));
    }
    ctl::WriteTopFlows(*top_flows_, *count, writer);
    return absl::OkStatus();
  });

  server_->AddCommand("indicators", [this](const rapidjson::Value&, ctl::CtlWriter& writer) {
    const ctl::IntelReloadStats& reloads = sources_.reloader->stats();
    const ctl::CompileStats& compile =
        reloads.published > 0 ? reloads.compile : *sources_.initial_compile;
    ctl::WriteIndicatorSummary(*sources_.publisher->current(), compile, writer);
    return absl::OkStatus();
  });
}

}  // namespace sensor
