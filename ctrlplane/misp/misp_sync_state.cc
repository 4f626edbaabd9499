#include "ctrlplane/misp/misp_sync_state.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/misp/misp_loader.h"
#include "fmt/format.h"

namespace sensor::misp {
namespace {

namespace dom = simdjson::dom;

// Returns the value of `key` in `object`, or nullopt when absent or null.
std::optional<dom::element> Field(dom::object object, std::string_view key) {
  dom::element value;
  if (object[key].get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
  return value;
}

bool ReadInteger(dom::element value, int64_t& out) {
  int64_t number = 0;
  if (value.get_int64().get(number) == simdjson::SUCCESS) {
    out = number;
    return true;
  }
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS || text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size()) return false;
  out = number;
  return true;
}

// MISP writes flags as true, 1 or "1".
bool IsTrue(dom::element value) {
  bool flag = false;
  if (value.get_bool().get(flag) == simdjson::SUCCESS) return flag;
  int64_t number = 0;
  if (value.get_int64().get(number) == simdjson::SUCCESS) return number != 0;
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS) return text == "1" || text == "true";
  return false;
}

std::string_view KindOf(dom::element value) {
  switch (value.type()) {
    case dom::element_type::ARRAY:
      return "an array";
    case dom::element_type::OBJECT:
      return "an object";
    case dom::element_type::STRING:
      return "a string";
    case dom::element_type::BOOL:
      return "a boolean";
    case dom::element_type::NULL_VALUE:
      return "null";
    default:
      return "a number";
  }
}

// True when `text` ends inside a string or with an array or object still open, which is
// what a dropped connection or a crashed server leaves. simdjson reports such a document
// with a generic structure error, so the brackets are counted here.
bool EndsOpen(std::string_view text) {
  int64_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
  }
  return in_string || depth > 0;
}

std::string DescribeJsonError(std::string_view body, simdjson::error_code code) {
  if (EndsOpen(body)) {
    return fmt::format(
        "truncated JSON: the document ends before its last array or object "
        "closes, after {} bytes",
        body.size());
  }
  return fmt::format("invalid JSON ({})", simdjson::error_message(code));
}

absl::Status Rejected(std::string_view source, std::string_view reason) {
  return absl::InvalidArgumentError(fmt::format("{}: rejected the response: {}", source, reason));
}

bool IsSafeFileStem(std::string_view key) {
  if (key.empty() || key.size() > 64) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
}

void ReadTagNames(dom::object object, std::vector<std::string>& names) {
  std::optional<dom::element> tags = Field(object, "Tag");
  dom::array list;
  if (!tags.has_value() || tags->get_array().get(list) != simdjson::SUCCESS) return;
  for (dom::element entry : list) {
    dom::object tag;
    std::string_view name;
    if (entry.get_object().get(tag) == simdjson::SUCCESS &&
        tag["name"].get_string().get(name) == simdjson::SUCCESS) {
      names.emplace_back(name);
    }
  }
}

// Compares what an alert or the compiler reads, so Event::source and
// Attribute::event_index, which depend on the page, are left out.
bool SameEvent(const Event& a, const Event& b) {
  return a.id == b.id && a.uuid == b.uuid && a.info == b.info && a.date == b.date &&
         a.org == b.org && a.threat_level_id == b.threat_level_id && a.analysis == b.analysis &&
         a.published == b.published && a.timestamp == b.timestamp && a.tags == b.tags;
}

bool SameAttribute(const Attribute& a, const Attribute& b) {
  return a.uuid == b.uuid && a.type == b.type && a.category == b.category && a.value == b.value &&
         a.comment == b.comment && a.object_name == b.object_name &&
         a.object_relation == b.object_relation && a.to_ids == b.to_ids && a.deleted == b.deleted &&
         a.timestamp == b.timestamp && a.tags == b.tags;
}

}  // namespace

absl::StatusOr<int64_t> ParseMaxAge(std::string_view text) {
  std::string_view digits = text;
  int64_t unit_seconds = 1;
  if (!digits.empty() && absl::ascii_isalpha(static_cast<unsigned char>(digits.back()))) {
    switch (absl::ascii_tolower(static_cast<unsigned char>(digits.back()))) {
      case 'd':
        unit_seconds = 86400;
        break;
      case 'h':
        unit_seconds = 3600;
        break;
      case 'm':
        unit_seconds = 60;
        break;
      case 's':
        unit_seconds = 1;
        break;
      default:
        unit_seconds = 0;
        break;
    }
    digits.remove_suffix(1);
  }
  int64_t count = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
  constexpr int64_t kHundredYears = int64_t{100} * 365 * 86400;
  if (unit_seconds == 0 || digits.empty() || error != std::errc() ||
      end != digits.data() + digits.size() || count <= 0 || count > kHundredYears / unit_seconds) {
    return absl::InvalidArgumentError(fmt::format(
        "invalid MISP maximum age '{}': expected a positive number with a unit d, h, m or s, "
        "for example 30d",
        text));
  }
  return count * unit_seconds;
}

