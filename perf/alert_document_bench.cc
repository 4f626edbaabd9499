// Alert serialisation on the control thread: BuildAlertDocument for alerts on indicators
// of a real MISP event (MISP's STIX test event, tests/data/misp/events), with the flow
// record's counts, as the alert pipeline writes them to NDJSON and Elasticsearch.

#include <string>
#include <vector>

#include "ctrlplane/alert_document.h"
#include "ctrlplane/indicator_compiler.h"
#include "ctrlplane/misp/misp_loader.h"
#include "perf/bench_util.h"

namespace sensor::ctl {
namespace {

void BM_BuildAlertDocument(benchmark::State& state) {
  auto loaded = misp::LoadMispPath(bench::DataPath("misp/events/misp-stixtest-all-types.json"));
  if (!loaded.ok()) {
    state.SkipWithError("MISP event not found; set SENSOR_TEST_DATA");
    return;
  }
  CompileResult compiled = CompileIndicators(std::move(*loaded), CompileOptions{}, 1);
  const IndicatorTable& table = *compiled.snapshot->indicators;
  if (table.entries.empty()) {
    state.SkipWithError("the event compiled to no indicators");
    return;
  }

  // One alert per compiled indicator, on a TCP flow from 10.16.1.11 to 8.8.8.8.
  std::vector<dp::AlertRecord> alerts(table.entries.size());
  dp::FlowRecord flow;
  for (size_t i = 0; i < alerts.size(); ++i) {
    dp::AlertRecord& alert = alerts[i];
    alert.indicator = static_cast<uint32_t>(i);
    alert.matched_side = dp::kSideDestination;
    alert.packet_time_ns = 1'494'364'058'364'077'000 + i * 1000;
    alert.flow_start_ns = alert.packet_time_ns - 2'000'000;
    alert.tuple.src = dp::IpAddress::FromV4(0x0A10010B);
    alert.tuple.dst = dp::IpAddress::FromV4(0x08080808);
    alert.tuple.src_port = 54380;
    alert.tuple.dst_port = 443;
    alert.tuple.protocol = 6;
    alert.tuple.ip_version = 4;
  }
  flow.tuple = alerts[0].tuple;
  flow.packets[0] = 12;
  flow.packets[1] = 9;
  flow.bytes[0] = 1840;
  flow.bytes[1] = 6120;
  flow.first_ns = alerts[0].flow_start_ns;
  flow.last_ns = alerts[0].packet_time_ns + 5'000'000;

  uint64_t items = 0;
  uint64_t bytes = 0;
  const bench::LoopStart start;
  for (auto _ : state) {
    for (const dp::AlertRecord& alert : alerts) {
      const std::string document = BuildAlertDocument({&alert, &table, &flow, "sensor-1"});
      bytes += document.size();
    }
    items += alerts.size();
  }
  bench::ReportCycles(state, start, items);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["mean_document_bytes"] =
      static_cast<double>(bytes) / static_cast<double>(items == 0 ? 1 : items);
}
BENCHMARK(BM_BuildAlertDocument);

}  // namespace
}  // namespace sensor::ctl

BENCHMARK_MAIN();
