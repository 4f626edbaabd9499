// Command line of the sensor daemon: parses arguments and dispatches to a mode.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "sensor/alert_outputs.h"
#include "sensor/cli_checks.h"
#include "sensor/config.h"
#include "sensor/misp_sources.h"
#include "sensor/sensor_main.h"
#include "sensor/self_check_probe.h"

namespace {

void AddIntelligenceOptions(CLI::App& command, sensor::SensorOptions& options) {
  command
      .add_option("--misp", options.misp,
                  "MISP intelligence: a feed directory (manifest.json plus <uuid>.json "
                  "events), a single event file, a saved restSearch response, or the URL "
                  "of a feed (its directory or manifest.json); repeat the option to merge "
                  "several sources. Give --misp, --misp-rest or both")
      ->allow_extra_args(false)
      ->take_all();
  sensor::AddMispSyncOptions(command, options);
  command
      .add_option("--reload-interval", options.reload_interval_s,
                  "Seconds between reloads of the MISP sources while running (0: only on "
                  "SIGHUP); workers switch to the new indicators without stopping")
      ->capture_default_str()
      ->check(sensor::Seconds());
  command.add_option("--warninglists", options.warninglists,
                     "MISP warninglists folder (lists/<name>/list.json); attributes that hit "
                     "a list are not loaded, and counted per list")
      ->check(CLI::ExistingDirectory);
  command.add_flag("--include-non-ids", options.include_non_ids,
                   "Also alert on attributes whose to_ids flag is false");
  command
      .add_option("--default-tlp", options.default_tlp,
                  "TLP given to intelligence without a TLP tag: clear, green, amber, "
                  "amber+strict or red")
      ->capture_default_str();
  command
      .add_option("--min-prefix-v4", options.min_prefix_v4,
                  "Reject IPv4 indicators broader than this prefix length")
      ->capture_default_str()
      ->check(CLI::Range(1, 32));
  command
      .add_option("--min-prefix-v6", options.min_prefix_v6,
                  "Reject IPv6 indicators broader than this prefix length")
      ->capture_default_str()
      ->check(CLI::Range(1, 128));
}

void AddOutputOptions(CLI::App& command, sensor::SensorOptions& options) {
  command.add_option("--alerts", options.alerts, "NDJSON file that alerts are appended to")
      ->capture_default_str();
  command.add_option("--stats-json", options.stats_json,
                     "Also write the final statistics as JSON to this file");
  command.add_flag("--fsync-alerts", options.fsync_alerts,
                   "fsync the alert file after each batch of alerts");
  command
      .add_option("--print-alerts", options.print_alerts,
                  "Number of alerts also printed on standard output (0 for none)")
      ->capture_default_str();
  command
      .add_option("--alerts-max-tlp", options.alerts_max_tlp,
                  "Highest TLP written to the alert file: clear, green, amber, "
                  "amber+strict or red; alerts above it are counted, not written")
      ->capture_default_str();
  command
      .add_option("--dedup-window", options.dedup_window_s,
                  "Seconds (packet time) during which repeats of an alert for the same "
                  "attribute, source and destination are held back and summarised; 0 is off")
      ->capture_default_str()
      ->check(sensor::Seconds());
  command
      .add_option("--rate-limit", options.rate_limit_per_minute,
                  "Alerts per attribute and minute (packet time) before the rest are held "
                  "back and summarised; 0 is unlimited")
      ->capture_default_str();
  command
      .add_option("--geoip-city", options.geoip_city,
                  "MaxMind City or Country database (.mmdb) for source/destination.geo")
      ->check(CLI::ExistingFile);
  command
      .add_option("--geoip-asn", options.geoip_asn,
                  "MaxMind ASN database (.mmdb) for source/destination.as")
      ->check(CLI::ExistingFile);
  command.add_option("--log-level", options.log_level, "error, warn, info or debug")
      ->capture_default_str()
      ->check(CLI::IsMember({"error", "warn", "info", "debug"}));
}

void AddUserOption(CLI::App& command, sensor::SensorOptions& options) {
  command.add_option("--user", options.user,
                     "Once DPDK, the control socket and the output and key files are set "
                     "up as root, switch to this user, its group and supplementary groups, "
                     "and keep only the capabilities the mode needs");
}

void AddDataplaneOptions(CLI::App& command, sensor::SensorOptions& options) {
  // DPDK is built for 128 lcores; the control lcore and the replay RX lcore need two.
  command.add_option("--workers", options.workers, "Number of worker lcores")
      ->capture_default_str()
      ->check(CLI::Range(1, 126));
  command
      .add_option("--flow-capacity", options.flow_capacity,
                  "Flows tracked per worker (rounded up to a power of two)")
      ->capture_default_str()
      ->check(CLI::Range(64, 1 << 26));
  command
      .add_option("--idle-timeout", options.idle_timeout_s,
                  "Seconds without packets after which a flow ends")
      ->capture_default_str()
      ->check(sensor::Seconds(/*zero_allowed=*/false));
  command
      .add_option("--alert-delay", options.alert_delay_s,
                  "Seconds after its first match that a long flow's alert is written "
                  "with the counts so far, if the flow has not ended")
      ->capture_default_str()
      ->check(sensor::Seconds());
  command
      .add_option("--sessions", options.sessions,
                  "Flows per worker that can hold payload state at once (pattern streams, "
                  "TLS and HTTP reassembly, about 21 KiB each)")
      ->capture_default_str()
      ->check(CLI::Range(16, 1 << 20));
  command
      .add_option("--stream-depth", options.stream_depth,
                  "Bytes per TCP direction scanned for payload patterns")
      ->capture_default_str();
}

// The command tree; CLI11 binds options to `options`, so both live as long as this.
struct Commands {
  CLI::App app{
      "Threat-intelligence packet sensor: matches traffic against MISP indicators with DPDK "
      "workers and writes alerts as NDJSON (Elastic Common Schema)."};
  CLI::App* replay = nullptr;
  CLI::App* run = nullptr;
  CLI::App* es_template = nullptr;
  CLI::App* explain = nullptr;
  CLI::App* check_config = nullptr;
  std::vector<std::string> explain_values;
  std::string config_path;  // Shown in help only: main() takes --config out itself.
  std::string check_file;
  std::string check_mode = "run";
};

void AddConfigOption(CLI::App& command, Commands& commands) {
  command.add_option("--config", commands.config_path,
                     "YAML configuration file; its keys are these options without the "
                     "leading -- and the command line wins over it");
}

void BuildCommands(Commands& commands, sensor::SensorOptions& options) {
  CLI::App& app = commands.app;
  app.require_subcommand(1);

  CLI::App* replay = app.add_subcommand(
      "replay",
      "Replay a pcap or pcapng capture through the dataplane (net_pcap device, no hugepages) "
      "and exit at its end");
  replay->add_option("--pcap", options.pcap, "Capture file to replay")
      ->required()
      ->check(CLI::ExistingFile);
  replay
      ->add_option("--speed", options.speed,
                   "Pace at this multiple of the recorded rate (0: as fast as possible)")
      ->capture_default_str()
      ->check(sensor::Speed());
  replay
      ->add_option("--loop", options.loop,
                   "Replay the capture this many times (0: until SIGINT or SIGTERM); each "
                   "pass is shifted in time to follow the previous one")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            // CLI11 would read a negative count as a huge unsigned one.
            return !value.empty() && value[0] == '-' ? "invalid pass count " + value +
                                                           ": use 0 (until stopped) or more"
                                                     : "";
          },
          "", "non-negative"));
  replay->add_option("--memory", options.memory_mb, "DPDK memory in MB (no hugepages)")
      ->capture_default_str()
      ->check(CLI::Range(64, 65536));
  AddConfigOption(*replay, commands);
  AddIntelligenceOptions(*replay, options);
  AddOutputOptions(*replay, options);
  sensor::AddAlertOutputOptions(*replay, options);
  AddDataplaneOptions(*replay, options);
  sensor::AddFlowExportOptions(*replay, options.flow_export);
  sensor::AddControlOptions(*replay, options.control, /*live=*/false);
  AddUserOption(*replay, options);
  commands.replay = replay;

  CLI::App* run = app.add_subcommand(
      "run",
      "Run on live ports: one worker per RX queue of the port, symmetric RSS. `sensor "
      "self-check` takes the same options and only prints the start-up self-check");
  run->add_option("--eal", options.eal_args,
                  "DPDK EAL arguments, for example \"-l 0-4 -a 0000:3b:00.0\"")
      ->required();
  run->add_option("--port", options.port, "DPDK port id to receive from")->capture_default_str();
  run->add_option("--rx-descriptors", options.rx_descriptors,
                  "RX ring size: descriptors per RX queue (the driver may round it)")
      ->capture_default_str()
      ->check(CLI::Range(64, 32768));
  run->add_option("--mbufs", options.mbufs,
                  "Packet buffers in the port's mempool (0: queues x descriptors + lcores x "
                  "(256 cache + 64 burst) + 1024, rounded up to 2^n-1)")
      ->capture_default_str();
  run->add_flag("--self-check", options.self_check_only,
                "Print the port, queue, lcore and NUMA map and the tuning warnings, then "
                "exit: 0 without warnings, 1 with warnings");
  AddConfigOption(*run, commands);
  AddIntelligenceOptions(*run, options);
  AddOutputOptions(*run, options);
  sensor::AddAlertOutputOptions(*run, options);
  AddDataplaneOptions(*run, options);
  sensor::AddFlowExportOptions(*run, options.flow_export);
  sensor::AddControlOptions(*run, options.control, /*live=*/true);
  AddUserOption(*run, options);
  commands.run = run;

  commands.es_template = app.add_subcommand(
      "es-template",
      "Install the index template with the ECS mapping of the alerts in Elasticsearch");
  sensor::AddEsTemplateOptions(*commands.es_template, options);

  commands.explain = app.add_subcommand(
      "explain",
      "Show which indicators match each value (address, address|port, domain, URL or "
      "payload text) and which ones warninglists removed");
  commands.explain->add_option("values", commands.explain_values, "Values to look up")
      ->required();
  AddIntelligenceOptions(*commands.explain, options);

  commands.check_config = app.add_subcommand(
      "check-config",
      "Check a YAML configuration file without starting: every error is printed with its "
      "file:line");
  commands.check_config->add_option("file", commands.check_file, "Configuration file")
      ->required();
  commands.check_config
      ->add_option("--mode", commands.check_mode, "Mode the file is for: run or replay")
      ->capture_default_str()
      ->check(CLI::IsMember({"run", "replay"}));
}

