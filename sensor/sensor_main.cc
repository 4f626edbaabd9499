#include "sensor/sensor_main.h"

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <sched.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"
#include "ctrlplane/alert_document.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/alert_pipeline.h"
#include "ctrlplane/enrich/geoip.h"
#include "ctrlplane/indicator_compiler.h"
#include "ctrlplane/intel_reloader.h"
#include "ctrlplane/log.h"
#include "ctrlplane/misp/misp_loader.h"
#include "ctrlplane/resolved_watch.h"
#include "ctrlplane/sinks/ndjson_sink.h"
#include "ctrlplane/snapshot_publisher.h"
#include "sensor/alert_outputs.h"
#include "sensor/capture_scan.h"
#include "sensor/eal_setup.h"
#include "sensor/self_check.h"
#include "sensor/self_check_probe.h"
#include "sensor/engine.h"
#include "sensor/flow_export.h"
#include "sensor/intelligence.h"
#include "sensor/live_control.h"
#include "sensor/misp_sources.h"
#include "sensor/privileges.h"
#include "sensor/signals.h"
#include "sensor/stats_report.h"

namespace sensor {
namespace {

void PrintError(absl::string_view message) {
  std::fprintf(stderr, "sensor: %.*s\n", static_cast<int>(message.size()), message.data());
}

// CPUs this process may run on, as an EAL cpuset such as "(0,1)".
std::string AllowedCpuSet() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::string cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) absl::StrAppend(&cpus, cpus.empty() ? "" : ",", cpu);
    }
  }
  return absl::StrCat("(", cpus.empty() ? "0" : cpus, ")");
}

std::vector<std::string> ReplayEalArguments(const SensorOptions& options) {
  // One lcore for the control thread, one per worker, and an RX lcore that spreads the
  // capture when there are several workers. They float over the allowed CPUs, so replay
  // works with more lcores than cores.
  const uint32_t lcores = 1 + options.workers + (options.workers > 1 ? 1 : 0);
  std::vector<std::string> arguments = {
      "sensor",
      "--no-huge",
      "--no-pci",
      "-m",
      absl::StrCat(options.memory_mb),
      // A prefix of its own so that several replays (and tests) can run at once.
      absl::StrCat("--file-prefix=sensor-replay-", getpid()),
      absl::StrCat("--lcores=(0-", lcores - 1, ")@", AllowedCpuSet()),
      absl::StrCat("--vdev=net_pcap0,rx_pcap=", options.pcap),
      absl::StrCat("--log-level=", options.log_level == "debug" ? "notice" : "error"),
  };
  if (!options.user.empty()) {
    // No files in the runtime directory, so RemoveRuntimeDirectory() can delete it before
    // the privilege drop: the unprivileged user could not delete it from /var/run/dpdk.
    arguments.push_back("--no-shconf");
    arguments.push_back("--no-telemetry");
  }
  return arguments;
}

// Deletes the EAL runtime directory of a --no-shconf replay, which contains no files.
void RemoveRuntimeDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(rte_eal_get_runtime_dir(), ignored);
}

// Timestamp shift from one replay pass to the next: the capture's time span plus
// `gap_ns`, so the next pass starts after the previous one ends and packet time never
// runs backwards.
uint64_t PassShiftNs(const CaptureScan& capture, uint64_t gap_ns) {
  const uint64_t span = capture.latest_ns > capture.first_ns ? capture.latest_ns - capture.first_ns
                                                             : 0;
  return span + gap_ns;
}

// Passes whose shifted timestamps stay below 1.8e19 ns (in the year 2540): packet times
// are unsigned 64-bit nanoseconds since 1970, which end in 2554, and timers are added to
// them. Only a capture that spans years, looped for a long time, reaches that limit.
uint64_t MaxPasses(const CaptureScan& capture, uint64_t shift_ns) {
  constexpr uint64_t kLastRepresentableNs = 18'000'000'000'000'000'000u;
  if (capture.latest_ns >= kLastRepresentableNs) return 1;
  return (kLastRepresentableNs - capture.latest_ns) / shift_ns + 1;
}

