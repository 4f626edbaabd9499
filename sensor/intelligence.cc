#include "sensor/intelligence.h"

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ctrlplane/tlp.h"
#include "ctrlplane/warninglist/warninglist_loader.h"

namespace sensor {

void PrintProblems(const std::vector<std::string>& problems, std::string_view what) {
  constexpr size_t kShown = 10;
  for (size_t i = 0; i < problems.size() && i < kShown; ++i) {
    std::fprintf(stderr, "sensor: %s\n", problems[i].c_str());
  }
  if (problems.size() > kShown) {
    std::fprintf(stderr, "sensor: ... and %zu more %.*s\n", problems.size() - kShown,
                 static_cast<int>(what.size()), what.data());
  }
}

absl::StatusOr<ctl::CompileOptions> CompileOptionsFrom(const SensorOptions& options) {
  ctl::CompileOptions compile_options;
  const std::optional<ctl::Tlp> default_tlp = ctl::TlpFromName(options.default_tlp);
  if (!default_tlp) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid --default-tlp '", options.default_tlp,
        "': use clear, green, amber, amber+strict or red"));
  }
  compile_options.default_tlp = *default_tlp;
  compile_options.include_non_ids = options.include_non_ids;
  compile_options.min_prefix_v4 = options.min_prefix_v4;
  compile_options.min_prefix_v6 = options.min_prefix_v6;
  compile_options.workers = options.workers;
  return compile_options;
}

absl::StatusOr<std::optional<ctl::WarninglistIndex>> LoadWarninglistFolder(
    const std::string& folder) {
  if (folder.empty()) return std::optional<ctl::WarninglistIndex>();
  absl::StatusOr<ctl::WarninglistLoadResult> lists = ctl::LoadWarninglists(folder);
  if (!lists.ok()) return lists.status();
  std::vector<std::string> problems = std::move(lists->errors);
  absl::StatusOr<ctl::WarninglistIndex> index =
      ctl::WarninglistIndex::Build(std::move(lists->lists), {}, problems);
  PrintProblems(problems, "problems in the warninglists");
  if (!index.ok()) return index.status();
  return std::optional<ctl::WarninglistIndex>(std::move(*index));
}

}  // namespace sensor
