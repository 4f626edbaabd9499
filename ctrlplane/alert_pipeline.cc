#include "ctrlplane/alert_pipeline.h"

#include "absl/strings/str_cat.h"
#include "ctrlplane/absl_bridge.h"

namespace sensor::ctl {
namespace {

constexpr uint64_t kMinuteNs = 60'000'000'000;

const std::string& AttributeUuid(const IndicatorTable& table, uint32_t indicator) {
  return table.attributes[table.entries[indicator].attribute].uuid;
}

}  // namespace

AlertPipeline::AlertPipeline(AlertPipelineOptions options) : options_(std::move(options)) {
  stats_.tlp_withheld.assign(options_.sinks.size(), 0);
}

void AlertPipeline::AddSnapshot(uint64_t version, std::shared_ptr<const IndicatorTable> table) {
  tables_[version] = std::move(table);
}

void AlertPipeline::RemoveSnapshot(uint64_t version) { tables_.erase(version); }

void AlertPipeline::RemoveRetiredSnapshots() {
  for (uint64_t version : retired_) tables_.erase(version);
  retired_ = std::move(retiring_);
  retiring_.clear();
}

bool AlertPipeline::SameIndicators(uint64_t a, uint64_t b) const {
  auto first = tables_.find(a);
  auto second = tables_.find(b);
  return first != tables_.end() && second != tables_.end() && first->second == second->second;
}

void AlertPipeline::OnRecord(const dp::WorkerRecord& record) {
  switch (record.kind) {
    case dp::RecordKind::kAlert:
      OnAlert(record.alert);
      break;
    case dp::RecordKind::kFlow:
      OnFlow(record.flow);
      if (on_flow_) on_flow_(record.flow);
      break;
    case dp::RecordKind::kResolved:
      if (on_resolved_) on_resolved_(record.resolved);
      break;
  }
}

void AlertPipeline::OnAlert(const dp::AlertRecord& alert) {
  auto table = tables_.find(alert.snapshot_version);
  if (table == tables_.end()) {
    ++stats_.unknown_snapshot;
    return;
  }
  FlowAlerts& flow = flows_[alert.flow_id];
  if (!flow.alerted_attributes.insert(AttributeUuid(*table->second, alert.indicator)).second) {
    ++stats_.alerts_merged;
    return;
  }
  flow.pending.push_back({alert, table->second});
}

void AlertPipeline::OnFlow(const dp::FlowRecord& flow) {
  auto it = flows_.find(flow.flow_id);
  if (it == flows_.end()) return;
  for (const PendingAlert& alert : it->second.pending) Admit(alert, &flow);
  it->second.pending.clear();
  if (flow.final) flows_.erase(it);
}

void AlertPipeline::Finish() {
  for (auto& [flow_id, flow] : flows_) {
    for (const PendingAlert& alert : flow.pending) {
      ++stats_.alerts_without_flow;
      Admit(alert, nullptr);
    }
  }
  flows_.clear();
  for (auto* windows : {&dedup_windows_, &rate_windows_}) {
    for (const auto& [key, window] : *windows) {
      if (window.summary.count > 0) WriteSummary(window);
    }
    windows->clear();
  }
  for (const SinkBinding& binding : options_.sinks) {
    if (absl::Status status = binding.sink->Flush(); !status.ok()) {
      ReportSinkError(*binding.sink, status);
    }
  }
}

bool AlertPipeline::Suppress(absl::flat_hash_map<std::string, Window>& windows,
                             const std::string& key, const PendingAlert& alert, uint64_t window_ns,
                             uint32_t allowed, std::string_view reason, uint64_t& counter) {
  const uint64_t now = alert.record.packet_time_ns;
  auto [it, inserted] = windows.try_emplace(key);
  Window& window = it->second;
  if (!inserted && now >= window.start_ns && now - window.start_ns >= window_ns) {
    // The window has closed: report what it held back and open a new one.
    if (window.summary.count > 0) WriteSummary(window);
    inserted = true;
  }
  if (inserted) {
    window = Window{};
    window.opener = alert;
    window.start_ns = now;
    window.summary.reason = reason;
  }
  if (window.written < allowed) {
    ++window.written;
    return false;
  }
  // Alerts reach the pipeline in flow-end order, not packet order.
  if (window.summary.count == 0 || now < window.summary.first_ns) window.summary.first_ns = now;
  window.summary.last_ns = std::max(window.summary.last_ns, now);
  ++window.summary.count;
  ++counter;
  return true;
}

void AlertPipeline::Admit(const PendingAlert& alert, const dp::FlowRecord* flow) {
  const std::string& uuid = AttributeUuid(*alert.table, alert.record.indicator);
  if (options_.dedup_window_ns != 0) {
    const std::string key = absl::StrCat(ToAbsl(uuid), "|", FormatAddress(alert.record.tuple.src),
                                         "|", FormatAddress(alert.record.tuple.dst));
    if (Suppress(dedup_windows_, key, alert, options_.dedup_window_ns, 1, "dedup",
                 stats_.suppressed_dedup)) {
      return;
    }
  }
  if (options_.rate_limit_per_minute != 0 &&
      Suppress(rate_windows_, uuid, alert, kMinuteNs, options_.rate_limit_per_minute, "rate_limit",
               stats_.suppressed_rate_limit)) {
    return;
  }
  ++stats_.alerts_raised;
  Write(alert, flow, nullptr);
}

void AlertPipeline::WriteSummary(const Window& window) {
  ++stats_.summaries_written;
  Write(window.opener, nullptr, &window.summary);
}

void AlertPipeline::Write(const PendingAlert& alert, const dp::FlowRecord* flow,
                          const SuppressionSummary* summary) {
  AlertContext context;
  context.alert = &alert.record;
  context.table = alert.table.get();
  context.flow = flow;
  context.observer_name = options_.observer_name;
  context.geoip = options_.geoip;
  context.suppressed = summary;
  const IndicatorEntry& entry = alert.table->entries[alert.record.indicator];
  const std::string document = BuildAlertDocument(context);
  bool cleared_somewhere = false;
  bool written = false;
  for (size_t i = 0; i < options_.sinks.size(); ++i) {
    const SinkBinding& binding = options_.sinks[i];
    if (entry.tlp > binding.max_tlp) {
      ++stats_.tlp_withheld[i];
      continue;
    }
    cleared_somewhere = true;
    if (absl::Status status = binding.sink->Write(document); !status.ok()) {
      ReportSinkError(*binding.sink, status);
    } else {
      written = true;
    }
  }
  if (written && summary == nullptr) ++stats_.alerts_written;
  // The console only echoes what some output is cleared to carry.
  if (on_alert_ && summary == nullptr && cleared_somewhere) {
    const misp::Attribute& attribute = alert.table->attributes[entry.attribute];
    on_alert_(
        {&alert.record, &entry, &attribute, &alert.table->events[attribute.event_index], flow});
  }
}

void AlertPipeline::ReportSinkError(const AlertSink& sink, const absl::Status& status) {
  ++stats_.sink_errors;
  uint64_t suppressed = 0;
  if (error_log_.Allow(suppressed)) {
    LogError("alerts", "event=sink_failed sink={} error=\"{}\" repeats_not_logged={}", sink.name(),
             ToStd(status.message()), suppressed);
  }
}

}  // namespace sensor::ctl
