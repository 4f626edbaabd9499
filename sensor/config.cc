#include "sensor/config.h"

#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <ios>
#include <set>
#include <string_view>
#include <utility>

#include "fmt/format.h"

namespace sensor {
namespace {

std::string Where(const std::string& path, const YAML::Mark& mark) {
  return fmt::format("{}:{}:{}", path, mark.line + 1, mark.column + 1);
}

// Returns the Levenshtein distance of `a` and `b`, used to suggest the option a misspelt
// key meant, or `limit` as soon as the distance is known to be at least `limit`.
size_t EditDistance(const std::string& a, const std::string& b, size_t limit) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    size_t row_minimum = row[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
      row_minimum = std::min(row_minimum, row[j]);
    }
    // Each row's minimum never decreases, so the final distance is at least this one.
    if (row_minimum >= limit) return limit;
  }
  return std::min(row[b.size()], limit);
}

std::string Suggestion(const std::string& key, const CLI::App& command) {
  std::string best;
  size_t best_distance = 3;  // Suggest only close names.
  for (const CLI::Option* option : command.get_options()) {
    for (const std::string& name : option->get_lnames()) {
      // The distance is at least the difference in length, so most names need no
      // quadratic comparison, and a long key costs no more than a short one.
      const size_t longer = std::max(key.size(), name.size());
      if (longer - std::min(key.size(), name.size()) >= best_distance) continue;
      const size_t distance = EditDistance(key, name, best_distance);
      if (distance < best_distance) {
        best_distance = distance;
        best = name;
      }
    }
  }
  return best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best);
}

class Reader {
 public:
  Reader(const std::string& path, const CLI::App& command, const std::vector<std::string>& given)
      : path_(path), command_(command), given_(given) {}

  void ReadMap(const YAML::Node& map, const std::string& section, int depth) {
    for (const auto& entry : map) {
      const YAML::Node& key_node = entry.first;
      const YAML::Node& value = entry.second;
      if (!key_node.IsScalar()) {
        Error(key_node.Mark(), "a key must be a plain name");
        continue;
      }
      const std::string key = key_node.Scalar();
      // A map at the top level is a section, even where its name is also an option.
      if (value.IsMap() && depth == 0) {
        ReadMap(value, key, depth + 1);
        continue;
      }
      const CLI::Option* option = FindOption(key);
      if (option == nullptr) {
        Error(key_node.Mark(),
              fmt::format("unknown option '{}'{}{}; every key is an option of `sensor {} "
                          "--help` without the leading --",
                          key, section.empty() ? "" : fmt::format(" in section '{}'", section),
                          Suggestion(key, command_), command_.get_name()));
        continue;
      }
      AddOption(*option, key, value);
    }
  }

  ConfigArguments Take() { return std::move(result_); }

  void Error(const YAML::Mark& mark, const std::string& message) {
    result_.errors.push_back(fmt::format("{}: {}", Where(path_, mark), message));
  }

 private:
  const CLI::Option* FindOption(const std::string& key) const {
    if (key == "config" || key == "help") return nullptr;
    return command_.get_option_no_throw("--" + key);
  }

  void AddOption(const CLI::Option& option, const std::string& key, const YAML::Node& value) {
    const std::string name = "--" + key;
    if (seen_.count(name) != 0) {
      Error(value.Mark(), fmt::format("option '{}' is set twice; the first is at {}", key,
                                      result_.locations[name]));
      return;
    }
    const bool is_flag = option.get_expected_min() == 0;
    if (is_flag) {
      bool enabled = false;
      if (!value.IsScalar() || !YAML::convert<bool>::decode(value, enabled)) {
        Error(value.Mark(), fmt::format("option '{}' is a switch: write true or false", key));
        return;
      }
      Record(name, value.Mark());
      if (enabled && !Given(name)) result_.arguments.push_back(name);
      return;
    }
    std::vector<std::string> values;
    if (value.IsScalar()) {
      values.push_back(value.Scalar());
    } else if (value.IsSequence()) {
      for (const YAML::Node& item : value) {
        if (!item.IsScalar()) {
          Error(item.Mark(), fmt::format("option '{}': each list item must be a value", key));
          return;
        }
        values.push_back(item.Scalar());
      }
      if (values.size() > 1 && option.get_items_expected_max() <= 1 &&
          option.get_multi_option_policy() != CLI::MultiOptionPolicy::TakeAll) {
        Error(value.Mark(), fmt::format("option '{}' takes one value, not a list", key));
        return;
      }
    } else {
      Error(value.Mark(), fmt::format("option '{}' needs a value (text, number or a list)", key));
      return;
    }
    if (values.empty() || (values.size() == 1 && values[0].empty() && value.IsNull())) {
      Error(value.Mark(), fmt::format("option '{}' has no value", key));
      return;
    }
    Record(name, value.Mark());
    if (Given(name)) return;
    for (const std::string& item : values) {
      result_.arguments.push_back(name);
      result_.arguments.push_back(item);
    }
  }

