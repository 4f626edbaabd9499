#include "ctrlplane/warninglist/warninglist_loader.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dataplane/match/domain_name.h"
#include "fmt/format.h"

namespace sensor::ctl {
namespace {

namespace dom = simdjson::dom;

using dp::internal::QuoteForMessage;

constexpr std::string_view kListsFolder = "lists";
constexpr std::string_view kListFile = "list.json";

struct TypeName {
  WarninglistType type;
  std::string_view name;
};
constexpr TypeName kTypeNames[] = {
    {WarninglistType::kCidr, "cidr"},     {WarninglistType::kHostname, "hostname"},
    {WarninglistType::kString, "string"}, {WarninglistType::kSubstring, "substring"},
    {WarninglistType::kRegex, "regex"},
};

absl::Status InvalidList(std::string_view source, std::string_view reason) {
  return absl::InvalidArgumentError(fmt::format("{}: {}", source, reason));
}

// Reads the string at `key` into `out`. An absent or null key leaves `out` unchanged.
absl::Status ReadOptionalString(dom::object object, std::string_view key, std::string_view source,
                                std::string& out) {
  dom::element value;
  if (object[key].get(value) != simdjson::SUCCESS || value.is_null()) {
    return absl::OkStatus();
  }
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    return InvalidList(source, fmt::format("\"{}\" must be a string", key));
  }
  out = std::string(text);
  return absl::OkStatus();
}

absl::Status ReadVersion(dom::object object, std::string_view source, int64_t& version) {
  dom::element value;
  if (object["version"].get(value) != simdjson::SUCCESS || value.is_null()) {
    return absl::OkStatus();
  }
  if (value.get_int64().get(version) == simdjson::SUCCESS) {
    return absl::OkStatus();
  }
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS && !text.empty()) {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), version);
    if (error == std::errc() && end == text.data() + text.size()) {
      return absl::OkStatus();
    }
  }
  return InvalidList(source, "\"version\" must be an integer or a string of digits");
}

absl::Status ReadType(dom::object object, std::string_view source, WarninglistType& type) {
  dom::element value;
  if (object["type"].get(value) != simdjson::SUCCESS || value.is_null()) {
    return absl::OkStatus();
  }
  dom::array array;
  if (value.get_array().get(array) == simdjson::SUCCESS) {
    if (array.begin() == array.end()) {
      return InvalidList(source, "\"type\" is an empty array");
    }
    value = *array.begin();
  }
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    return InvalidList(source, "\"type\" must be a string");
  }
  for (const TypeName& known : kTypeNames) {
    if (text == known.name) {
      type = known.type;
      return absl::OkStatus();
    }
  }
  return InvalidList(source,
                     fmt::format("unknown type {}; expected cidr, hostname, string, substring "
                                 "or regex",
                                 QuoteForMessage(text)));
}

absl::Status ReadEntries(dom::object object, std::string_view source,
                         std::vector<std::string>& entries) {
  dom::element value;
  if (object["list"].get(value) != simdjson::SUCCESS) {
    return InvalidList(source, "\"list\" is missing");
  }
  dom::array array;
  if (value.get_array().get(array) == simdjson::SUCCESS) {
    size_t index = 0;
    for (dom::element item : array) {
      std::string_view text;
      if (item.get_string().get(text) != simdjson::SUCCESS) {
        return InvalidList(source, fmt::format("\"list\" entry {} is not a string", index));
      }
      if (!text.empty()) {
        entries.emplace_back(text);
      }
      ++index;
    }
    return absl::OkStatus();
  }
  dom::object commented;
  if (value.get_object().get(commented) == simdjson::SUCCESS) {
    for (dom::key_value_pair field : commented) {
      if (!field.key.empty()) {
        entries.emplace_back(field.key);
      }
    }
    return absl::OkStatus();
  }
  return InvalidList(source, "\"list\" must be an array of strings or an object");
}

