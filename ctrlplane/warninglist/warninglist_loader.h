// MISP warninglists as read from disk. The folder is laid out as the misp-warninglists
// repository, with one lists/<folder>/list.json per list, and each file is parsed with
// simdjson's DOM API.
//
// Control thread only, because loading allocates and reads files. A list.json that cannot
// be read or parsed adds one line, naming the file, to the errors, and the other lists
// still load.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sensor::ctl {

// Kind of comparison between a list's entries and a value (see warninglist_index.h).
enum class WarninglistType : uint8_t {
  kCidr,
  kHostname,
  kString,
  kSubstring,
  kRegex,
};

// The type as list.json spells it: "cidr", "hostname", "string", "substring", "regex".
std::string_view WarninglistTypeName(WarninglistType type);

struct Warninglist {
  std::string folder;  // Name of the folder holding list.json, such as "cloudflare".
  std::string name;    // The "name" field, which MISP shows and which must be unique.
  std::string description;
  int64_t version = 1;                              // MISP's default when the field is absent.
  WarninglistType type = WarninglistType::kString;  // MISP's default when absent.
  std::string category;              // "false_positive" or "known"; empty when absent.
  std::vector<std::string> entries;  // The "list" field, empty strings left out.
  // Attribute types the list applies to; empty means every type.
  std::vector<std::string> matching_attributes;
  std::string source;  // Path of the list.json, for messages.
};

struct WarninglistLoadResult {
  std::vector<Warninglist> lists;   // Sorted by folder name.
  std::vector<std::string> errors;  // One line per list that was not loaded.
};

// Parses one list.json document. `source` names it in the error message.
//
// Accepts the forms that MISP itself accepts. "list" is an array of strings, or an object
// whose keys are the entries and whose values are comments. "type" is a string, or an
// array whose first element is used. "version" is an integer or a string of digits.
absl::StatusOr<Warninglist> ParseWarninglist(std::string_view json, std::string_view source);

// Loads every <root>/lists/<folder>/list.json. Fails only when <root>/lists cannot be
// listed. Two lists with the same name keep the first in folder order; the second is
// reported in the errors.
absl::StatusOr<WarninglistLoadResult> LoadWarninglists(const std::filesystem::path& root);

}  // namespace sensor::ctl