std::string ForConsole(std::string_view text) { return ctl::ForTerminal(text); }

std::string Endpoint(const dp::IpAddress& address, uint16_t port) {
  return address.IsV4() ? absl::StrCat(ctl::FormatAddress(address), ":", port)
                        : absl::StrCat("[", ctl::FormatAddress(address), "]:", port);
}

// True if both paths exist and name the same file, so an output would overwrite an input.
bool SameFile(const std::string& a, const std::string& b) {
  struct stat first;
  struct stat second;
  return !a.empty() && !b.empty() && stat(a.c_str(), &first) == 0 &&
         stat(b.c_str(), &second) == 0 && first.st_dev == second.st_dev &&
         first.st_ino == second.st_ino;
}

// " AS3320 Deutsche Telekom AG, DE" or "" when the databases know nothing of `address`.
std::string GeoSuffix(const ctl::GeoIp* geoip, const dp::IpAddress& address) {
  if (geoip == nullptr) return "";
  const ctl::GeoResult geo = geoip->Lookup(address);
  std::string text;
  if (geo.as_number) {
    absl::StrAppend(&text, " AS", *geo.as_number, " ", ForConsole(geo.as_organization));
  }
  std::string place = ForConsole(geo.city_name);
  if (!geo.country_iso_code.empty()) {
    absl::StrAppend(&place, place.empty() ? "" : " ", ForConsole(geo.country_iso_code));
  }
  if (!place.empty()) absl::StrAppend(&text, text.empty() ? " " : ", ", place);
  return text.empty() ? "" : absl::StrCat(" (", absl::StripLeadingAsciiWhitespace(text), ")");
}

std::string AlertLine(const ctl::AlertSummary& alert, const ctl::GeoIp* geoip) {
  const dp::AlertRecord& record = *alert.alert;
  const dp::FlowTuple& tuple = record.tuple;
  std::string flow_counts;
  if (alert.flow != nullptr) {
    flow_counts = absl::StrFormat(" flow=%dp/%dB", alert.flow->packets[0] + alert.flow->packets[1],
                                  alert.flow->bytes[0] + alert.flow->bytes[1]);
  }
  std::string object;
  if (!alert.attribute->object_name.empty()) {
    object = absl::StrCat(" [", ForConsole(alert.attribute->object_name), "/",
                          ForConsole(alert.attribute->object_relation), "]");
  }
  std::string seen;
  if (record.source != dp::MatchSource::kAddress) {
    seen = absl::StrCat(" in ", ToAbsl(ctl::MatchSourceName(record.source)));
  }
  if (record.observed_length > 0) {
    absl::StrAppend(&seen, " \"",
                    ForConsole(std::string_view(record.observed, record.observed_length)),
                    "\"");
  }
  return absl::StrFormat(
      "ALERT %s %s %s%s -> %s%s %s %s%s%s (misp event %s \"%s\", tlp:%s)%s\n",
      ctl::FormatTimestamp(record.packet_time_ns), ctl::TransportName(tuple.protocol),
      Endpoint(tuple.src, tuple.src_port), GeoSuffix(geoip, tuple.src),
      Endpoint(tuple.dst, tuple.dst_port), GeoSuffix(geoip, tuple.dst),
      ForConsole(alert.attribute->type), ForConsole(alert.entry->matched_value), object, seen,
      ForConsole(alert.event->id.empty() ? alert.event->uuid : alert.event->id),
      ForConsole(alert.event->info), ctl::TlpName(alert.entry->tlp), flow_counts);
}

