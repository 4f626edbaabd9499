#include "sensor/stats_report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ctrlplane/alert_document.h"
#include "ctrlplane/json_fields.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace sensor {
namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

using json::Field;
using json::Object;

double PacketsPerSecond(const RunSummary& summary) {
  const EngineReport& engine = *summary.engine;
  if (engine.run_seconds <= 0) return 0;
  return static_cast<double>(engine.totals->Get(dp::Counter::kRxPackets)) / engine.run_seconds;
}

void WriteCounters(Writer& writer, const dp::WorkerCounters& counters) {
  for (int c = 0; c < dp::kCounterCount; ++c) {
    Field(writer, dp::CounterTable()[c].name, counters.Get(static_cast<dp::Counter>(c)));
  }
}

// The alert file's rotation and error counts, and the Elasticsearch output.
void AppendOutputsText(std::string& text, const RunSummary& summary) {
  if (summary.ndjson != nullptr) {
    const ctl::NdjsonSinkStats& file = *summary.ndjson;
    absl::StrAppendFormat(&text,
                          "alert file     %d lines, %d rotations, %d reopens, %d write errors, "
                          "%d rejected, %d not written\n",
                          file.lines_written, file.rotations, file.reopens, file.write_errors,
                          file.lines_rejected, file.lines_buffered);
  }
  if (summary.elasticsearch == nullptr) return;
  const ctl::ElasticsearchSinkStats& es = *summary.elasticsearch;
  absl::StrAppendFormat(&text,
                        "elasticsearch  %s: %d queued, %d created, %d already present, %d "
                        "retried, %d dead-lettered, %d above its TLP, %d requests (%d failed)\n",
                        summary.elasticsearch_url, es.queued, es.created, es.already_present,
                        es.retried, es.dead_lettered, summary.elasticsearch_withheld_by_tlp,
                        es.requests, es.request_failures);
  absl::StrAppendFormat(&text,
                        "  spool        %s: %d left for the next run, %d recovered from earlier "
                        "runs, %d rejected when full, %d rejected by failed writes, %d "
                        "damaged tails cut\n",
                        summary.spool_dir, es.spooled, es.recovered, es.rejected_spool_full,
                        es.rejected_spool_write_failed, es.spool_corrupt_tails);
  if (es.dead_lettered > 0 || es.dead_letter_errors > 0) {
    absl::StrAppendFormat(&text, "  dead letters %s: %d written, %d failed writes\n",
                          summary.dead_letter_path, es.dead_lettered, es.dead_letter_errors);
  }
}

void WriteElasticsearchJson(Writer& writer, const RunSummary& summary) {
  if (summary.elasticsearch == nullptr) return;
  const ctl::ElasticsearchSinkStats& es = *summary.elasticsearch;
  Object(writer, "elasticsearch");
  Field(writer, "url", summary.elasticsearch_url);
  Field(writer, "queued", es.queued);
  Field(writer, "created", es.created);
  Field(writer, "already_present", es.already_present);
  Field(writer, "retried", es.retried);
  Field(writer, "dead_lettered", es.dead_lettered);
  Field(writer, "dead_letter_errors", es.dead_letter_errors);
  Field(writer, "dead_letter_file", summary.dead_letter_path);
  Field(writer, "withheld_by_tlp", summary.elasticsearch_withheld_by_tlp);
  Field(writer, "requests", es.requests);
  Field(writer, "request_failures", es.request_failures);
  Field(writer, "bytes_sent", es.bytes_sent);
  Object(writer, "spool");
  Field(writer, "directory", summary.spool_dir);
  Field(writer, "spooled", es.spooled);
  Field(writer, "recovered", es.recovered);
  Field(writer, "rejected_full", es.rejected_spool_full);
  Field(writer, "rejected_write_failed", es.rejected_spool_write_failed);
  Field(writer, "bytes", es.spool_bytes);
  Field(writer, "corrupt_tails", es.spool_corrupt_tails);
  Field(writer, "corrupt_bytes", es.spool_corrupt_bytes);
  writer.EndObject();
  writer.EndObject();
}

