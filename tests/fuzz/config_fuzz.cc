// Fuzz target for the YAML configuration reader of `sensor run`, `sensor replay` and
// `sensor check-config` (ReadConfigFile). The options come from the same helpers the sensor
// registers them with, plus a few of each kind (repeatable, switch, number) that main.cc
// adds; the reader only needs their names, arities and multi-option policies.
//
// ReadConfigFile takes a path, so each input is written to a memfd and read through
// /proc/self/fd, which needs no file system.
#include <sys/mman.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sensor/alert_outputs.h"
#include "sensor/config.h"
#include "sensor/flow_export.h"
#include "sensor/live_control.h"
#include "sensor/misp_sources.h"
#include "sensor/sensor_main.h"

namespace {

struct Context {
  sensor::SensorOptions options;
  CLI::App command{"fuzz", "replay"};
  int fd = -1;
  std::string path;
};

Context& GetContext() {
  static Context* context = [] {
    auto* created = new Context;
    sensor::SensorOptions& options = created->options;
    CLI::App& command = created->command;
    command.add_option("--misp", options.misp, "MISP sources")->take_all();
    command.add_option("--workers", options.workers, "Worker lcores")->check(CLI::Range(1, 64));
    command.add_option("--speed", options.speed, "Replay speed")->check(CLI::NonNegativeNumber);
    command.add_flag("--include-non-ids", options.include_non_ids, "Include to_ids false");
    command.add_option("--default-tlp", options.default_tlp, "TLP default");
    sensor::AddMispSyncOptions(command, options);
    sensor::AddAlertOutputOptions(command, options);
    sensor::AddFlowExportOptions(command, options.flow_export);
    sensor::AddControlOptions(command, options.control, /*live=*/false);
    created->fd = memfd_create("config.yaml", 0);
    if (created->fd < 0) __builtin_trap();
    created->path = "/proc/self/fd/" + std::to_string(created->fd);
    return created;
  }();
  return *context;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Context& context = GetContext();
  if (ftruncate(context.fd, 0) != 0) __builtin_trap();
  if (size > 0 && pwrite(context.fd, data, size, 0) != static_cast<ssize_t>(size)) {
    __builtin_trap();
  }
  // --workers counts as given on the command line, so the reader checks it but skips it.
  const sensor::ConfigArguments config =
      sensor::ReadConfigFile(context.path, context.command, {"--workers"});
  for (const std::string& error : config.errors) {
    static_cast<void>(sensor::LocateConfigError(error, config));
  }
  if (!config.errors.empty()) return 0;
  for (const auto& [name, location] : config.locations) {
    if (context.command.get_option_no_throw(name) == nullptr) __builtin_trap();
  }
  return 0;
}
