// `sensor explain`: loads the intelligence as replay and run do and reports, for each
// value, the indicators it matches and the ones warninglists removed.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "ctrlplane/explain.h"
#include "ctrlplane/misp/misp_loader.h"
#include "sensor/intelligence.h"
#include "sensor/misp_sources.h"
#include "sensor/sensor_main.h"

namespace sensor {

int RunExplain(const SensorOptions& options, const std::vector<std::string>& values) {
  absl::StatusOr<ctl::CompileOptions> compile_options = CompileOptionsFrom(options);
  if (!compile_options.ok()) {
    std::fprintf(stderr, "sensor: %s\n", std::string(compile_options.status().message()).c_str());
    return kExitUsage;
  }
  absl::StatusOr<std::optional<ctl::WarninglistIndex>> warninglists =
      LoadWarninglistFolder(options.warninglists);
  if (!warninglists.ok()) {
    std::fprintf(stderr, "sensor: %s\n", std::string(warninglists.status().message()).c_str());
    return kExitFailure;
  }
  if (warninglists->has_value()) compile_options->warninglists = &**warninglists;

  absl::StatusOr<std::unique_ptr<misp::MispSync>> misp_sync = CreateMispSync(options);
  if (!misp_sync.ok()) {
    std::fprintf(stderr, "sensor: %s\n", std::string(misp_sync.status().message()).c_str());
    return misp_sync.status().code() == absl::StatusCode::kInvalidArgument ? kExitUsage
                                                                            : kExitFailure;
  }
  absl::StatusOr<misp::LoadResult> loaded = SyncMispSources(**misp_sync);
  if (!loaded.ok()) {
    std::fprintf(stderr, "sensor: %s\n", std::string(loaded.status().message()).c_str());
    return kExitFailure;
  }
  absl::StatusOr<std::unique_ptr<ctl::IndicatorExplainer>> explainer =
      ctl::IndicatorExplainer::Build(std::move(*loaded), *compile_options);
  if (!explainer.ok()) {
    std::fprintf(stderr, "sensor: %s\n", std::string(explainer.status().message()).c_str());
    return kExitFailure;
  }
  const ctl::CompileStats& stats = (*explainer)->stats();
  PrintProblems(stats.errors, "problems in the MISP input");
  std::printf("intelligence: %llu indicators from %llu events in %s; %llu attributes removed "
              "by warninglists\n",
              static_cast<unsigned long long>(stats.loaded()),
              static_cast<unsigned long long>(stats.events),
              JoinMispSources(options).c_str(),
              static_cast<unsigned long long>(stats.warninglisted));
  for (const std::string& value : values) {
    std::fputs(ctl::FormatExplanation((*explainer)->Explain(value)).c_str(), stdout);
  }
  return kExitOk;
}

}  // namespace sensor