void AppendSightingsText(std::string& text, const RunSummary& summary) {
  if (summary.sightings == nullptr) return;
  const misp::SightingsStats& sightings = *summary.sightings;
  absl::StrAppendFormat(&text,
                        "misp sightings %d sent, %d failed, %d dropped by the rate limit, %d "
                        "duplicates, %d dropped when the queue was full, %d unsent at exit, %d "
                        "above the TLP, %d requests\n",
                        sightings.sent, sightings.failed, sightings.dropped_rate,
                        sightings.dropped_duplicate, sightings.dropped_queue_full,
                        sightings.dropped_at_exit, summary.sightings_withheld_by_tlp,
                        sightings.requests);
  if (!sightings.last_error.empty()) {
    absl::StrAppendFormat(&text, "  last error   %s\n", sightings.last_error);
  }
}

void WriteSightingsJson(Writer& writer, const RunSummary& summary) {
  if (summary.sightings == nullptr) return;
  const misp::SightingsStats& sightings = *summary.sightings;
  Object(writer, "misp_sightings");
  Field(writer, "sent", sightings.sent);
  Field(writer, "failed", sightings.failed);
  Field(writer, "dropped_rate", sightings.dropped_rate);
  Field(writer, "dropped_duplicate", sightings.dropped_duplicate);
  Field(writer, "dropped_queue_full", sightings.dropped_queue_full);
  Field(writer, "dropped_at_exit", sightings.dropped_at_exit);
  Field(writer, "withheld_by_tlp", summary.sightings_withheld_by_tlp);
  Field(writer, "not_rest_source", sightings.not_rest_source);
  Field(writer, "invalid_alerts", sightings.invalid_alerts);
  Field(writer, "requests", sightings.requests);
  Field(writer, "last_error", sightings.last_error);
  writer.EndObject();
}

void AppendIpfixText(std::string& text, const RunSummary& summary) {
  if (summary.ipfix == nullptr) return;
  const ctl::IpfixExporterStats& ipfix = *summary.ipfix;
  absl::StrAppendFormat(&text,
                        "ipfix          %s: %d flow records (%d packets, %d bytes) in %d "
                        "messages, %d bytes sent, %d send errors, %d records dropped\n",
                        summary.ipfix_collector, ipfix.records_exported, ipfix.packets_exported,
                        ipfix.octets_exported, ipfix.messages_sent, ipfix.bytes_sent,
                        ipfix.send_errors, ipfix.records_dropped());
}

void WriteIpfixJson(Writer& writer, const RunSummary& summary) {
  if (summary.ipfix == nullptr) return;
  const ctl::IpfixExporterStats& ipfix = *summary.ipfix;
  Object(writer, "ipfix");
  Field(writer, "collector", summary.ipfix_collector);
  Field(writer, "observation_domain", uint64_t{summary.ipfix_observation_domain});
  Field(writer, "records_received", ipfix.records_received);
  Field(writer, "records_exported", ipfix.records_exported);
  Field(writer, "packets_exported", ipfix.packets_exported);
  Field(writer, "octets_exported", ipfix.octets_exported);
  Field(writer, "messages", ipfix.messages_sent);
  Field(writer, "bytes", ipfix.bytes_sent);
  Field(writer, "template_sets", ipfix.template_sets_sent);
  Field(writer, "send_errors", ipfix.send_errors);
  Field(writer, "connections", ipfix.connections);
  Field(writer, "connect_failures", ipfix.connect_failures);
  Field(writer, "records_dropped", ipfix.records_dropped());
  Object(writer, "records_dropped_by_reason");
  Field(writer, "send_error", ipfix.dropped_send_error);
  Field(writer, "backlog_full", ipfix.dropped_backlog_full);
  Field(writer, "at_exit", ipfix.dropped_at_exit);
  writer.EndObject();
  writer.EndObject();
}

}  // namespace