bool MatchesTagFilter(const std::vector<std::string>& filter,
                      const std::vector<std::string>& tags) {
  bool has_positive = false;
  bool positive_found = false;
  for (const std::string& wanted : filter) {
    const bool negated = !wanted.empty() && wanted.front() == '!';
    const std::string_view name = negated ? std::string_view(wanted).substr(1) : wanted;
    const bool present = std::find(tags.begin(), tags.end(), name) != tags.end();
    if (negated) {
      if (present) return false;
    } else {
      has_positive = true;
      positive_found = positive_found || present;
    }
  }
  return !has_positive || positive_found;
}

std::string DescribeNonJsonBody(std::string_view body, std::string_view content_type) {
  const std::string_view trimmed = [&] {
    size_t start = 0;
    while (start < body.size() && absl::ascii_isspace(static_cast<unsigned char>(body[start]))) {
      ++start;
    }
    return body.substr(start);
  }();
  if (trimmed.empty()) return "an empty body, not JSON";
  if (absl::StrContains(absl::AsciiStrToLower(ToAbsl(content_type)), "text/html") ||
      trimmed.front() == '<') {
    return "an HTML page, not JSON (a login page, proxy or web server error?)";
  }
  return "";
}

namespace {

// Parses `body` into `root` with `parser`, which owns the parsed document, or returns the
// error for an HTML or empty body or invalid JSON, naming `source`.
absl::Status ParseJsonBody(std::string_view body, std::string_view content_type,
                           std::string_view source, dom::parser& parser, dom::element& root) {
  if (std::string non_json = DescribeNonJsonBody(body, content_type); !non_json.empty()) {
    return Rejected(source, non_json);
  }
  if (simdjson::error_code code = parser.parse(body.data(), body.size()).get(root);
      code != simdjson::SUCCESS) {
    return Rejected(source, DescribeJsonError(body, code));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckJsonDocument(std::string_view body, std::string_view content_type,
                               std::string_view source) {
  dom::parser parser;
  dom::element root;
  return ParseJsonBody(body, content_type, source, parser, root);
}

absl::StatusOr<RestSearchPage> ParseRestSearchPage(std::string_view body,
                                                   std::string_view content_type,
                                                   std::string_view source) {
  dom::parser parser;
  dom::element root;
  if (absl::Status parsed = ParseJsonBody(body, content_type, source, parser, root);
      !parsed.ok()) {
    return parsed;
  }
  constexpr std::string_view kExpected = R"(expected {"response": {"Attribute": [...]}})";
  dom::object object;
  dom::element response;
  dom::object response_object;
  dom::element attributes;
  dom::array list;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return Rejected(source, fmt::format("{}, found {}", kExpected, KindOf(root)));
  }
  if (object["response"].get(response) != simdjson::SUCCESS) {
    return Rejected(source, fmt::format("{}, found an object without \"response\"", kExpected));
  }
  if (response.get_object().get(response_object) != simdjson::SUCCESS) {
    return Rejected(source,
                    fmt::format("{}, found \"response\" as {}", kExpected, KindOf(response)));
  }
  if (response_object["Attribute"].get(attributes) != simdjson::SUCCESS ||
      attributes.get_array().get(list) != simdjson::SUCCESS) {
    return Rejected(source, fmt::format("{}, found no \"Attribute\" array", kExpected));
  }

  RestSearchPage page;
  // Inherited tag names per attribute uuid, one entry per occurrence.
  absl::flat_hash_map<std::string, std::vector<std::string>> inherited;
  for (dom::element entry : list) {
    ++page.entries;
    dom::object attribute;
    std::string_view uuid;
    std::optional<dom::element> tags;
    dom::array tag_list;
    std::optional<dom::element> event;
    dom::object event_object;
    if (entry.get_object().get(attribute) != simdjson::SUCCESS ||
        attribute["uuid"].get_string().get(uuid) != simdjson::SUCCESS ||
        !(tags = Field(attribute, "Tag")).has_value() ||
        tags->get_array().get(tag_list) != simdjson::SUCCESS) {
      continue;
    }
    // Without includeContext the Event stub has no Tag list, and the inherited copies are
    // the only record of the event's tags, so they stay.
    if (!(event = Field(attribute, "Event")).has_value() ||
        event->get_object().get(event_object) != simdjson::SUCCESS ||
        !Field(event_object, "Tag").has_value()) {
      continue;
    }
    for (dom::element tag_entry : tag_list) {
      dom::object tag;
      std::string_view name;
      std::optional<dom::element> flag;
      if (tag_entry.get_object().get(tag) == simdjson::SUCCESS &&
          tag["name"].get_string().get(name) == simdjson::SUCCESS &&
          (flag = Field(tag, "inherited")).has_value() && IsTrue(*flag)) {
        inherited[std::string(uuid)].emplace_back(name);
      }
    }
  }

  if (absl::Status status = ParseMispDocument(body, source, page.result); !status.ok()) {
    return Rejected(source, ToStd(status.message()));
  }
  for (Attribute& attribute : page.result.attributes) {
    auto found = inherited.find(attribute.uuid);
    if (found == inherited.end()) continue;
    for (const std::string& name : found->second) {
      auto tag = std::find(attribute.tags.begin(), attribute.tags.end(), name);
      if (tag != attribute.tags.end()) attribute.tags.erase(tag);
    }
  }
  return page;
}

absl::StatusOr<std::vector<ManifestEntry>> ParseFeedManifest(std::string_view body,
                                                             std::string_view content_type,
                                                             std::string_view source) {
  dom::parser parser;
  dom::element root;
  if (absl::Status parsed = ParseJsonBody(body, content_type, source, parser, root);
      !parsed.ok()) {
    return parsed;
  }
  dom::object manifest;
  if (root.get_object().get(manifest) != simdjson::SUCCESS) {
    return Rejected(source, fmt::format("expected a feed manifest (an object keyed by event "
                                        "uuid), found {}",
                                        KindOf(root)));
  }
  std::vector<ManifestEntry> entries;
  for (dom::key_value_pair item : manifest) {
    ManifestEntry entry;
    entry.uuid = std::string(item.key);
    if (!IsSafeFileStem(entry.uuid)) {
      return Rejected(source,
                      fmt::format("invalid event uuid \"{}\" in the manifest: expected only "
                                  "letters, digits and '-'",
                                  entry.uuid.substr(0, 80)));
    }
    dom::object value;
    std::optional<dom::element> timestamp;
    if (item.value.get_object().get(value) != simdjson::SUCCESS ||
        !(timestamp = Field(value, "timestamp")).has_value() ||
        !ReadInteger(*timestamp, entry.timestamp)) {
      return Rejected(source,
                      fmt::format("manifest entry {} has no integer \"timestamp\"", entry.uuid));
    }
    ReadTagNames(value, entry.tags);
    entries.push_back(std::move(entry));
  }
  return entries;
}

int64_t NextSyncTimestamp(int64_t previous, int64_t max_seen_timestamp, int64_t sync_started) {
  const int64_t candidate = std::min(max_seen_timestamp, sync_started);
  return std::max(previous, candidate);
}

std::string EventKey(const Event& event) {
  return event.uuid.empty() ? "id:" + event.id : "uuid:" + event.uuid;
}

bool RestAttributeSet::Apply(const LoadResult& page, const Retention& retention) {
  bool changed = false;
  for (const Attribute& attribute : page.attributes) {
    max_timestamp_ = std::max(max_timestamp_, attribute.timestamp);
    const bool excluded = attribute.deleted ||
                          (retention.to_ids.has_value() && attribute.to_ids != *retention.to_ids) ||
                          attribute.timestamp < retention.min_timestamp;
    if (excluded) {
      changed = attributes_.erase(attribute.uuid) > 0 || changed;
      continue;
    }

    const Event& event = page.events[attribute.event_index];
    std::string key = EventKey(event);
    auto [stored_event, event_added] = events_.try_emplace(key, event);
    if (!event_added && !SameEvent(stored_event->second, event)) {
      stored_event->second = event;
      changed = true;
    }
    auto [stored, added] = attributes_.try_emplace(attribute.uuid);
    if (added || stored->second.event_key != key ||
        !SameAttribute(stored->second.attribute, attribute)) {
      stored->second = StoredAttribute{attribute, std::move(key)};
      changed = true;
    }
  }
  return changed;
}

bool RestAttributeSet::DropOlderThan(int64_t min_timestamp) {
  return std::erase_if(attributes_, [&](const auto& item) {
           return item.second.attribute.timestamp < min_timestamp;
         }) > 0;
}

LoadResult RestAttributeSet::Build(std::string_view source) const {
  LoadResult result;
  // Event index by key, for the events that still have attributes.
  std::map<std::string, uint32_t> index_by_key;
  for (const auto& [uuid, stored] : attributes_) index_by_key.emplace(stored.event_key, 0);
  for (auto& [key, index] : index_by_key) {
    index = static_cast<uint32_t>(result.events.size());
    Event event = events_.at(key);
    event.source = std::string(source);
    result.events.push_back(std::move(event));
  }
  // Attributes grouped by event, in uuid order within each event.
  std::vector<const StoredAttribute*> ordered;
  ordered.reserve(attributes_.size());
  for (const auto& [uuid, stored] : attributes_) ordered.push_back(&stored);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const StoredAttribute* a, const StoredAttribute* b) {
                     return a->event_key < b->event_key;
                   });
  result.attributes.reserve(ordered.size());
  for (const StoredAttribute* stored : ordered) {
    Attribute attribute = stored->attribute;
    attribute.event_index = index_by_key.at(stored->event_key);
    result.attributes.push_back(std::move(attribute));
  }
  return result;
}

void AppendLoadResult(LoadResult& into, LoadResult from) {
  const auto event_offset = static_cast<uint32_t>(into.events.size());
  for (Event& event : from.events) into.events.push_back(std::move(event));
  for (Attribute& attribute : from.attributes) {
    attribute.event_index += event_offset;
    into.attributes.push_back(std::move(attribute));
  }
  for (std::string& error : from.errors) into.errors.push_back(std::move(error));
  into.rejected_attributes += from.rejected_attributes;
  into.files_read += from.files_read;
}

}  // namespace sensor::misp
