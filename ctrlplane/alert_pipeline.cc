#include "ctrlplane/alert_pipeline.h"

#include "ctrlplane/alert_document.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/log.h"

namespace sensor::ctl {

AlertPipeline::AlertPipeline(std::vector<AlertSink*> sinks, std::string observer_name)
    : sinks_(std::move(sinks)), observer_name_(std::move(observer_name)) {}

void AlertPipeline::AddSnapshot(uint64_t version, std::shared_ptr<const IndicatorTable> table) {
  tables_[version] = std::move(table);
}

void AlertPipeline::RemoveSnapshot(uint64_t version) { tables_.erase(version); }

void AlertPipeline::OnRecord(const dp::WorkerRecord& record) {
  if (record.kind == dp::RecordKind::kAlert) {
    OnAlert(record.alert);
  } else {
    OnFlow(record.flow);
  }
}

void AlertPipeline::OnAlert(const dp::AlertRecord& alert) {
  auto table = tables_.find(alert.snapshot_version);
  if (table == tables_.end()) {
    ++stats_.unknown_snapshot;
    return;
  }
  const IndicatorTable& indicators = *table->second;
  const std::string& uuid =
      indicators.attributes[indicators.entries[alert.indicator].attribute].uuid;
  FlowAlerts& flow = flows_[alert.flow_id];
  if (!flow.alerted_attributes.insert(uuid).second) {
    ++stats_.alerts_merged;
    return;
  }
  flow.pending.push_back({alert, table->second});
}

void AlertPipeline::OnFlow(const dp::FlowRecord& flow) {
  auto it = flows_.find(flow.flow_id);
  if (it == flows_.end()) return;
  for (const PendingAlert& alert : it->second.pending) Write(alert, &flow);
  it->second.pending.clear();
  if (flow.final) flows_.erase(it);
}

void AlertPipeline::Finish() {
  for (auto& [flow_id, flow] : flows_) {
    for (const PendingAlert& alert : flow.pending) {
      ++stats_.alerts_without_flow;
      Write(alert, nullptr);
    }
  }
  flows_.clear();
  for (AlertSink* sink : sinks_) {
    if (absl::Status status = sink->Flush(); !status.ok()) {
      ++stats_.sink_errors;
      LogError("alerts", "event=flush_failed sink={} error=\"{}\"", sink->name(),
               ToStd(status.message()));
    }
  }
}

void AlertPipeline::Write(const PendingAlert& alert, const dp::FlowRecord* flow) {
  AlertContext context;
  context.alert = &alert.record;
  context.table = alert.table.get();
  context.flow = flow;
  context.observer_name = observer_name_;
  const std::string document = BuildAlertDocument(context);
  for (AlertSink* sink : sinks_) {
    if (absl::Status status = sink->Write(document); !status.ok()) {
      ++stats_.sink_errors;
      LogError("alerts", "event=write_failed sink={} error=\"{}\"", sink->name(),
               ToStd(status.message()));
    }
  }
  ++stats_.alerts_written;
  if (on_alert_) {
    const IndicatorEntry& entry = alert.table->entries[alert.record.indicator];
    const misp::Attribute& attribute = alert.table->attributes[entry.attribute];
    on_alert_({&alert.record, &entry, &attribute, &alert.table->events[attribute.event_index],
               flow});
  }
}

}  // namespace sensor::ctl
