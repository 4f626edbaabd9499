#include "sensor/live_stats.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ctrlplane/alert_document.h"
#include "ctrlplane/json_fields.h"
#include "ctrlplane/metrics/prometheus_text.h"
#include "dataplane/counters.h"
#include "sensor/engine.h"

namespace sensor {
namespace {

using ctl::MetricType;

// Counters summed over the workers.
struct Totals {
  std::array<uint64_t, dp::kCounterCount> counters{};
  std::array<uint64_t, dp::kDecodeStatusCount> decode{};

  uint64_t Get(dp::Counter counter) const { return counters[static_cast<int>(counter)]; }
};

Totals SumWorkers(const Engine& engine) {
  Totals totals;
  for (const dp::WorkerCounters* worker : engine.worker_counters()) {
    for (int c = 0; c < dp::kCounterCount; ++c) {
      totals.counters[c] += worker->Get(static_cast<dp::Counter>(c));
    }
    for (int d = 0; d < dp::kDecodeStatusCount; ++d) {
      totals.decode[d] += worker->GetDecode(static_cast<dp::DecodeStatus>(d));
    }
  }
  return totals;
}

// Outcomes that packet.h names as normal: the frame was well formed but carries nothing
// to match.
bool IsDecodeError(dp::DecodeStatus status) {
  return status != dp::DecodeStatus::kOk && status != dp::DecodeStatus::kNotIp &&
         status != dp::DecodeStatus::kGtpSignallingMessage;
}

uint64_t DecodeErrors(const Totals& totals) {
  uint64_t sum = 0;
  for (int d = 0; d < dp::kDecodeStatusCount; ++d) {
    if (IsDecodeError(static_cast<dp::DecodeStatus>(d))) sum += totals.decode[d];
  }
  return sum;
}

// The drops the stats command and the metrics list, by reason.
std::vector<std::pair<std::string_view, uint64_t>> Drops(const Totals& totals,
                                                         const PortStats& port) {
  return {
      {"alert_ring_full", totals.Get(dp::Counter::kAlertRingFull)},
      {"flow_record_ring_full", totals.Get(dp::Counter::kFlowRecordRingFull)},
      {"resolved_ring_full", totals.Get(dp::Counter::kResolvedRingFull)},
      {"flow_table_full", totals.Get(dp::Counter::kFlowTableFull)},
      {"imissed", port.imissed},
      {"rx_nombuf", port.rx_nombuf},
      {"ierrors", port.ierrors},
  };
}

const ctl::CompileStats& CurrentCompile(const ControlSources& sources) {
  const ctl::IntelReloadStats& reloads = sources.reloader->stats();
  return reloads.published > 0 ? reloads.compile : *sources.initial_compile;
}

// When the running intelligence was loaded: the last reload that published, else the
// start of the run.
std::chrono::system_clock::time_point IntelligenceLoaded(const LiveStatsContext& context) {
  const ctl::IntelReloadStats& reloads = context.sources->reloader->stats();
  return reloads.published > 0 ? reloads.last_published : context.started;
}

double SecondsSince(std::chrono::system_clock::time_point then) {
  return std::chrono::duration<double>(std::chrono::system_clock::now() - then).count();
}

double UnixSeconds(std::chrono::system_clock::time_point time) {
  return std::chrono::duration<double>(time.time_since_epoch()).count();
}

std::string Rfc3339(std::chrono::system_clock::time_point time) {
  return ctl::FormatTimestamp(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count()));
}

uint64_t WithheldByTlp(const ctl::AlertPipelineStats& alerts) {
  uint64_t sum = 0;
  for (uint64_t count : alerts.tlp_withheld) sum += count;
  return sum;
}

using json::Field;
using json::Key;

// An RFC 3339 time, or null for the epoch (never).
void TimeField(ctl::CtlWriter& writer, std::string_view key,
               std::chrono::system_clock::time_point time) {
  Key(writer, key);
  if (time.time_since_epoch().count() == 0) {
    writer.Null();
    return;
  }
  const std::string text = Rfc3339(time);
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

// The sightings by outcome, as the stats command and the metrics name them.
std::vector<std::pair<std::string_view, uint64_t>> SightingCounts(
    const misp::SightingsStats& sightings) {
  return {
      {"sent", sightings.sent},
      {"failed", sightings.failed},
      {"dropped_rate", sightings.dropped_rate},
      {"dropped_duplicate", sightings.dropped_duplicate},
      {"dropped_queue_full", sightings.dropped_queue_full},
      {"dropped_at_exit", sightings.dropped_at_exit},
      {"not_rest_source", sightings.not_rest_source},
      {"invalid_alerts", sightings.invalid_alerts},
  };
}

void WriteWorkersJson(const Engine& engine, ctl::CtlWriter& writer) {
  const std::vector<const dp::WorkerCounters*> workers = engine.worker_counters();
  const std::vector<unsigned>& lcores = engine.worker_lcores();
  Key(writer, "workers");
  writer.StartArray();
  for (size_t i = 0; i < workers.size(); ++i) {
    writer.StartObject();
    Field(writer, "worker", uint64_t{i});
    if (i < lcores.size()) Field(writer, "lcore", uint64_t{lcores[i]});
    Field(writer, "packets", workers[i]->Get(dp::Counter::kRxPackets));
    Field(writer, "bytes", workers[i]->Get(dp::Counter::kRxBytes));
    Field(writer, "flows_created", workers[i]->Get(dp::Counter::kFlowsCreated));
    writer.EndObject();
  }
  writer.EndArray();
}

void WriteAlertsJson(const ControlSources& sources, ctl::CtlWriter& writer) {
  const ctl::AlertPipelineStats& alerts = sources.pipeline->stats();
  Key(writer, "alerts");
  writer.StartObject();
  Field(writer, "raised", alerts.alerts_raised);
  Field(writer, "written", alerts.alerts_written);
  Field(writer, "merged", alerts.alerts_merged);
  Field(writer, "suppressed_dedup", alerts.suppressed_dedup);
  Field(writer, "suppressed_rate_limit", alerts.suppressed_rate_limit);
  Field(writer, "summaries_written", alerts.summaries_written);
  Field(writer, "withheld_by_tlp", WithheldByTlp(alerts));
  Key(writer, "withheld_by_tlp_per_output");
  writer.StartObject();
  for (size_t i = 0; i < alerts.tlp_withheld.size() && i < sources.sink_names.size(); ++i) {
    Field(writer, sources.sink_names[i], alerts.tlp_withheld[i]);
  }
  writer.EndObject();
  Field(writer, "sink_errors", alerts.sink_errors);
  Field(writer, "pending_flows", uint64_t{sources.pipeline->pending_flows()});
  writer.EndObject();
}

void WriteIntelligenceJson(const LiveStatsContext& context, ctl::CtlWriter& writer) {
  const ControlSources& sources = *context.sources;
  Key(writer, "snapshot");
  writer.StartObject();
  Field(writer, "version", context.snapshot_version);
  Field(writer, "published", Rfc3339(context.snapshot_published));
  Field(writer, "age_seconds", SecondsSince(context.snapshot_published));
  Field(writer, "intelligence_loaded", Rfc3339(IntelligenceLoaded(context)));
  Field(writer, "intelligence_age_seconds", SecondsSince(IntelligenceLoaded(context)));
  Field(writer, "indicators", CurrentCompile(sources).loaded());
  Field(writer, "resolved_addresses", sources.resolved->stats().watched);
  writer.EndObject();

  const ctl::IntelReloadStats& reloads = sources.reloader->stats();
  Key(writer, "reloads");
  writer.StartObject();
  Field(writer, "requested", reloads.requested);
  Field(writer, "published", reloads.published);
  Field(writer, "unchanged", reloads.unchanged);
  Field(writer, "failed", reloads.failed);
  Field(writer, "last_error", reloads.last_error);
  Field(writer, "last_build_seconds", reloads.last_build_seconds);
  Key(writer, "in_progress");
  writer.Bool(sources.reloader->busy());
  writer.EndObject();

  Key(writer, "misp_sources");
  writer.StartArray();
  if (sources.misp_sources) {
    for (const MispSourceStatus& source : sources.misp_sources()) {
      writer.StartObject();
      Field(writer, "name", source.name);
      Field(writer, "kind", source.kind);
      TimeField(writer, "last_success", source.last_success);
      TimeField(writer, "last_attempt", source.last_attempt);
      Field(writer, "last_error", source.last_error);
      Field(writer, "attributes", source.attributes);
      Field(writer, "http_status", static_cast<uint64_t>(std::max(source.http_status, 0L)));
      writer.EndObject();
    }
  }
  writer.EndArray();

  if (sources.misp_sightings) {
    const misp::SightingsStats sightings = sources.misp_sightings();
    Key(writer, "misp_sightings");
    writer.StartObject();
    for (const auto& [name, count] : SightingCounts(sightings)) Field(writer, name, count);
    Field(writer, "requests", sightings.requests);
    Field(writer, "queued", sightings.queued);
    Field(writer, "last_error", sightings.last_error);
    writer.EndObject();
  }
}

void WriteCtlJson(const ctl::CtlServerStats& ctl, ctl::CtlWriter& writer) {
  Key(writer, "ctl");
  writer.StartObject();
  Field(writer, "clients", uint64_t{ctl.clients});
  Field(writer, "connections", ctl.connections);
  Field(writer, "requests", ctl.requests);
  Field(writer, "rejected_peer", ctl.rejected_peer);
  Field(writer, "rejected_too_many", ctl.rejected_too_many);
  Field(writer, "invalid_requests", ctl.invalid_requests);
  Field(writer, "unknown_commands", ctl.unknown_commands);
  Field(writer, "failed_commands", ctl.failed_commands);
  Field(writer, "overlong_lines", ctl.overlong_lines);
  Field(writer, "closed_idle", ctl.closed_idle);
  Field(writer, "write_errors", ctl.write_errors);
  writer.EndObject();
}

void WriteMispSourceMetrics(const std::vector<MispSourceStatus>& misp, ctl::PrometheusText& page) {
  page.Family("sensor_misp_source_last_success_timestamp_seconds", MetricType::kGauge,
              "Time of the last good sync of each MISP source, in seconds since the Unix "
              "epoch; 0 if it never synced");
  for (const MispSourceStatus& source : misp) {
    page.Sample({{"source", source.name}}, UnixSeconds(source.last_success));
  }
  page.Family("sensor_misp_source_last_attempt_timestamp_seconds", MetricType::kGauge,
              "Time of the last sync of each MISP source, good or failed, in seconds since "
              "the Unix epoch");
  for (const MispSourceStatus& source : misp) {
    page.Sample({{"source", source.name}}, UnixSeconds(source.last_attempt));
  }
  page.Family("sensor_misp_source_up", MetricType::kGauge,
              "1 if the last sync of the MISP source succeeded, else 0");
  for (const MispSourceStatus& source : misp) {
    const bool up =
        source.last_error.empty() && source.last_success.time_since_epoch().count() != 0;
    page.Sample({{"source", source.name}}, uint64_t{up ? 1u : 0u});
  }
  page.Family("sensor_misp_source_attributes", MetricType::kGauge,
              "MISP attributes each source holds now (from its last good sync)");
  for (const MispSourceStatus& source : misp) {
    page.Sample({{"source", source.name}}, source.attributes);
  }
  page.Family("sensor_misp_source_http_status", MetricType::kGauge,
              "HTTP status of the last response in the last sync of a feed or REST source; "
              "0 when no response came");
  for (const MispSourceStatus& source : misp) {
    if (source.kind == "file") continue;
    page.Sample({{"source", source.name}},
                static_cast<uint64_t>(std::max(source.http_status, 0L)));
  }
}

}  // namespace

void WriteStatsResult(const LiveStatsContext& context, ctl::CtlWriter& writer) {
  const ControlSources& sources = *context.sources;
  const Engine& engine = *sources.engine;
  const Totals totals = SumWorkers(engine);
  const PortStats port = engine.ReadPortStats();

  writer.StartObject();
  Field(writer, "mode", sources.mode);
  Field(writer, "started", Rfc3339(context.started));
  Field(writer, "uptime_seconds", context.uptime_seconds);
  Field(writer, "packets", totals.Get(dp::Counter::kRxPackets));
  Field(writer, "bytes", totals.Get(dp::Counter::kRxBytes));
  WriteWorkersJson(engine, writer);

  Key(writer, "port");
  writer.StartObject();
  Field(writer, "ipackets", port.ipackets);
  Field(writer, "ibytes", port.ibytes);
  Field(writer, "imissed", port.imissed);
  Field(writer, "ierrors", port.ierrors);
  Field(writer, "rx_nombuf", port.rx_nombuf);
  Key(writer, "queues");
  writer.StartArray();
  for (size_t queue = 0; queue < port.queues.size(); ++queue) {
    writer.StartObject();
    Field(writer, "queue", uint64_t{queue});
    Field(writer, "ipackets", port.queues[queue].ipackets);
    Field(writer, "ibytes", port.queues[queue].ibytes);
    Field(writer, "errors", port.queues[queue].errors);
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();

  Key(writer, "drops");
  writer.StartObject();
  for (const auto& [reason, count] : Drops(totals, port)) Field(writer, reason, count);
  Field(writer, "decode_errors", DecodeErrors(totals));
  writer.EndObject();

  Key(writer, "decode_errors");
  writer.StartObject();
  for (int d = 0; d < dp::kDecodeStatusCount; ++d) {
    const auto status = static_cast<dp::DecodeStatus>(d);
    if (IsDecodeError(status) && totals.decode[d] != 0) {
      Field(writer, dp::DecodeStatusName(status), totals.decode[d]);
    }
  }
  writer.EndObject();

  Key(writer, "flows");
  writer.StartObject();
  Field(writer, "created", totals.Get(dp::Counter::kFlowsCreated));
  Field(writer, "ended", totals.Get(dp::Counter::kFlowsEnded));
  Field(writer, "evicted", totals.Get(dp::Counter::kFlowsEvicted));
  writer.EndObject();

  WriteAlertsJson(sources, writer);
  WriteIntelligenceJson(context, writer);
  if (context.ctl != nullptr) WriteCtlJson(*context.ctl, writer);
  if (!context.metrics_address.empty()) Field(writer, "metrics", context.metrics_address);
  writer.EndObject();
}

std::string RenderMetricsPage(const LiveStatsContext& context) {
  const ControlSources& sources = *context.sources;
  const Engine& engine = *sources.engine;
  const Totals totals = SumWorkers(engine);
  const PortStats port = engine.ReadPortStats();
  ctl::PrometheusText page;

  page.Family("sensor_start_time_seconds", MetricType::kGauge,
              "Start time of the sensor process, in seconds since the Unix epoch");
  page.Sample(UnixSeconds(context.started));

  const std::vector<const dp::WorkerCounters*> workers = engine.worker_counters();
  const std::vector<unsigned>& lcores = engine.worker_lcores();
  auto per_worker = [&](std::string_view name, std::string_view help, dp::Counter counter) {
    page.Family(name, MetricType::kCounter, help);
    for (size_t i = 0; i < workers.size(); ++i) {
      const std::string worker = absl::StrCat(i);
      const std::string lcore = i < lcores.size() ? absl::StrCat(lcores[i]) : "";
      page.Sample({{"worker", worker}, {"lcore", lcore}}, workers[i]->Get(counter));
    }
  };
  per_worker("sensor_packets_total", "Packets received by each worker lcore",
             dp::Counter::kRxPackets);
  per_worker("sensor_bytes_total", "Bytes of the packets received by each worker lcore",
             dp::Counter::kRxBytes);

  page.Family("sensor_port_packets_total", MetricType::kCounter,
              "Packets the port reports as received (rte_eth_stats ipackets)");
  page.Sample(port.ipackets);
  page.Family("sensor_port_queue_packets_total", MetricType::kCounter,
              "Packets each RX queue of the port reports as received (rte_eth_stats "
              "q_ipackets; zeros from drivers without queue counters)");
  for (size_t queue = 0; queue < port.queues.size(); ++queue) {
    page.Sample({{"queue", absl::StrCat(queue)}}, port.queues[queue].ipackets);
  }
  page.Family("sensor_drops_total", MetricType::kCounter,
              "Packets or worker records lost, by reason: record rings full, flow table full, "
              "and the port's imissed, rx_nombuf and ierrors");
  for (const auto& [reason, count] : Drops(totals, port)) page.Sample({{"reason", reason}}, count);

  page.Family("sensor_decode_errors_total", MetricType::kCounter,
              "Packets the decoder stopped at, by the malformed, truncated or unsupported layer");
  for (int d = 0; d < dp::kDecodeStatusCount; ++d) {
    const auto status = static_cast<dp::DecodeStatus>(d);
    if (IsDecodeError(status)) {
      page.Sample({{"status", dp::DecodeStatusName(status)}}, totals.decode[d]);
    }
  }
  page.Family("sensor_packets_not_inspected_total", MetricType::kCounter,
              "Well-formed packets with nothing to match: non-IP frames and GTP signalling");
  page.Sample({{"reason", dp::DecodeStatusName(dp::DecodeStatus::kNotIp)}},
              totals.decode[static_cast<int>(dp::DecodeStatus::kNotIp)]);
  page.Sample({{"reason", dp::DecodeStatusName(dp::DecodeStatus::kGtpSignallingMessage)}},
              totals.decode[static_cast<int>(dp::DecodeStatus::kGtpSignallingMessage)]);

  page.Family("sensor_flows_created_total", MetricType::kCounter, "Flow table entries created");
  page.Sample(totals.Get(dp::Counter::kFlowsCreated));
  page.Family("sensor_flows_ended_total", MetricType::kCounter,
              "Flows ended by TCP FIN or RST, idle timeout or shutdown");
  page.Sample(totals.Get(dp::Counter::kFlowsEnded));
  page.Family("sensor_flows_evicted_total", MetricType::kCounter,
              "Flows evicted early because their flow table bucket was full");
  page.Sample(totals.Get(dp::Counter::kFlowsEvicted));

  const ctl::AlertPipelineStats& alerts = sources.pipeline->stats();
  page.Family("sensor_alerts_raised_total", MetricType::kCounter,
              "Alerts that passed deduplication and the rate limit");
  page.Sample(alerts.alerts_raised);
  page.Family("sensor_alerts_written_total", MetricType::kCounter,
              "Alerts that at least one output accepted");
  page.Sample(alerts.alerts_written);
  page.Family("sensor_alerts_merged_total", MetricType::kCounter,
              "Repeat matches of a flow and attribute that already had an alert");
  page.Sample(alerts.alerts_merged);
  page.Family("sensor_alerts_suppressed_total", MetricType::kCounter,
              "Alerts held back and summarised, by reason");
  page.Sample({{"reason", "dedup"}}, alerts.suppressed_dedup);
  page.Sample({{"reason", "rate_limit"}}, alerts.suppressed_rate_limit);
  page.Family("sensor_alerts_withheld_by_tlp_total", MetricType::kCounter,
              "Alerts not sent to an output because their TLP is above the output's maximum");
  for (size_t i = 0; i < alerts.tlp_withheld.size() && i < sources.sink_names.size(); ++i) {
    page.Sample({{"output", sources.sink_names[i]}}, alerts.tlp_withheld[i]);
  }
  page.Family("sensor_alert_sink_errors_total", MetricType::kCounter,
              "Failed writes of alerts to an output");
  page.Sample(alerts.sink_errors);

  const ctl::IntelReloadStats& reloads = sources.reloader->stats();
  page.Family("sensor_reload_requests_total", MetricType::kCounter,
              "Reloads of the intelligence requested (SIGHUP, interval, control socket)");
  page.Sample(reloads.requested);
  page.Family("sensor_reloads_total", MetricType::kCounter,
              "Finished reloads of the intelligence, by result");
  page.Sample({{"result", "published"}}, reloads.published);
  page.Sample({{"result", "unchanged"}}, reloads.unchanged);
  page.Sample({{"result", "failed"}}, reloads.failed);
  page.Family("sensor_reload_in_progress", MetricType::kGauge,
              "1 while a reload of the intelligence is being built or waits to start");
  page.Sample(uint64_t{sources.reloader->busy() ? 1u : 0u});

  page.Family("sensor_snapshot_version", MetricType::kGauge,
              "Version of the indicator snapshot the workers match against");
  page.Sample(context.snapshot_version);
  page.Family("sensor_snapshot_age_seconds", MetricType::kGauge,
              "Seconds since the running snapshot was published (reloads and DNS-resolved "
              "addresses both publish)");
  page.Sample(SecondsSince(context.snapshot_published));
  page.Family("sensor_intelligence_age_seconds", MetricType::kGauge,
              "Seconds since the running intelligence was loaded (start or last reload that "
              "published)");
  page.Sample(SecondsSince(IntelligenceLoaded(context)));

  const ctl::CompileStats& compile = CurrentCompile(sources);
  page.Family("sensor_indicators", MetricType::kGauge,
              "Indicators in the running intelligence, by MISP attribute type");
  for (const auto& [type, count] : compile.loaded_by_type) page.Sample({{"type", type}}, count);
  page.Family("sensor_indicator_events", MetricType::kGauge,
              "MISP events read for the running intelligence");
  page.Sample(compile.events);
  page.Family("sensor_resolved_addresses", MetricType::kGauge,
              "Addresses watched because a DNS answer gave them for a listed domain");
  page.Sample(sources.resolved->stats().watched);

  if (sources.misp_sources) WriteMispSourceMetrics(sources.misp_sources(), page);
  if (sources.misp_sightings) {
    const misp::SightingsStats sightings = sources.misp_sightings();
    page.Family("sensor_misp_sightings_total", MetricType::kCounter,
                "Sightings of alerted MISP attributes, by outcome: sent, failed after the "
                "retries or rejected, or dropped (rate limit, duplicate, queue full, unsent "
                "at exit), and alerts not sighted (not_rest_source, invalid_alerts)");
    for (const auto& [result, count] : SightingCounts(sightings)) {
      page.Sample({{"result", result}}, count);
    }
    page.Family("sensor_misp_sighting_requests_total", MetricType::kCounter,
                "HTTP requests to /sightings/add, retries included");
    page.Sample(sightings.requests);
    page.Family("sensor_misp_sightings_queued", MetricType::kGauge,
                "Sightings waiting to be sent");
    page.Sample(sightings.queued);
  }

  if (context.ctl != nullptr) {
    const ctl::CtlServerStats& ctl = *context.ctl;
    page.Family("sensor_ctl_connections_total", MetricType::kCounter,
                "Connections accepted on the control socket");
    page.Sample(ctl.connections);
    page.Family("sensor_ctl_requests_total", MetricType::kCounter,
                "Request lines read on the control socket");
    page.Sample(ctl.requests);
    page.Family("sensor_ctl_rejected_total", MetricType::kCounter,
                "Control socket connections or requests turned away, by reason");
    page.Sample({{"reason", "peer_not_allowed"}}, ctl.rejected_peer);
    page.Sample({{"reason", "too_many_clients"}}, ctl.rejected_too_many);
    page.Sample({{"reason", "invalid_request"}}, ctl.invalid_requests);
    page.Sample({{"reason", "unknown_command"}}, ctl.unknown_commands);
    page.Sample({{"reason", "overlong_line"}}, ctl.overlong_lines);
  }
  return page.Release();
}

}  // namespace sensor