// Parses `arguments` (without the program name), merging a --config file into the
// mode's options. Returns an exit status when the process should stop now.
std::optional<int> Parse(Commands& commands, std::vector<std::string> arguments,
                         sensor::ConfigArguments& config) {
  std::optional<std::string> config_path = sensor::TakeConfigPath(arguments);
  if (config_path) {
    CLI::App* mode = nullptr;
    if (!arguments.empty() && arguments[0] == "run") mode = commands.run;
    if (!arguments.empty() && arguments[0] == "replay") mode = commands.replay;
    if (mode == nullptr) {
      std::fprintf(stderr, "sensor: --config applies to `sensor run` and `sensor replay` only\n");
      return sensor::kExitUsage;
    }
    std::vector<std::string> given;
    for (const std::string& argument : arguments) {
      if (argument.rfind("--", 0) == 0) given.push_back(argument.substr(0, argument.find('=')));
    }
    config = sensor::ReadConfigFile(*config_path, *mode, given);
    for (const std::string& error : config.errors) {
      std::fprintf(stderr, "sensor: %s\n", error.c_str());
    }
    if (!config.errors.empty()) return sensor::kExitUsage;
    arguments.insert(arguments.begin() + 1, config.arguments.begin(), config.arguments.end());
  }
  std::reverse(arguments.begin(), arguments.end());  // CLI11 takes them last first.
  try {
    commands.app.parse(arguments);
  } catch (const CLI::ParseError& error) {
    if (config_path && error.get_exit_code() != 0) {
      std::fprintf(stderr, "sensor: %s\n",
                   sensor::LocateConfigError(error.what(), config).c_str());
      return sensor::kExitUsage;
    }
    return commands.app.exit(error) == 0 ? sensor::kExitOk : sensor::kExitUsage;
  }
  return std::nullopt;
}

