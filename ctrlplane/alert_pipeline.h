// The control thread's alert path: turns worker records into alert documents and hands
// them to the sinks.
//
// An alert record arrives when a flow direction first matches an indicator; the document
// is written when the flow's record arrives (flow end, or the alert delay for long
// flows), so it carries the flow's packet and byte counts. Alerts for one (flow,
// attribute) pair are written once, however many rules or snapshots matched it.
//
// Control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "ctrlplane/indicator_compiler.h"
#include "ctrlplane/sinks/alert_sink.h"
#include "dataplane/records.h"

namespace sensor::ctl {

struct AlertPipelineStats {
  uint64_t alerts_written = 0;      // Documents handed to the sinks.
  uint64_t alerts_merged = 0;       // Repeat matches of an already alerted (flow, attribute).
  uint64_t alerts_without_flow = 0; // Written at shutdown without the flow's counts.
  uint64_t unknown_snapshot = 0;    // Records naming a snapshot no longer known (a bug).
  uint64_t sink_errors = 0;         // Failed sink writes (each also logged).
};

// What the console shows for each written alert.
struct AlertSummary {
  const dp::AlertRecord* alert;
  const IndicatorEntry* entry;
  const misp::Attribute* attribute;
  const misp::Event* event;
  const dp::FlowRecord* flow;  // Null when written without counts.
};

class AlertPipeline {
 public:
  AlertPipeline(std::vector<AlertSink*> sinks, std::string observer_name);

  // Registers the indicator table of a snapshot before workers can see the snapshot.
  void AddSnapshot(uint64_t version, std::shared_ptr<const IndicatorTable> table);
  // Forgets a snapshot after no worker reads it and its records have been drained.
  void RemoveSnapshot(uint64_t version);

  void OnRecord(const dp::WorkerRecord& record);
  // Writes alerts whose flow record never arrived (shutdown) and flushes the sinks.
  void Finish();

  void set_on_alert(std::function<void(const AlertSummary&)> on_alert) {
    on_alert_ = std::move(on_alert);
  }
  const AlertPipelineStats& stats() const { return stats_; }
  size_t pending_flows() const { return flows_.size(); }

 private:
  struct PendingAlert {
    dp::AlertRecord record;
    std::shared_ptr<const IndicatorTable> table;
  };
  struct FlowAlerts {
    std::vector<PendingAlert> pending;
    absl::flat_hash_set<std::string> alerted_attributes;  // Attribute uuids.
  };

  void OnAlert(const dp::AlertRecord& alert);
  void OnFlow(const dp::FlowRecord& flow);
  void Write(const PendingAlert& alert, const dp::FlowRecord* flow);

  std::vector<AlertSink*> sinks_;
  std::string observer_name_;
  absl::flat_hash_map<uint64_t, std::shared_ptr<const IndicatorTable>> tables_;
  absl::flat_hash_map<uint64_t, FlowAlerts> flows_;  // By flow id.
  std::function<void(const AlertSummary&)> on_alert_;
  AlertPipelineStats stats_;
};

}  // namespace sensor::ctl
