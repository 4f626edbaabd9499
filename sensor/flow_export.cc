#include "sensor/flow_export.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "sensor/cli_checks.h"
#include "sensor/engine.h"
#include "sensor/stats_report.h"

namespace sensor {

void AddFlowExportOptions(CLI::App& command, FlowExportOptions& options) {
  command.add_option("--ipfix", options.ipfix_url,
                     "Export every flow as IPFIX to this collector: udp://HOST:PORT or "
                     "tcp://HOST:PORT, IPv6 in brackets (udp://[::1]:4739); port 4739 if "
                     "none is given");
  command
      .add_option("--ipfix-observation-domain", options.observation_domain,
                  "Observation Domain ID in the IPFIX message headers")
      ->capture_default_str();
  command
      .add_option("--ipfix-enterprise-number", options.enterprise_number,
                  "Private Enterprise Number of the sensor's own IPFIX elements (alert count "
                  "and flag); the default 32473 is the documentation PEN of RFC 5612")
      ->capture_default_str()
      ->check(CLI::Range(1u, 0xffffffffu));
  command
      .add_option("--ipfix-mtu", options.path_mtu,
                  "IP MTU of the path to the collector, in bytes: each message fits in one "
                  "packet of this size")
      ->capture_default_str()
      ->check(CLI::Range(576, 65535));
  command
      .add_option("--ipfix-template-refresh", options.template_refresh_s,
                  "UDP: seconds after which the templates are sent again (0: only by count)")
      ->capture_default_str()
      ->check(sensor::Seconds());
  command
      .add_option("--ipfix-template-refresh-messages", options.template_refresh_messages,
                  "UDP: messages after which the templates are sent again (0: only by time)")
      ->capture_default_str();
  command
      .add_option("--active-timeout", options.active_timeout_s,
                  "Seconds after which a long flow sends a record and its counters restart, "
                  "as IPFIX exporters do (0: only at flow end)")
      ->capture_default_str()
      ->check(sensor::Seconds());
}

absl::Status FlowExport::Validate(const FlowExportOptions& options) {
  if (options.ipfix_url.empty()) return absl::OkStatus();
  absl::StatusOr<ctl::IpfixCollectorUrl> url = ctl::ParseIpfixUrl(options.ipfix_url);
  if (!url.ok()) return url.status();
  if (options.enterprise_number == ctl::kReverseEnterpriseNumber) {
    return absl::InvalidArgumentError(
        "invalid --ipfix-enterprise-number 29305: RFC 5103 reserves it for reverse elements");
  }
  return absl::OkStatus();
}

absl::Status FlowExport::Open(const FlowExportOptions& options, bool replay) {
  options_ = options;
  if (options.ipfix_url.empty()) return absl::OkStatus();
  absl::StatusOr<ctl::IpfixCollectorUrl> url = ctl::ParseIpfixUrl(options.ipfix_url);
  if (!url.ok()) return url.status();
  ctl::IpfixExporterOptions exporter_options;
  exporter_options.collector = *url;
  exporter_options.observation_domain = options.observation_domain;
  exporter_options.enterprise_number = options.enterprise_number;
  exporter_options.path_mtu = options.path_mtu;
  exporter_options.template_refresh =
      std::chrono::seconds(static_cast<int64_t>(options.template_refresh_s));
  exporter_options.template_refresh_messages = options.template_refresh_messages;
  exporter_options.export_time_from_records = replay;
  exporter_options.wait_for_collector = replay;
  absl::StatusOr<std::unique_ptr<ctl::IpfixExporter>> exporter =
      ctl::IpfixExporter::Create(exporter_options);
  if (!exporter.ok()) return exporter.status();
  exporter_ = std::move(*exporter);
  return absl::OkStatus();
}

void FlowExport::Attach(ctl::AlertPipeline& pipeline, EngineOptions& engine_options) {
  engine_options.flows.active_timeout_ns = static_cast<uint64_t>(options_.active_timeout_s * 1e9);
  if (exporter_ == nullptr) return;
  engine_options.export_flows = true;
  ctl::IpfixExporter* exporter = exporter_.get();
  pipeline.set_on_flow(
      [exporter](const dp::FlowRecord& record) { exporter->OnFlowRecord(record); });
}

void FlowExport::Tick() {
  if (exporter_ != nullptr) exporter_->Tick();
}

void FlowExport::Finish() {
  if (exporter_ == nullptr) return;
  exporter_->Finish();
  const ctl::IpfixExporterStats& stats = exporter_->stats();
  if (stats.records_dropped() != 0) {
    std::fprintf(stderr,
                 "sensor: %llu of %llu flow records were not exported to %s; \"ipfix\" in the "
                 "statistics gives the reasons\n",
                 static_cast<unsigned long long>(stats.records_dropped()),
                 static_cast<unsigned long long>(stats.records_received),
                 options_.ipfix_url.c_str());
  }
}

void FlowExport::FillSummary(RunSummary& summary) const {
  if (exporter_ == nullptr) return;
  summary.ipfix = &exporter_->stats();
  summary.ipfix_collector = options_.ipfix_url;
  summary.ipfix_observation_domain = options_.observation_domain;
}

}  // namespace sensor
