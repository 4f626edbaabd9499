// The sensor's modes: replay a capture through the dataplane, or run on live ports.
//
// Main thread only. Each returns the process exit status.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sensor/flow_export.h"
#include "sensor/live_control.h"

namespace sensor {

struct SensorOptions {
  // Intelligence.
  // Feed directories, event files, restSearch responses or feed URLs, merged in this
  // order, before the misp_rest sources.
  std::vector<std::string> misp;
  // MISP sync over HTTP (sensor/misp_sources.h).
  std::vector<std::string> misp_rest;  // MISP base URLs, read with /attributes/restSearch.
  std::string misp_key_file;
  std::string misp_ca;
  bool misp_insecure = false;
  std::vector<std::string> misp_tags;
  bool misp_published_only = false;
  std::string misp_max_age;  // MISP relative time such as "30d"; empty: no limit.
  double misp_connect_timeout_s = 10;
  double misp_timeout_s = 60;
  uint32_t misp_retries = 2;
  uint32_t misp_page_size = 5000;
  std::string state_dir;  // Snapshots of MISP URL sources; empty: none.
  // Sightings of alerted attributes sent back to the --misp-rest instances
  // (sensor/alert_outputs.h).
  bool misp_sightings = false;
  std::string misp_sightings_max_tlp = "amber";
  uint32_t misp_sightings_rate = 600;  // Sightings per minute; 0: no limit.
  uint32_t misp_sightings_batch = 100;
  double misp_sightings_interval_s = 5;
  double misp_sightings_dedup_window_s = 3600;
  double misp_sightings_drain_timeout_s = 10;
  std::string misp_sightings_source;  // Empty: the host name.
  bool include_non_ids = false;
  std::string warninglists;  // Folder with lists/<name>/list.json, as MISP ships them.
  std::string default_tlp = "amber";
  double reload_interval_s = 0;  // Reload the intelligence this often; 0 only on SIGHUP.
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

  // Alert file rotation and durability.
  uint64_t alerts_rotate_size = 0;      // Bytes; 0 is off.
  double alerts_rotate_interval_s = 0;  // 0 is off.
  std::string alerts_fsync;  // none, batch or interval; empty: batch with --fsync-alerts.

  // Elasticsearch output; off while elasticsearch_url is empty.
  std::string elasticsearch_url;
  std::string elasticsearch_key_file;
  std::string elasticsearch_basic_auth_file;
  std::string elasticsearch_ca;
  bool elasticsearch_insecure = false;
  std::string elasticsearch_index = "sensor-alerts-%Y.%m.%d";
  std::string elasticsearch_max_tlp = "red";
  std::string elasticsearch_dead_letter;  // Empty: <alerts>.dead-letter.ndjson.
  bool elasticsearch_no_gzip = false;
  uint32_t elasticsearch_batch_documents = 500;
  uint64_t elasticsearch_batch_bytes = 5 << 20;
  double elasticsearch_flush_interval_s = 1;
  double elasticsearch_timeout_s = 30;
  double elasticsearch_backoff_max_s = 30;
  double elasticsearch_drain_timeout_s = 30;
  std::string spool_dir;  // Empty: <alerts>.spool.
  uint64_t spool_max_bytes = uint64_t{1} << 30;
  std::string spool_fsync = "batch";
  // es-template.
  std::string es_template_name = "sensor-alerts";
  std::string es_template_file;  // Empty: the template compiled into the binary.
  bool es_data_stream = false;

  // Flow export (IPFIX) and the active timeout.
  FlowExportOptions flow_export;

  // Control socket (sensorctl) and Prometheus metrics.
  ControlOptions control;

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
  uint64_t loop = 1;  // Passes over the capture; 0 until SIGINT or SIGTERM.
  uint32_t memory_mb = 256;

  // Live.
  std::string eal_args;
  uint16_t port = 0;
  uint16_t rx_descriptors = 1024;  // Per RX queue.
  uint32_t mbufs = 0;              // Mempool size; 0 computes it (sensor/self_check.h).
  bool self_check_only = false;    // Print the start-up self-check and exit.

  std::string log_level = "info";
  // Account to switch to once everything privileged is open; empty: stay as started.
  std::string user;
};

// Exit statuses shared by the modes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;       // Setup failed; nothing was processed.
inline constexpr int kExitUsage = 2;         // Invalid command line.
inline constexpr int kExitDamagedInput = 3;  // Processed up to damage in the capture.

// Checks what can be checked without starting: option values, output settings and that
// the MISP sources exist. Used by `sensor check-config`.
absl::Status CheckOptions(const SensorOptions& options, bool replay);

int RunReplay(const SensorOptions& options);
int RunLive(const SensorOptions& options);
// Prints, for each value, the indicators it matches and those warninglists removed.
int RunExplain(const SensorOptions& options, const std::vector<std::string>& values);

}  // namespace sensor