int RunDataplane(const SensorOptions& options, bool replay) {
  if (options.log_level == "error") ctl::SetLogLevel(ctl::LogLevel::kError);
  if (options.log_level == "warn") ctl::SetLogLevel(ctl::LogLevel::kWarn);
  if (options.log_level == "debug") ctl::SetLogLevel(ctl::LogLevel::kDebug);

  absl::StatusOr<ctl::CompileOptions> compiled_options = CompileOptionsFrom(options);
  if (!compiled_options.ok()) {
    PrintError(compiled_options.status().message());
    return kExitUsage;
  }
  ctl::CompileOptions compile_options = *compiled_options;
  const std::optional<ctl::Tlp> alerts_max_tlp = ctl::TlpFromName(options.alerts_max_tlp);
  if (!alerts_max_tlp) {
    PrintError(absl::StrCat("invalid --alerts-max-tlp '", options.alerts_max_tlp,
                            "': use clear, green, amber, amber+strict or red"));
    return kExitUsage;
  }

  if (absl::Status status = AlertOutputs::Validate(options); !status.ok()) {
    PrintError(status.message());
    return status.code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  if (absl::Status status = FlowExport::Validate(options.flow_export); !status.ok()) {
    PrintError(status.message());
    return kExitUsage;
  }
  if (absl::Status status = LiveControl::Validate(options.control); !status.ok()) {
    PrintError(status.message());
    return kExitUsage;
  }

  std::optional<RunAsUser> run_as;
  if (!options.user.empty()) {
    absl::StatusOr<RunAsUser> user = ResolveRunAsUser(options.user);
    if (!user.ok()) {
      PrintError(user.status().message());
      return user.status().code() == absl::StatusCode::kInvalidArgument ? kExitUsage
                                                                          : kExitFailure;
    }
    run_as = *user;
  }

  // Handlers first, so a signal during loading still ends the run cleanly.
  InstallSignalHandlers();
  std::vector<const std::string*> inputs = {&options.pcap};
  for (const std::string& source : options.misp) inputs.push_back(&source);
  for (const std::string* output : {&options.alerts, &options.stats_json}) {
    for (const std::string* input : inputs) {
      if (SameFile(*output, *input)) {
        PrintError(absl::StrCat("output ", *output, " is the input ", *input,
                                "; writing it would destroy the input"));
        return kExitUsage;
      }
    }
  }
  if (!options.stats_json.empty()) {
    // Fail now rather than after the whole replay if the statistics cannot be written.
    struct stat existing;
    const bool existed = stat(options.stats_json.c_str(), &existing) == 0;
    std::ofstream probe(options.stats_json, std::ios::app);
    if (!probe) {
      PrintError(absl::StrCat("cannot write statistics to ", options.stats_json, ": ",
                              std::strerror(errno)));
      return kExitUsage;
    }
    probe.close();
    if (!existed) std::remove(options.stats_json.c_str());
  }
  // Before any other thread starts, because creating the socket sets the umask.
  LiveControl control;
  ControlOptions control_options = options.control;
  if (run_as) control_options.run_as_uid = run_as->uid;
  if (absl::Status status = control.Open(control_options, replay); !status.ok()) {
    PrintError(status.message());
    return kExitFailure;
  }

  absl::StatusOr<std::optional<ctl::WarninglistIndex>> warninglists =
      LoadWarninglistFolder(options.warninglists);
  if (!warninglists.ok()) {
    PrintError(warninglists.status().message());
    return kExitFailure;
  }
  if (warninglists->has_value()) compile_options.warninglists = &**warninglists;

  absl::StatusOr<std::unique_ptr<misp::MispSync>> misp_sync = CreateMispSync(options);
  if (!misp_sync.ok()) {
    PrintError(misp_sync.status().message());
    return misp_sync.status().code() == absl::StatusCode::kInvalidArgument ? kExitUsage
                                                                            : kExitFailure;
  }
  (*misp_sync)->set_abort_flag(&StopRequested());
  absl::StatusOr<misp::LoadResult> loaded = SyncMispSources(**misp_sync);
  if (!loaded.ok()) {
    PrintError(loaded.status().message());
    return kExitFailure;
  }
  const uint64_t initial_fingerprint = ctl::IntelReloader::Fingerprint(*loaded);
  ctl::CompileResult compiled = ctl::CompileIndicators(std::move(*loaded), compile_options, 1);
  PrintProblems(compiled.stats.errors, "problems in the MISP input");
  if (compiled.stats.loaded() == 0 && !compiled.stats.errors.empty()) {
    PrintError(absl::StrCat("no indicator could be loaded from ",
                            JoinMispSources(options),
                            "; the problems above name the files"));
    return kExitFailure;
  }
  std::string by_type;
  for (const auto& [type, count] : compiled.stats.loaded_by_type) {
    absl::StrAppend(&by_type, " ", type, "=", count);
  }
  std::printf("indicators: %llu loaded from %llu events (%s ), %llu rejected, %llu not to_ids\n",
              static_cast<unsigned long long>(compiled.stats.loaded()),
              static_cast<unsigned long long>(compiled.stats.events),
              by_type.empty() ? " none" : by_type.c_str(),
              static_cast<unsigned long long>(compiled.stats.rejected),
              static_cast<unsigned long long>(compiled.stats.skipped_not_ids));

  CaptureScan capture;
  std::vector<std::string> eal_arguments;
  if (replay) {
    if (options.pcap.find_first_of(",=") != std::string::npos) {
      PrintError(absl::StrCat("capture path '", options.pcap,
                              "' contains ',' or '=', which DPDK device arguments cannot carry; "
                              "rename or link the file"));
      return kExitUsage;
    }
    absl::StatusOr<CaptureScan> scan = ScanCapture(options.pcap);
    if (!scan.ok()) {
      PrintError(scan.status().message());
      return kExitFailure;
    }
    capture = *scan;
    if (capture.damaged) {
      PrintError(
          absl::StrFormat("capture %s is damaged after packet %d (%s); replaying the %d "
                          "packets before the damage",
                          options.pcap, capture.packets, capture.damage, capture.packets));
    }
    eal_arguments = ReplayEalArguments(options);
  } else {
    eal_arguments = {"sensor"};
    for (absl::string_view argument :
         absl::StrSplit(options.eal_args, ' ', absl::SkipWhitespace())) {
      eal_arguments.emplace_back(argument);
    }
  }

  // Set before DPDK starts its threads, which inherit it.
  if (run_as) {
    if (absl::Status status = SetNoNewPrivileges(); !status.ok()) {
      PrintError(status.message());
      return kExitFailure;
    }
  }
  if (absl::Status status = InitEal(eal_arguments); !status.ok()) {
    PrintError(status.message());
    return kExitFailure;
  }
  const int exit_status = [&]() -> int {
    if (!rte_eth_dev_is_valid_port(options.port)) {
      const uint16_t ports = rte_eth_dev_count_avail();
      PrintError(absl::StrCat("DPDK port ", options.port, " does not exist; EAL found ", ports,
                              ports == 1 ? " port" : " ports",
                              ": check --port and the devices in --eal (-a, --vdev)"));
      return kExitFailure;
    }
    const uint64_t version = compiled.snapshot->version;
    std::shared_ptr<const ctl::IndicatorTable> table = compiled.snapshot->indicators;
    absl::StatusOr<std::unique_ptr<ctl::SnapshotPublisher>> publisher =
        ctl::SnapshotPublisher::Create(options.workers, std::move(compiled.snapshot));
    if (!publisher.ok()) {
      PrintError(publisher.status().message());
      return kExitFailure;
    }

    AlertOutputs outputs;
    if (absl::Status status = outputs.Open(options); !status.ok()) {
      PrintError(status.message());
      return kExitFailure;
    }
    std::unique_ptr<ctl::GeoIp> geoip;
    if (!options.geoip_city.empty() || !options.geoip_asn.empty()) {
      absl::StatusOr<std::unique_ptr<ctl::GeoIp>> opened =
          ctl::GeoIp::Open(options.geoip_city, options.geoip_asn);
      if (!opened.ok()) {
        PrintError(opened.status().message());
        return kExitFailure;
      }
      geoip = std::move(*opened);
    }
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    ctl::AlertPipelineOptions pipeline_options;
    pipeline_options.sinks = outputs.bindings();
    pipeline_options.observer_name = host;
    pipeline_options.geoip = geoip.get();
    pipeline_options.dedup_window_ns = static_cast<uint64_t>(options.dedup_window_s * 1e9);
    pipeline_options.rate_limit_per_minute = options.rate_limit_per_minute;
    ctl::AlertPipeline pipeline(std::move(pipeline_options));
    pipeline.AddSnapshot(version, table);
    uint32_t printed = 0;
    pipeline.set_on_alert([&](const ctl::AlertSummary& alert) {
      if (printed++ < options.print_alerts) {
        std::fputs(AlertLine(alert, geoip.get()).c_str(), stdout);
      }
    });

    EngineOptions engine_options;
    engine_options.port = options.port;
    engine_options.workers = options.workers;
    engine_options.replay = replay;
    engine_options.capture_packets = capture.packets;
    engine_options.speed = options.speed;
    engine_options.flows.capacity = options.flow_capacity;
    engine_options.flows.idle_timeout_ns = static_cast<uint64_t>(options.idle_timeout_s * 1e9);
    engine_options.flows.alert_delay_ns = static_cast<uint64_t>(options.alert_delay_s * 1e9);
    // Passes are further apart than any flow timeout, so every flow of one pass has
    // ended when the next begins. The pacer does not wait for that gap.
    engine_options.pass_gap_ns = std::max(engine_options.flows.idle_timeout_ns,
                                          engine_options.flows.closed_timeout_ns) +
                                 1'000'000'000;
    engine_options.pass_shift_ns = PassShiftNs(capture, engine_options.pass_gap_ns);
    engine_options.replay_passes = options.loop;
    const uint64_t max_passes = MaxPasses(capture, engine_options.pass_shift_ns);
    const bool passes_capped = replay && (options.loop == 0 || options.loop > max_passes);
    if (passes_capped) engine_options.replay_passes = max_passes;
    engine_options.stop = &StopRequested();
    engine_options.sessions = options.sessions;
    engine_options.stream_depth = options.stream_depth;
    engine_options.rx_descriptors = options.rx_descriptors;
    engine_options.mbufs = options.mbufs;
    if (const dp::Snapshot* current = (*publisher)->current(); current->patterns != nullptr) {
      engine_options.stream_state_bytes = current->patterns->stream_state_bytes();
    }
    ctl::ResolvedWatchOptions resolved_options;
    // Replay publishes each change at once, because workers wait for it (packet time).
    if (replay) resolved_options.min_publish_interval = std::chrono::milliseconds(0);
    ctl::ResolvedWatch resolved(resolved_options, publisher->get(), &pipeline);
    pipeline.set_on_resolved(
        [&](const dp::ResolvedRecord& record) { resolved.OnResolved(record); });
    FlowExport flow_export;
    if (absl::Status status = flow_export.Open(options.flow_export, replay); !status.ok()) {
      PrintError(status.message());
      return kExitFailure;
    }
    flow_export.Attach(pipeline, engine_options);
    control.Attach(pipeline, engine_options);
    absl::StatusOr<std::unique_ptr<Engine>> engine =
        Engine::Create(engine_options, publisher->get());
    if (!engine.ok()) {
      PrintError(engine.status().message());
      return kExitFailure;
    }
    if (!replay) PrintStartupSelfCheck(**engine, options);
    // Everything that needs root is open now: DPDK and the port, the control socket, the
    // alert outputs with their key files, the flow export socket and the statistics file.
    std::ofstream stats_out;
    if (run_as) {
      if (!options.stats_json.empty()) {
        stats_out.open(options.stats_json, std::ios::trunc);
        if (!stats_out) {
          PrintError(absl::StrCat("cannot write statistics to ", options.stats_json, ": ",
                                  std::strerror(errno)));
          return kExitFailure;
        }
      }
      if (replay) RemoveRuntimeDirectory();
      if (absl::Status status = DropPrivileges(*run_as, !replay); !status.ok()) {
        PrintError(status.message());
        return kExitFailure;
      }
    }
    // Publishing drains the record rings while it waits, so that no worker waiting for
    // ring room delays the grace period (see SnapshotPublisher::set_wait_work).
    (*publisher)->set_wait_work([&] { return (*engine)->DrainRecords(pipeline); });
    misp::MispSync* sync = misp_sync->get();
    ctl::IntelReloader reloader([sync] { return SyncMispSources(*sync); }, compile_options,
                                publisher->get(), &pipeline, &resolved);
    reloader.set_initial_fingerprint(initial_fingerprint);
    control.Bind({.mode = replay ? "replay" : "run",
                  .engine = engine->get(),
                  .pipeline = &pipeline,
                  .sink_names = SinkNames(outputs.bindings()),
                  .reloader = &reloader,
                  .publisher = publisher->get(),
                  .resolved = &resolved,
                  .initial_compile = &compiled.stats,
                  .warninglists = compile_options.warninglists,
                  .misp_sources = [sync] { return sync->status().Read(); },
                  .misp_sightings = outputs.sightings_stats()
                                        ? std::function<misp::SightingsStats()>(
                                              [&outputs] { return *outputs.sightings_stats(); })
                                        : nullptr});
    const auto reload_interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(options.reload_interval_s));
    auto next_reload = std::chrono::steady_clock::now() + reload_interval;
    const auto on_tick = [&] {
      pipeline.RemoveRetiredSnapshots();
      if (TakeReloadRequest()) reloader.Request("SIGHUP");
      if (options.reload_interval_s > 0 && std::chrono::steady_clock::now() >= next_reload) {
        next_reload = std::chrono::steady_clock::now() + reload_interval;
        if (!reloader.busy()) reloader.Request("interval");
      }
      reloader.Tick();
      resolved.Tick();
      outputs.Tick();
      flow_export.Tick();
      control.Tick();
    };
    if (absl::Status status = (*engine)->Run(pipeline, on_tick); !status.ok()) {
      PrintError(status.message());
      return kExitFailure;
    }
    pipeline.Finish();
    outputs.Drain();
    flow_export.Finish();
    control.Close();
    if (printed > options.print_alerts) {
      std::printf("... %u more alerts in %s\n", printed - options.print_alerts,
                  options.alerts.c_str());
    }

    const EngineReport report = (*engine)->Report();
    RunSummary summary;
    summary.mode = replay ? "replay" : "run";
    summary.capture = replay ? &capture : nullptr;
    summary.capture_path = options.pcap;
    summary.indicators =
        reloader.stats().published > 0 ? &reloader.stats().compile : &compiled.stats;
    summary.reloads = &reloader.stats();
    summary.alerts = &pipeline.stats();
    summary.engine = &report;
    summary.alerts_path = options.alerts;
    outputs.FillSummary(pipeline.stats(), summary);
    flow_export.FillSummary(summary);
    std::fputs(FormatStatsText(summary).c_str(), stdout);
    if (!options.stats_json.empty()) {
      std::ofstream out;
      if (!stats_out.is_open()) out.open(options.stats_json, std::ios::trunc);
      std::ofstream& stats_stream = stats_out.is_open() ? stats_out : out;
      stats_stream << FormatStatsJson(summary);
      stats_stream.flush();
      if (!stats_stream) {
        PrintError(absl::StrCat("cannot write statistics to ", options.stats_json));
        return kExitFailure;
      }
    }
    if (passes_capped && report.replay_passes == max_passes && !StopRequested().load()) {
      PrintError(absl::StrCat("replay ended after ", max_passes, " passes, because later "
                              "passes would carry timestamps after the year 2540"));
    }
    if (report.replay_restart_error != 0) {
      PrintError(absl::StrCat("replay stopped after pass ", report.replay_passes,
                              ": cannot restart the capture device for the next pass: ",
                              rte_strerror(report.replay_restart_error)));
    }
    if (report.mbufs_in_use_at_exit != 0) {
      PrintError(absl::StrCat(report.mbufs_in_use_at_exit, " mbufs were not returned"));
    }
    if (pipeline.stats().sink_errors != 0) return kExitFailure;
    if (report.replay_restart_error != 0) return kExitFailure;
    return replay && capture.damaged ? kExitDamagedInput : kExitOk;
  }();
  std::fflush(stdout);
  CleanupEal();
  return exit_status;
}

}  // namespace

