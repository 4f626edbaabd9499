// Command line of the sensor daemon: parses arguments and dispatches to a mode.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "sensor/sensor_main.h"

namespace {

void AddIntelligenceOptions(CLI::App& command, sensor::SensorOptions& options) {
  command
      .add_option("--misp", options.misp,
                  "MISP intelligence: a feed directory (manifest.json plus <uuid>.json "
                  "events), a single event file, or a saved restSearch response")
      ->required();
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
      ->check(CLI::NonNegativeNumber);
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
      ->check(CLI::PositiveNumber);
  command
      .add_option("--alert-delay", options.alert_delay_s,
                  "Seconds after its first match that a long flow's alert is written "
                  "with the counts so far, if the flow has not ended")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command
      .add_option("--sessions", options.sessions,
                  "Flows per worker that can hold payload state at once (pattern streams, "
                  "TLS and HTTP reassembly, 16 KiB each)")
      ->capture_default_str()
      ->check(CLI::Range(16, 1 << 20));
  command
      .add_option("--stream-depth", options.stream_depth,
                  "Bytes per TCP direction scanned for payload patterns")
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Threat-intelligence packet sensor: matches traffic against MISP indicators with DPDK "
      "workers and writes alerts as NDJSON (Elastic Common Schema)."};
  app.require_subcommand(1);
  sensor::SensorOptions options;

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
      ->check(CLI::NonNegativeNumber);
  replay->add_option("--memory", options.memory_mb, "DPDK memory in MB (no hugepages)")
      ->capture_default_str()
      ->check(CLI::Range(64, 65536));
  AddIntelligenceOptions(*replay, options);
  AddOutputOptions(*replay, options);
  AddDataplaneOptions(*replay, options);

  CLI::App* run = app.add_subcommand(
      "run", "Run on live ports: one worker per RX queue of the port, symmetric RSS");
  run->add_option("--eal", options.eal_args,
                  "DPDK EAL arguments, for example \"-l 0-4 -a 0000:3b:00.0\"")
      ->required();
  run->add_option("--port", options.port, "DPDK port id to receive from")->capture_default_str();
  AddIntelligenceOptions(*run, options);
  AddOutputOptions(*run, options);
  AddDataplaneOptions(*run, options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? sensor::kExitOk : sensor::kExitUsage;
  }
  if (replay->parsed()) return sensor::RunReplay(options);
  return sensor::RunLive(options);
}
