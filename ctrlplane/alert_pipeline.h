// The control thread's alert path: turns worker records into alert documents and hands
// them to the sinks that may carry them.
//
// An alert record arrives when a flow direction first matches an indicator; the document
// is written when the flow's record arrives (flow end, or the alert delay for long
// flows), so it carries the flow's packet and byte counts. Alerts for one (flow,
// attribute) pair are written once, however many rules or snapshots matched it.
//
// Before writing, alerts pass two optional filters that keep analysts from drowning:
// deduplication (one alert per attribute, source and destination per window) and a rate
// limit per attribute. What they hold back is counted and reported in a summary document
// when the window closes, so nothing disappears silently. Each sink then receives only
// alerts whose TLP is at or below its maximum; the others are counted per sink.
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
#include "ctrlplane/alert_document.h"
#include "ctrlplane/enrich/geoip.h"
#include "ctrlplane/indicator_compiler.h"
#include "ctrlplane/log.h"
#include "ctrlplane/sinks/alert_sink.h"
#include "ctrlplane/tlp.h"
#include "dataplane/records.h"

namespace sensor::ctl {

struct SinkBinding {
  AlertSink* sink = nullptr;
  Tlp max_tlp = Tlp::kRed;  // Highest TLP this output is cleared for.
};

struct AlertPipelineOptions {
  std::vector<SinkBinding> sinks;
  std::string observer_name;
  const GeoIp* geoip = nullptr;
  // 0 disables. Packet time: replays of old captures suppress the same way as live.
  uint64_t dedup_window_ns = 0;
  uint32_t rate_limit_per_minute = 0;
};

struct AlertPipelineStats {
  uint64_t alerts_raised = 0;   // Alerts that passed suppression (before TLP checks).
  uint64_t alerts_written = 0;  // Alerts that at least one sink accepted.
  uint64_t alerts_merged = 0;        // Repeat matches of an already alerted (flow, attribute).
  uint64_t alerts_without_flow = 0;  // Written at shutdown without the flow's counts.
  uint64_t unknown_snapshot = 0;     // Records naming a snapshot no longer known (a bug).
  uint64_t suppressed_dedup = 0;
  uint64_t suppressed_rate_limit = 0;
  uint64_t summaries_written = 0;
  uint64_t sink_errors = 0;            // Failed sink writes (each also logged, rate-limited).
  std::vector<uint64_t> tlp_withheld;  // Per sink: alerts above the sink's maximum TLP.
};

// The fields of a written alert that the console echo prints.
struct AlertSummary {
  const dp::AlertRecord* alert;
  const IndicatorEntry* entry;
  const misp::Attribute* attribute;
  const misp::Event* event;
  const dp::FlowRecord* flow;  // Null when written without counts.
};

class AlertPipeline {
 public:
  explicit AlertPipeline(AlertPipelineOptions options);

  // Registers the indicator table of a snapshot before workers can see the snapshot.
  void AddSnapshot(uint64_t version, std::shared_ptr<const IndicatorTable> table);
  // Forgets a snapshot after no worker reads it and its records have been drained.
  void RemoveSnapshot(uint64_t version);
  // Marks a replaced snapshot, which no worker reads any more, for removal. Its records
  // may still sit in the rings, so RemoveRetiredSnapshots() removes it only on a later
  // call, after the control loop has drained the rings once more.
  void RetireSnapshot(uint64_t version) { retiring_.push_back(version); }
  // Removes the snapshots retired before the previous call; call once per control-loop
  // pass, after draining the rings.
  void RemoveRetiredSnapshots();
  size_t snapshot_count() const { return tables_.size(); }
  // True if both snapshot versions are known and share one indicator table.
  bool SameIndicators(uint64_t a, uint64_t b) const;
  // Receives the resolved-address records that workers send beside alerts.
  void set_on_resolved(std::function<void(const dp::ResolvedRecord&)> on_resolved) {
    on_resolved_ = std::move(on_resolved);
  }

  // Receives every flow record after the alert path has used it (flow export).
  void set_on_flow(std::function<void(const dp::FlowRecord&)> on_flow) {
    on_flow_ = std::move(on_flow);
  }
  // The receiver set last, so that a second user can chain it.
  const std::function<void(const dp::FlowRecord&)>& on_flow() const { return on_flow_; }

  void OnRecord(const dp::WorkerRecord& record);
  // Writes alerts whose flow record never arrived (shutdown), the summaries of open
  // suppression windows, and flushes the sinks.
  void Finish();

  // Called for each alert written to at least one sink (the console echo).
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
  // One suppression window: the alert that opened it and what was held back since.
  struct Window {
    PendingAlert opener;
    uint64_t start_ns = 0;
    uint32_t written = 0;
    SuppressionSummary summary;
  };

  void OnAlert(const dp::AlertRecord& alert);
  void OnFlow(const dp::FlowRecord& flow);
  // Applies suppression, then writes what passes.
  void Admit(const PendingAlert& alert, const dp::FlowRecord* flow);
  // Counts `alert` against its window; returns true if the window holds it back.
  bool Suppress(absl::flat_hash_map<std::string, Window>& windows, const std::string& key,
                const PendingAlert& alert, uint64_t window_ns, uint32_t allowed,
                std::string_view reason, uint64_t& counter);
  void WriteSummary(const Window& window);
  void Write(const PendingAlert& alert, const dp::FlowRecord* flow,
             const SuppressionSummary* summary);
  void ReportSinkError(const AlertSink& sink, const absl::Status& status);

  AlertPipelineOptions options_;
  absl::flat_hash_map<uint64_t, std::shared_ptr<const IndicatorTable>> tables_;
  std::vector<uint64_t> retiring_;  // Retired since the last RemoveRetiredSnapshots().
  std::vector<uint64_t> retired_;   // Removed by the next RemoveRetiredSnapshots().
  absl::flat_hash_map<uint64_t, FlowAlerts> flows_;         // By flow id.
  absl::flat_hash_map<std::string, Window> dedup_windows_;  // attribute|source|destination
  absl::flat_hash_map<std::string, Window> rate_windows_;   // attribute
  std::function<void(const AlertSummary&)> on_alert_;
  std::function<void(const dp::ResolvedRecord&)> on_resolved_;
  std::function<void(const dp::FlowRecord&)> on_flow_;
  AlertPipelineStats stats_;
  RateLimitedLog error_log_{5, std::chrono::seconds(10)};
};

}  // namespace sensor::ctl