  void Record(const std::string& name, const YAML::Mark& mark) {
    seen_.insert(name);
    result_.locations[name] = fmt::format("{}:{}", path_, mark.line + 1);
  }

  bool Given(const std::string& name) const {
    return std::find(given_.begin(), given_.end(), name) != given_.end();
  }

  const std::string& path_;
  const CLI::App& command_;
  const std::vector<std::string>& given_;
  std::set<std::string> seen_;
  ConfigArguments result_;
};

}  // namespace

ConfigArguments ReadConfigFile(const std::string& path, const CLI::App& command,
                               const std::vector<std::string>& given) {
  Reader reader(path, command, given);
  YAML::Node root;
  const auto unreadable = [&path](std::string_view why) {
    ConfigArguments result;
    result.errors.push_back(
        fmt::format("{}: cannot read the configuration file{}{}", path, why.empty() ? "" : ": ",
                    why));
    return result;
  };
  // yaml-cpp reads through an ifstream, which opens a directory and then fails with an
  // iostream exception rather than BadFile.
  std::error_code status_error;
  if (std::filesystem::is_directory(path, status_error)) return unreadable("it is a directory");
  errno = 0;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return unreadable(errno != 0 ? std::strerror(errno) : "");
  } catch (const YAML::ParserException& error) {
    reader.Error(error.mark, fmt::format("invalid YAML: {}", error.msg));
    return reader.Take();
  } catch (const std::ios_base::failure&) {
    return unreadable(errno != 0 ? std::strerror(errno) : "");
  }
  if (root.IsNull()) return reader.Take();  // An empty file sets nothing.
  if (!root.IsMap()) {
    reader.Error(root.Mark(), "the configuration must be a map of option: value");
    return reader.Take();
  }
  try {
    reader.ReadMap(root, "", 0);
  } catch (const YAML::Exception& error) {
    reader.Error(error.mark, fmt::format("invalid YAML: {}", error.msg));
  }
  return reader.Take();
}

std::optional<std::string> TakeConfigPath(std::vector<std::string>& arguments) {
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (arguments[i] == "--config" && i + 1 < arguments.size()) {
      std::string path = arguments[i + 1];
      arguments.erase(arguments.begin() + static_cast<std::ptrdiff_t>(i),
                      arguments.begin() + static_cast<std::ptrdiff_t>(i + 2));
      return path;
    }
    if (arguments[i].rfind("--config=", 0) == 0) {
      std::string path = arguments[i].substr(9);
      arguments.erase(arguments.begin() + static_cast<std::ptrdiff_t>(i));
      return path;
    }
  }
  return std::nullopt;
}

std::string LocateConfigError(const std::string& message, const ConfigArguments& config) {
  // The longest option name first, so "--alerts-max-tlp" is not taken for "--alerts".
  std::vector<std::pair<std::string, std::string>> by_length(config.locations.begin(),
                                                             config.locations.end());
  std::sort(by_length.begin(), by_length.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& [name, location] : by_length) {
    for (size_t at = message.find(name); at != std::string::npos;
         at = message.find(name, at + 1)) {
      const size_t end = at + name.size();
      const bool whole = end == message.size() ||
                         !(std::isalnum(static_cast<unsigned char>(message[end])) ||
                           message[end] == '-');
      if (whole) return fmt::format("{}: {}", location, message);
    }
  }
  return message;
}

}  // namespace sensor
