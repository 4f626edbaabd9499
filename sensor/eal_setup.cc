#include "sensor/eal_setup.h"

#include <rte_eal.h>
#include <rte_errno.h>

#include <filesystem>

#include "absl/strings/str_cat.h"

namespace sensor {

absl::Status InitEal(std::vector<std::string> arguments) {
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(argv.size() - 1), argv.data()) < 0) {
    return absl::InternalError(
        absl::StrCat("DPDK EAL initialisation failed: ", rte_strerror(rte_errno)));
  }
  return absl::OkStatus();
}

void CleanupEal() {
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  std::error_code ignored;
  std::filesystem::remove_all(runtime_dir, ignored);
}

}  // namespace sensor