absl::Status ReadMatchingAttributes(dom::object object, std::string_view source,
                                    std::vector<std::string>& types) {
  dom::element value;
  if (object["matching_attributes"].get(value) != simdjson::SUCCESS || value.is_null()) {
    return absl::OkStatus();
  }
  dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) {
    return InvalidList(source, "\"matching_attributes\" must be an array of strings");
  }
  for (dom::element item : array) {
    std::string_view text;
    if (item.get_string().get(text) != simdjson::SUCCESS) {
      return InvalidList(source, "\"matching_attributes\" must be an array of strings");
    }
    types.emplace_back(text);
  }
  return absl::OkStatus();
}

absl::StatusOr<Warninglist> ReadList(dom::element root, std::string_view source) {
  dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return InvalidList(source, "the document is not a JSON object");
  }
  Warninglist list;
  list.source = std::string(source);
  if (absl::Status status = ReadOptionalString(object, "name", source, list.name); !status.ok()) {
    return status;
  }
  if (list.name.empty()) {
    return InvalidList(source, "\"name\" is missing or empty");
  }
  for (absl::Status status : {
           ReadOptionalString(object, "description", source, list.description),
           ReadOptionalString(object, "category", source, list.category),
           ReadVersion(object, source, list.version),
           ReadType(object, source, list.type),
           ReadEntries(object, source, list.entries),
           ReadMatchingAttributes(object, source, list.matching_attributes),
       }) {
    if (!status.ok()) {
      return status;
    }
  }
  return list;
}

absl::Status InvalidJson(std::string_view source, simdjson::error_code code) {
  return InvalidList(source, fmt::format("invalid JSON: {}", simdjson::error_message(code)));
}

}  // namespace

std::string_view WarninglistTypeName(WarninglistType type) {
  for (const TypeName& known : kTypeNames) {
    if (known.type == type) {
      return known.name;
    }
  }
  return "unknown";
}

absl::StatusOr<Warninglist> ParseWarninglist(std::string_view json, std::string_view source) {
  dom::parser parser;
  dom::element root;
  const simdjson::padded_string padded(json);
  if (const auto code = parser.parse(padded).get(root); code != simdjson::SUCCESS) {
    return InvalidJson(source, code);
  }
  return ReadList(root, source);
}

absl::StatusOr<WarninglistLoadResult> LoadWarninglists(const std::filesystem::path& root) {
  const std::filesystem::path lists_folder = root / kListsFolder;
  std::error_code error;
  std::vector<std::filesystem::path> folders;
  for (std::filesystem::directory_iterator it(lists_folder, error), end; !error && it != end;
       it.increment(error)) {
    if (it->is_directory(error)) {
      folders.push_back(it->path());
    }
  }
  if (error) {
    return absl::NotFoundError(fmt::format("failed to list warninglists folder {}: {}",
                                           lists_folder.string(), error.message()));
  }
  std::sort(folders.begin(), folders.end());

  WarninglistLoadResult result;
  absl::flat_hash_set<std::string> names;
  dom::parser parser;
  for (const std::filesystem::path& folder : folders) {
    const std::string source = (folder / kListFile).string();
    simdjson::padded_string json;
    if (const auto code = simdjson::padded_string::load(source).get(json);
        code != simdjson::SUCCESS) {
      result.errors.push_back(
          fmt::format("{}: failed to read: {}", source, simdjson::error_message(code)));
      continue;
    }
    dom::element document;
    if (const auto code = parser.parse(json).get(document); code != simdjson::SUCCESS) {
      result.errors.emplace_back(InvalidJson(source, code).message());
      continue;
    }
    absl::StatusOr<Warninglist> list = ReadList(document, source);
    if (!list.ok()) {
      result.errors.emplace_back(list.status().message());
      continue;
    }
    if (!names.insert(list->name).second) {
      result.errors.push_back(fmt::format("{}: skipped: another list already has the name {}",
                                          source, QuoteForMessage(list->name)));
      continue;
    }
    list->folder = folder.filename().string();
    result.lists.push_back(*std::move(list));
  }
  return result;
}

}  // namespace sensor::ctl