int CheckConfig(const std::string& file, const std::string& mode) {
  sensor::SensorOptions options;
  Commands commands;
  BuildCommands(commands, options);
  sensor::ConfigArguments config;
  if (std::optional<int> status = Parse(commands, {mode, "--config", file}, config)) {
    return *status;
  }
  if (absl::Status status = sensor::CheckOptions(options, mode == "replay"); !status.ok()) {
    const std::string located = sensor::LocateConfigError(std::string(status.message()), config);
    std::fprintf(stderr, "sensor: %s%s\n", located == status.message() ? (file + ": ").c_str() : "",
                 located.c_str());
    return sensor::kExitUsage;
  }
  std::printf("%s: valid configuration for `sensor %s`\n", file.c_str(), mode.c_str());
  return sensor::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  // A SIGHUP from log rotation may arrive while a restarted daemon is still starting: it
  // must not end the process before the modes install their handlers.
  std::signal(SIGHUP, SIG_IGN);
  sensor::SensorOptions options;
  Commands commands;
  BuildCommands(commands, options);
  sensor::ConfigArguments config;
  std::vector<std::string> arguments(argv + 1, argv + argc);
  // `sensor self-check ...` is `sensor run --self-check ...`, so it reads the same file.
  if (!arguments.empty() && arguments[0] == "self-check") {
    arguments[0] = "run";
    arguments.insert(arguments.begin() + 1, "--self-check");
  }
  if (std::optional<int> status = Parse(commands, std::move(arguments), config)) {
    return *status;
  }
  if (commands.replay->parsed()) return sensor::RunReplay(options);
  if (commands.explain->parsed()) return sensor::RunExplain(options, commands.explain_values);
  if (commands.es_template->parsed()) return sensor::RunEsTemplate(options);
  if (commands.check_config->parsed()) {
    return CheckConfig(commands.check_file, commands.check_mode);
  }
  if (options.self_check_only) return sensor::RunSelfCheck(options);
  if (options.state_dir.empty()) options.state_dir = "/var/lib/sensor";
  return sensor::RunLive(options);
}