std::string FormatStatsText(const RunSummary& summary) {
  const EngineReport& engine = *summary.engine;
  const dp::WorkerCounters& totals = *engine.totals;
  std::string text;
  absl::StrAppend(&text, "== stats ==\n");
  if (summary.capture != nullptr) {
    const CaptureScan& capture = *summary.capture;
    absl::StrAppendFormat(&text, "capture        %s: %d packets, %d bytes%s\n",
                          summary.capture_path, capture.packets, capture.bytes,
                          capture.damaged ? " (damaged; read up to the damage)" : "");
    if (engine.replay_passes > 1) {
      absl::StrAppendFormat(&text, "replay         %d passes over the capture, %d packets taken\n",
                            engine.replay_passes, engine.replay_packets_taken);
    }
  }
  absl::StrAppendFormat(&text, "packets        %d read, %d bytes, %.0f packets/s over %.3f s\n",
                        totals.Get(dp::Counter::kRxPackets), totals.Get(dp::Counter::kRxBytes),
                        PacketsPerSecond(summary), engine.run_seconds);
  for (size_t i = 0; i < engine.workers.size(); ++i) {
    absl::StrAppendFormat(&text, "  worker %-6d %d packets, %d flows\n", i,
                          engine.workers[i]->Get(dp::Counter::kRxPackets),
                          engine.workers[i]->Get(dp::Counter::kFlowsCreated));
  }
  if (summary.capture == nullptr) {
    std::string queues;
    for (size_t queue = 0; queue < engine.port.queues.size(); ++queue) {
      absl::StrAppendFormat(&queues, " %d=%d", queue, engine.port.queues[queue].ipackets);
    }
    absl::StrAppendFormat(&text, "port           %d packets, %d bytes; per RX queue%s\n",
                          engine.port.ipackets, engine.port.ibytes,
                          queues.empty() ? " none" : queues);
  }
  absl::StrAppendFormat(&text, "decoded        %d (IPv4 %d, IPv6 %d, fragments %d)\n",
                        totals.Get(dp::Counter::kDecodedPackets),
                        totals.Get(dp::Counter::kIpv4Packets),
                        totals.Get(dp::Counter::kIpv6Packets), totals.Get(dp::Counter::kFragments));
  std::string not_decoded;
  for (int d = 1; d < dp::kDecodeStatusCount; ++d) {
    const uint64_t count = totals.GetDecode(static_cast<dp::DecodeStatus>(d));
    if (count == 0) continue;
    absl::StrAppendFormat(&not_decoded, " %s=%d",
                          dp::DecodeStatusName(static_cast<dp::DecodeStatus>(d)), count);
  }
  absl::StrAppend(&text, "not decoded   ", not_decoded.empty() ? " none" : not_decoded, "\n");
  absl::StrAppendFormat(&text, "flows          %d created, %d ended, %d evicted\n",
                        totals.Get(dp::Counter::kFlowsCreated),
                        totals.Get(dp::Counter::kFlowsEnded),
                        totals.Get(dp::Counter::kFlowsEvicted));

  const ctl::CompileStats& indicators = *summary.indicators;
  std::string by_type;
  for (const auto& [type, count] : indicators.loaded_by_type) {
    absl::StrAppendFormat(&by_type, " %s=%d", type, count);
  }
  absl::StrAppendFormat(&text,
                        "indicators     %d loaded from %d events (%s ), %d rejected, "
                        "%d not to_ids, %d deleted\n",
                        indicators.loaded(), indicators.events, by_type, indicators.rejected,
                        indicators.skipped_not_ids, indicators.skipped_deleted);
  if (summary.reloads != nullptr && summary.reloads->requested > 0) {
    const ctl::IntelReloadStats& reloads = *summary.reloads;
    absl::StrAppendFormat(&text,
                          "reloads        %d requested, %d published, %d unchanged, %d failed%s\n",
                          reloads.requested, reloads.published, reloads.unchanged,
                          reloads.failed,
                          reloads.last_error.empty() ? "" : " (last: " + reloads.last_error + ")");
  }
  const ctl::AlertPipelineStats& alerts = *summary.alerts;
  absl::StrAppendFormat(&text,
                        "alerts         %d raised for %s (%d repeats merged, %d held back by "
                        "dedup, %d by rate limit, %d summaries, %d above the file's TLP)\n",
                        alerts.alerts_raised, summary.alerts_path, alerts.alerts_merged,
                        alerts.suppressed_dedup, alerts.suppressed_rate_limit,
                        alerts.summaries_written,
                        alerts.tlp_withheld.empty() ? 0 : alerts.tlp_withheld[0]);
  absl::StrAppendFormat(&text,
                        "drops          alert_ring_full=%d flow_record_ring_full=%d imissed=%d "
                        "rx_nombuf=%d ierrors=%d sink_errors=%d\n",
                        totals.Get(dp::Counter::kAlertRingFull),
                        totals.Get(dp::Counter::kFlowRecordRingFull), engine.port.imissed,
                        engine.port.rx_nombuf, engine.port.ierrors, alerts.sink_errors);
  AppendOutputsText(text, summary);
  AppendSightingsText(text, summary);
  AppendIpfixText(text, summary);
  return text;
}

