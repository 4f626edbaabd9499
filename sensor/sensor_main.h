// The sensor's modes: replay a capture through the dataplane, or run on live ports.
//
// Main thread only. Each returns the process exit status.
#pragma once

#include <cstdint>
#include <string>

namespace sensor {

struct SensorOptions {
  // Intelligence.
  std::string misp;  // Feed directory, event file or restSearch response.
  bool include_non_ids = false;
  std::string warninglists;  // Folder with lists/<name>/list.json, as MISP ships them.
  std::string default_tlp = "amber";
  int min_prefix_v4 = 8;
  int min_prefix_v6 = 24;

  // Outputs.
  std::string alerts = "alerts.ndjson";
  std::string stats_json;
  bool fsync_alerts = false;
  uint32_t print_alerts = 20;  // Alert lines shown on the console.
  std::string alerts_max_tlp = "red";
  double dedup_window_s = 0;
  uint32_t rate_limit_per_minute = 0;
  std::string geoip_city;
  std::string geoip_asn;

  // Dataplane.
  uint32_t workers = 1;
  uint32_t flow_capacity = 1 << 16;
  double idle_timeout_s = 60;
  double alert_delay_s = 10;
  uint32_t sessions = 2048;
  uint64_t stream_depth = 1 << 20;

  // Replay.
  std::string pcap;
  double speed = 0;
  uint32_t memory_mb = 256;

  // Live.
  std::string eal_args;
  uint16_t port = 0;

  std::string log_level = "info";
};

// Exit statuses shared by the modes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;       // Setup failed; nothing was processed.
inline constexpr int kExitUsage = 2;         // Invalid command line.
inline constexpr int kExitDamagedInput = 3;  // Processed up to damage in the capture.

int RunReplay(const SensorOptions& options);
int RunLive(const SensorOptions& options);

}  // namespace sensor
