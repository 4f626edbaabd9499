// The YAML configuration file of `sensor run` and `sensor replay`.
//
// Every key is the name of a command-line option of the mode, without the leading "--"
// (`workers: 4` is `--workers 4`), so the file and the command line share one set of
// names, defaults and checks. Keys may sit at the top level or inside sections, which
// only group them (`flows:`, `alerts:`, ...). A list repeats the option, `true` sets a
// flag and `false` leaves it off. An option given on the command line wins over the file.
//
// Main thread only.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace sensor {

struct ConfigArguments {
  std::vector<std::string> arguments;  // "--workers", "4", ... in file order.
  // "FILE:LINE" of each option set by the file, by option name ("--workers").
  std::map<std::string, std::string> locations;
  // One line each, "FILE:LINE:COLUMN: what is wrong and how to fix it".
  std::vector<std::string> errors;
};

// Reads `path` and turns its keys into arguments for `command`. Keys of options in
// `given` (already on the command line) are checked but not turned into arguments.
ConfigArguments ReadConfigFile(const std::string& path, const CLI::App& command,
                               const std::vector<std::string>& given);

// Removes "--config FILE" or "--config=FILE" from `arguments` and returns FILE.
std::optional<std::string> TakeConfigPath(std::vector<std::string>& arguments);

// Prefixes the location of the first option named in `message` that the file set, so
// a range or type error points at its line: "FILE:LINE: message".
std::string LocateConfigError(const std::string& message, const ConfigArguments& config);

}  // namespace sensor