std::string FormatStatsJson(const RunSummary& summary) {
  const EngineReport& engine = *summary.engine;
  const dp::WorkerCounters& totals = *engine.totals;
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.SetIndent(' ', 2);
  writer.StartObject();
  Field(writer, "mode", summary.mode);

  if (summary.capture != nullptr) {
    const CaptureScan& capture = *summary.capture;
    Object(writer, "capture");
    Field(writer, "file", summary.capture_path);
    Field(writer, "packets", capture.packets);
    Field(writer, "bytes", capture.bytes);
    if (capture.packets > 0) {
      Field(writer, "first", ctl::FormatTimestamp(capture.first_ns));
      Field(writer, "last", ctl::FormatTimestamp(capture.last_ns));
    }
    writer.Key("damaged");
    writer.Bool(capture.damaged);
    if (capture.damaged) Field(writer, "damage", capture.damage);
    Field(writer, "packets_after_damage_discarded", engine.replay_packets_discarded);
    Field(writer, "passes", engine.replay_passes);
    Field(writer, "packets_taken", engine.replay_packets_taken);
    writer.EndObject();
  }

  Field(writer, "packets", totals.Get(dp::Counter::kRxPackets));
  Field(writer, "bytes", totals.Get(dp::Counter::kRxBytes));
  Field(writer, "seconds", engine.run_seconds);
  Field(writer, "packets_per_second", PacketsPerSecond(summary));

  writer.Key("workers");
  writer.StartArray();
  for (size_t i = 0; i < engine.workers.size(); ++i) {
    writer.StartObject();
    Field(writer, "index", uint64_t{i});
    WriteCounters(writer, *engine.workers[i]);
    writer.EndObject();
  }
  writer.EndArray();

  Object(writer, "counters");
  WriteCounters(writer, totals);
  writer.EndObject();

  Object(writer, "decode");
  for (int d = 0; d < dp::kDecodeStatusCount; ++d) {
    const auto status = static_cast<dp::DecodeStatus>(d);
    Field(writer, dp::DecodeStatusName(status), totals.GetDecode(status));
  }
  writer.EndObject();

  Object(writer, "port");
  Field(writer, "ipackets", engine.port.ipackets);
  Field(writer, "ibytes", engine.port.ibytes);
  Field(writer, "imissed", engine.port.imissed);
  Field(writer, "ierrors", engine.port.ierrors);
  Field(writer, "rx_nombuf", engine.port.rx_nombuf);
  writer.Key("queues");
  writer.StartArray();
  for (size_t queue = 0; queue < engine.port.queues.size(); ++queue) {
    writer.StartObject();
    Field(writer, "queue", uint64_t{queue});
    Field(writer, "ipackets", engine.port.queues[queue].ipackets);
    Field(writer, "ibytes", engine.port.queues[queue].ibytes);
    Field(writer, "errors", engine.port.queues[queue].errors);
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();

  const ctl::CompileStats& indicators = *summary.indicators;
  Object(writer, "indicators");
  Field(writer, "events", indicators.events);
  Field(writer, "attributes", indicators.attributes);
  Field(writer, "loaded", indicators.loaded());
  Object(writer, "loaded_by_type");
  for (const auto& [type, count] : indicators.loaded_by_type) Field(writer, type, count);
  writer.EndObject();
  Field(writer, "rejected", indicators.rejected);
  Field(writer, "skipped_not_ids", indicators.skipped_not_ids);
  Field(writer, "skipped_deleted", indicators.skipped_deleted);
  Field(writer, "warninglisted", indicators.warninglisted);
  Object(writer, "warninglisted_by_list");
  for (const auto& [list, count] : indicators.warninglisted_by_list) Field(writer, list, count);
  writer.EndObject();
  Object(writer, "not_matched_by_type");
  for (const auto& [type, count] : indicators.not_matched_by_type) Field(writer, type, count);
  writer.EndObject();
  writer.EndObject();

  if (summary.reloads != nullptr) {
    const ctl::IntelReloadStats& reloads = *summary.reloads;
    Object(writer, "reloads");
    Field(writer, "requested", reloads.requested);
    Field(writer, "published", reloads.published);
    Field(writer, "unchanged", reloads.unchanged);
    Field(writer, "failed", reloads.failed);
    Field(writer, "last_error", reloads.last_error);
    Field(writer, "snapshot_version", reloads.snapshot_version);
    Field(writer, "last_build_seconds", reloads.last_build_seconds);
    writer.EndObject();
  }

  const ctl::AlertPipelineStats& alerts = *summary.alerts;
  Object(writer, "alerts");
  Field(writer, "raised", alerts.alerts_raised);
  Field(writer, "written", alerts.alerts_written);
  Field(writer, "merged", alerts.alerts_merged);
  Field(writer, "without_flow_counts", alerts.alerts_without_flow);
  Field(writer, "unknown_snapshot", alerts.unknown_snapshot);
  Field(writer, "sink_errors", alerts.sink_errors);
  Field(writer, "suppressed_dedup", alerts.suppressed_dedup);
  Field(writer, "suppressed_rate_limit", alerts.suppressed_rate_limit);
  Field(writer, "summaries_written", alerts.summaries_written);
  Field(writer, "withheld_by_tlp", alerts.tlp_withheld.empty() ? 0 : alerts.tlp_withheld[0]);
  Field(writer, "file", summary.alerts_path);
  if (summary.ndjson != nullptr) {
    Field(writer, "file_lines", summary.ndjson->lines_written);
    Field(writer, "file_rotations", summary.ndjson->rotations);
    Field(writer, "file_reopens", summary.ndjson->reopens);
    Field(writer, "file_write_errors", summary.ndjson->write_errors);
    Field(writer, "file_rejected", summary.ndjson->lines_rejected);
    Field(writer, "file_not_written", summary.ndjson->lines_buffered);
  }
  writer.EndObject();
  WriteElasticsearchJson(writer, summary);
  WriteSightingsJson(writer, summary);
  WriteIpfixJson(writer, summary);

  Object(writer, "drops");
  Field(writer, "alert_ring_full", totals.Get(dp::Counter::kAlertRingFull));
  Field(writer, "flow_record_ring_full", totals.Get(dp::Counter::kFlowRecordRingFull));
  Field(writer, "flows_evicted", totals.Get(dp::Counter::kFlowsEvicted));
  Field(writer, "imissed", engine.port.imissed);
  Field(writer, "ierrors", engine.port.ierrors);
  Field(writer, "rx_nombuf", engine.port.rx_nombuf);
  Field(writer, "distributor_ring_full_waits", engine.distributor_ring_full_waits);
  writer.EndObject();

  Field(writer, "mbufs_in_use_at_exit", engine.mbufs_in_use_at_exit);
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace sensor