absl::Status CheckOptions(const SensorOptions& options, bool replay) {
  if (absl::StatusOr<ctl::CompileOptions> compile = CompileOptionsFrom(options); !compile.ok()) {
    return compile.status();
  }
  if (absl::Status status = AlertOutputs::Validate(options); !status.ok()) return status;
  if (absl::Status status = FlowExport::Validate(options.flow_export); !status.ok()) {
    return status;
  }
  if (absl::Status status = LiveControl::Validate(options.control); !status.ok()) return status;
  // Files the sensor creates need an existing directory. In live mode the service manager
  // may create the control socket's directory (RuntimeDirectory=), so only replay checks it.
  const auto directory_exists = [](const std::string& option, const std::string& file) {
    if (file.empty()) return absl::OkStatus();
    std::filesystem::path directory = std::filesystem::path(file).parent_path();
    if (directory.empty()) directory = ".";
    std::error_code error;
    if (std::filesystem::is_directory(directory, error)) return absl::OkStatus();
    return absl::NotFoundError(absl::StrCat("invalid ", option, " ", file, ": directory ",
                                            directory.string(), " does not exist"));
  };
  const std::string ctl_socket_checked = replay ? options.control.ctl_socket : std::string();
  for (const auto& [option, file] :
       {std::pair<const char*, const std::string*>{"--alerts", &options.alerts},
        {"--stats-json", &options.stats_json},
        {"--ctl-socket", &ctl_socket_checked}}) {
    if (absl::Status status = directory_exists(option, *file); !status.ok()) return status;
  }
  for (const std::string& source : options.misp) {
    if (source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0) continue;
    if (!std::filesystem::exists(source)) {
      return absl::NotFoundError(absl::StrCat("MISP source ", source, " does not exist"));
    }
  }
  // Checks the URLs, filters and API key file; nothing is fetched.
  if (absl::StatusOr<std::unique_ptr<misp::MispSync>> sync = CreateMispSync(options);
      !sync.ok()) {
    return sync.status();
  }
  if (!replay) {
    if (absl::Status status =
            CheckRunPlacement(options.eal_args, options.workers, options.port, RTE_MAX_ETHPORTS);
        !status.ok()) {
      return status;
    }
  }
  if (!options.user.empty()) {
    // The check runs as any user, so only an unknown account is an error here.
    absl::StatusOr<RunAsUser> user = ResolveRunAsUser(options.user);
    if (!user.ok() && user.status().code() == absl::StatusCode::kInvalidArgument) {
      return user.status();
    }
  }
  if (replay && options.pcap.find_first_of(",=") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "capture path '", options.pcap, "' contains ',' or '=', which DPDK device arguments "
        "cannot carry; rename or link the file"));
  }
  return absl::OkStatus();
}

int RunReplay(const SensorOptions& options) { return RunDataplane(options, /*replay=*/true); }

int RunLive(const SensorOptions& options) { return RunDataplane(options, /*replay=*/false); }

}  // namespace sensor
