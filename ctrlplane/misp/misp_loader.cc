#include <sys/stat.h>

#include "ctrlplane/misp/misp_loader.h"

#include <simdjson.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctrlplane/misp/misp_json_fields.h"
#include "ctrlplane/misp/misp_model.h"
#include "fmt/format.h"

namespace sensor::misp {
namespace {

namespace dom = simdjson::dom;

using internal::DescribeValue;
using internal::EchoInput;
using internal::EscapeForLine;
using internal::FindField;
using internal::InvalidField;
using internal::kBoolean;
using internal::kId;
using internal::kInteger;
using internal::kSmallInteger;
using internal::kText;
using internal::ReadField;
using internal::ReadRequiredText;
using internal::ReadTags;

// Index file that MISP's feed export writes next to the <event-uuid>.json files.
constexpr std::string_view kManifestName = "manifest.json";

absl::Status InvalidJsonError(std::string_view source, simdjson::error_code code) {
  return absl::InvalidArgumentError(fmt::format("{}: invalid JSON: {}: {}", EscapeForLine(source),
                                                internal::SimdjsonErrorName(code),
                                                simdjson::error_message(code)));
}

void CollectError(std::string error, std::vector<std::string>& errors) {
  if (!error.empty()) {
    errors.push_back(std::move(error));
  }
}

// Reads the event's own fields, not its attributes. A field with the wrong type keeps its
// default and adds a line to `errors`, because the event's attributes are still usable.
void ReadEventFields(dom::object object, Event& event, std::vector<std::string>& errors) {
  CollectError(ReadField(object, "uuid", kText, event.uuid), errors);
  CollectError(ReadField(object, "id", kId, event.id), errors);
  CollectError(ReadField(object, "info", kText, event.info), errors);
  CollectError(ReadField(object, "date", kText, event.date), errors);
  CollectError(ReadField(object, "threat_level_id", kSmallInteger, event.threat_level_id), errors);
  CollectError(ReadField(object, "analysis", kSmallInteger, event.analysis), errors);
  CollectError(ReadField(object, "published", kBoolean, event.published), errors);
  CollectError(ReadField(object, "timestamp", kInteger, event.timestamp), errors);

  std::optional<dom::element> orgc = FindField(object, "Orgc");
  if (orgc.has_value()) {
    dom::object orgc_object;
    if (orgc->get_object().get(orgc_object) == simdjson::SUCCESS) {
      CollectError(ReadField(orgc_object, "name", kText, event.org), errors);
    } else {
      errors.push_back(InvalidField("Orgc", "an object", *orgc));
    }
  }
  ReadTags(object, event.tags, errors);
}

// Context that an attribute inherits from the MISP object that contains it.
struct ObjectContext {
  std::string name;
  // MISP's MispObject::afterSave marks the attributes of a soft-deleted object as deleted
  // too. The loader applies the object's flag itself, so an export that sets it only on
  // the object still yields deleted attributes.
  bool deleted = false;
};

// Reads the fields of one attribute. Returns the first problem found, which makes the
// attribute unusable, or an empty string. Any present field with the wrong type rejects
// the attribute, because a guessed to_ids or deleted flag would change what the sensor
// alerts on.
std::string ReadAttributeFields(dom::object object, const ObjectContext* context,
                                Attribute& attribute) {
  std::string error = ReadRequiredText(object, "uuid", attribute.uuid);
  if (error.empty()) error = ReadRequiredText(object, "type", attribute.type);
  if (error.empty()) error = ReadRequiredText(object, "value", attribute.value);
  if (error.empty()) error = ReadField(object, "category", kText, attribute.category);
  if (error.empty()) error = ReadField(object, "comment", kText, attribute.comment);
  if (error.empty()) error = ReadField(object, "to_ids", kBoolean, attribute.to_ids);
  if (error.empty()) error = ReadField(object, "deleted", kBoolean, attribute.deleted);
  if (error.empty()) error = ReadField(object, "timestamp", kInteger, attribute.timestamp);
  // Attributes outside objects have "object_relation": null. In an attributes search an
  // object's attribute keeps its relation, but the entry does not name the object.
  if (error.empty()) {
    error = ReadField(object, "object_relation", kText, attribute.object_relation);
  }
  if (error.empty() && context != nullptr) {
    attribute.object_name = context->name;
    attribute.deleted = attribute.deleted || context->deleted;
  }
  return error;
}

// Names an event, object or attribute in an error line: by uuid, which is stable across
// exports, or else by its JSON path in the document.
std::string FormatSubject(std::string_view kind, std::string_view uuid, std::string_view path) {
  if (uuid.empty()) {
    return fmt::format("{} at {}", kind, path);
  }
  return fmt::format("{} {}", kind, EchoInput(uuid));
}

// Appends the events and attributes of one parsed document to a LoadResult, adding a line to
// `errors` for each part that it has to skip.
class DocumentReader {
 public:
  DocumentReader(std::string_view source, LoadResult& out)
      : source_(source), escaped_source_(EscapeForLine(source)), out_(out) {}

  // Dispatches on the document's shape. Returns InvalidArgument, having appended nothing,
  // when the root has none of the known shapes.
  absl::Status Read(dom::element root);

 private:
  void ReadEventList(dom::array items, std::string_view path);
  void ReadEvent(dom::object object, std::string_view path);
  void ReadObjects(dom::array objects, std::string_view array_path, uint32_t event_index);
  void ReadAttributes(dom::array attributes, std::string_view array_path, uint32_t event_index,
                      const ObjectContext* context);
  void ReadAttribute(dom::object object, std::string_view array_path, size_t index,
                     uint32_t event_index, const ObjectContext* context);
  void ReadAttributeSearch(dom::array attributes, std::string_view array_path);
  // Returns the index of the event that an attributes-search entry belongs to, adding the
  // event on first sight. Returns nullopt and sets `error` when the entry names no event.
  std::optional<uint32_t> FindOrAddStubEvent(dom::object attribute, std::string_view path,
                                             std::string& error);

  // Returns the array under `key`, or nullopt when it is absent or null. A value of
  // another type gets an error line about `subject`.
  std::optional<dom::array> FindArray(dom::object object, std::string_view key,
                                      std::string_view subject);
  void RejectAttribute(std::string_view uuid, std::string_view array_path, size_t index,
                       std::string_view error);
  void AddError(std::string_view subject, std::string_view text);
  absl::Status InvalidShapeError(std::string_view detail) const;

  std::string_view source_;
  std::string escaped_source_;
  LoadResult& out_;
  // An attributes search repeats a stub of the event in every attribute. Attributes that
  // name the same event uuid (or id, when the stub has no uuid) share one Event, but only
  // within this document.
  absl::flat_hash_map<std::string, uint32_t> stub_event_by_key_;
};

absl::Status DocumentReader::Read(dom::element root) {
  dom::array list;
  if (root.get_array().get(list) == simdjson::SUCCESS) {
    // PyMISP returns an events restSearch result as a bare list.
    ReadEventList(list, "");
    return absl::OkStatus();
  }
  dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return InvalidShapeError(fmt::format("found {}", DescribeValue(root)));
  }

  if (std::optional<dom::element> event = FindField(object, "Event")) {
    dom::object event_object;
    if (event->get_object().get(event_object) != simdjson::SUCCESS) {
      return InvalidShapeError(InvalidField("Event", "an object", *event));
    }
    ReadEvent(event_object, "Event");
    return absl::OkStatus();
  }

  if (std::optional<dom::element> response = FindField(object, "response")) {
    if (response->get_array().get(list) == simdjson::SUCCESS) {
      ReadEventList(list, "response");
      return absl::OkStatus();
    }
    dom::object response_object;
    std::optional<dom::element> attributes;
    if (response->get_object().get(response_object) == simdjson::SUCCESS) {
      attributes = FindField(response_object, "Attribute");
    }
    if (attributes.has_value() && attributes->get_array().get(list) == simdjson::SUCCESS) {
      ReadAttributeSearch(list, "response.Attribute");
      return absl::OkStatus();
    }
    return InvalidShapeError(InvalidField(
        "response", "a list of events or an object with an Attribute array", *response));
  }

  if (std::optional<dom::element> attributes = FindField(object, "Attribute")) {
    if (attributes->get_array().get(list) != simdjson::SUCCESS) {
      return InvalidShapeError(InvalidField("Attribute", "an array", *attributes));
    }
    ReadAttributeSearch(list, "Attribute");
    return absl::OkStatus();
  }

  return InvalidShapeError("found an object without an Event, response or Attribute key");
}

void DocumentReader::ReadEventList(dom::array items, std::string_view path) {
  size_t index = 0;
  for (dom::element item : items) {
    std::string item_path = fmt::format("{}[{}]", path, index);
    ++index;
    dom::object wrapper;
    if (item.get_object().get(wrapper) != simdjson::SUCCESS) {
      AddError(item_path,
               fmt::format("expected {{\"Event\": {{...}}}}, found {}", DescribeValue(item)));
      continue;
    }
    std::optional<dom::element> event_field = FindField(wrapper, "Event");
    if (!event_field.has_value()) {
      AddError(item_path, "missing Event");
      continue;
    }
    dom::object event;
    if (event_field->get_object().get(event) != simdjson::SUCCESS) {
      AddError(item_path, InvalidField("Event", "an object", *event_field));
      continue;
    }
    ReadEvent(event, item_path + ".Event");
  }
}

void DocumentReader::ReadEvent(dom::object object, std::string_view path) {
  Event event;
  event.source = std::string(source_);
  std::vector<std::string> errors;
  ReadEventFields(object, event, errors);
  std::string subject = FormatSubject("event", event.uuid, path);
  for (const std::string& error : errors) {
    AddError(subject, error);
  }
  const auto event_index = static_cast<uint32_t>(out_.events.size());
  out_.events.push_back(std::move(event));

  if (std::optional<dom::array> attributes = FindArray(object, "Attribute", subject)) {
    ReadAttributes(*attributes, fmt::format("{}.Attribute", path), event_index, nullptr);
  }
  if (std::optional<dom::array> objects = FindArray(object, "Object", subject)) {
    ReadObjects(*objects, fmt::format("{}.Object", path), event_index);
  }
}

void DocumentReader::ReadObjects(dom::array objects, std::string_view array_path,
                                 uint32_t event_index) {
  size_t index = 0;
  for (dom::element item : objects) {
    std::string path = fmt::format("{}[{}]", array_path, index);
    ++index;
    dom::object object;
    if (item.get_object().get(object) != simdjson::SUCCESS) {
      AddError(fmt::format("object at {}", path),
               fmt::format("expected an object, found {}", DescribeValue(item)));
      continue;
    }
    // The object's uuid only names it in error lines, so a wrong type is not reported.
    std::string uuid;
    ReadField(object, "uuid", kText, uuid);
    std::string subject = FormatSubject("object", uuid, path);

    ObjectContext context;
    std::string error = ReadRequiredText(object, "name", context.name);
    if (error.empty()) error = ReadField(object, "deleted", kBoolean, context.deleted);
    std::optional<dom::array> attributes = FindArray(object, "Attribute", subject);
    if (!error.empty()) {
      // A relation such as "ip" means nothing without the object name, so the attributes
      // are not loaded on their own.
      size_t rejected = attributes.has_value() ? attributes->size() : 0;
      AddError(subject, fmt::format("{}, so its {} attributes are rejected", error, rejected));
      out_.rejected_attributes += rejected;
      continue;
    }
    if (attributes.has_value()) {
      ReadAttributes(*attributes, path + ".Attribute", event_index, &context);
    }
  }
}

void DocumentReader::ReadAttributes(dom::array attributes, std::string_view array_path,
                                    uint32_t event_index, const ObjectContext* context) {
  size_t index = 0;
  for (dom::element item : attributes) {
    dom::object object;
    if (item.get_object().get(object) == simdjson::SUCCESS) {
      ReadAttribute(object, array_path, index, event_index, context);
    } else {
      RejectAttribute("", array_path, index,
                      fmt::format("expected an object, found {}", DescribeValue(item)));
    }
    ++index;
  }
}

void DocumentReader::ReadAttribute(dom::object object, std::string_view array_path, size_t index,
                                   uint32_t event_index, const ObjectContext* context) {
  Attribute attribute;
  std::string error = ReadAttributeFields(object, context, attribute);
  if (!error.empty()) {
    RejectAttribute(attribute.uuid, array_path, index, error);
    return;
  }
  std::vector<std::string> tag_errors;
  ReadTags(object, attribute.tags, tag_errors);
  for (const std::string& tag_error : tag_errors) {
    AddError(FormatSubject("attribute", attribute.uuid, ""), tag_error);
  }
  attribute.event_index = event_index;
  out_.attributes.push_back(std::move(attribute));
}

void DocumentReader::ReadAttributeSearch(dom::array attributes, std::string_view array_path) {
  size_t index = 0;
  for (dom::element item : attributes) {
    size_t item_index = index++;
    dom::object object;
    if (item.get_object().get(object) != simdjson::SUCCESS) {
      RejectAttribute("", array_path, item_index,
                      fmt::format("expected an object, found {}", DescribeValue(item)));
      continue;
    }
    std::string error;
    std::optional<uint32_t> event_index =
        FindOrAddStubEvent(object, fmt::format("{}[{}].Event", array_path, item_index), error);
    if (!event_index.has_value()) {
      std::string uuid;
      ReadField(object, "uuid", kText, uuid);
      RejectAttribute(uuid, array_path, item_index, error);
      continue;
    }
    ReadAttribute(object, array_path, item_index, *event_index, nullptr);
  }
}

std::optional<uint32_t> DocumentReader::FindOrAddStubEvent(dom::object attribute,
                                                           std::string_view path,
                                                           std::string& error) {
  Event event;
  event.source = std::string(source_);
  std::vector<std::string> stub_errors;
  std::optional<dom::element> stub = FindField(attribute, "Event");
  if (stub.has_value()) {
    dom::object stub_object;
    if (stub->get_object().get(stub_object) != simdjson::SUCCESS) {
      error = InvalidField("Event", "an object", *stub);
      return std::nullopt;
    }
    ReadEventFields(stub_object, event, stub_errors);
  }
  if (event.uuid.empty() && event.id.empty()) {
    // Without a usable stub, the attribute's own event_id still names its event.
    error = ReadField(attribute, "event_id", kId, event.id);
    if (!error.empty()) {
      return std::nullopt;
    }
  }
  if (event.uuid.empty() && event.id.empty()) {
    error = "missing Event (with a uuid or id) and event_id";
    return std::nullopt;
  }

  std::string key = event.uuid.empty() ? "id:" + event.id : "uuid:" + event.uuid;
  auto [it, inserted] =
      stub_event_by_key_.try_emplace(std::move(key), static_cast<uint32_t>(out_.events.size()));
  if (inserted) {
    std::string subject = FormatSubject("event", event.uuid, path);
    for (const std::string& stub_error : stub_errors) {
      AddError(subject, stub_error);
    }
    out_.events.push_back(std::move(event));
  }
  return it->second;
}

std::optional<dom::array> DocumentReader::FindArray(dom::object object, std::string_view key,
                                                    std::string_view subject) {
  std::optional<dom::element> value = FindField(object, key);
  if (!value.has_value()) {
    return std::nullopt;
  }
  dom::array array;
  if (value->get_array().get(array) != simdjson::SUCCESS) {
    AddError(subject, InvalidField(key, "an array", *value));
    return std::nullopt;
  }
  return array;
}

void DocumentReader::RejectAttribute(std::string_view uuid, std::string_view array_path,
                                     size_t index, std::string_view error) {
  AddError(FormatSubject("attribute", uuid, fmt::format("{}[{}]", array_path, index)), error);
  ++out_.rejected_attributes;
}

void DocumentReader::AddError(std::string_view subject, std::string_view text) {
  out_.errors.push_back(fmt::format("{}: {}: {}", escaped_source_, subject, text));
}

absl::Status DocumentReader::InvalidShapeError(std::string_view detail) const {
  return absl::InvalidArgumentError(
      fmt::format("{}: not a MISP document: expected {{\"Event\": ...}}, {{\"response\": ...}}, "
                  "{{\"Attribute\": [...]}} or a list of events, {}",
                  escaped_source_, detail));
}

absl::Status ParseWithParser(dom::parser& parser, std::string_view json, std::string_view source,
                             LoadResult& out) {
  dom::element root;
  simdjson::error_code code = parser.parse(json.data(), json.size()).get(root);
  if (code != simdjson::SUCCESS) {
    return InvalidJsonError(source, code);
  }
  DocumentReader reader(source, out);
  absl::Status status = reader.Read(root);
  if (status.ok()) {
    ++out.files_read;
  }
  return status;
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

// Larger MISP documents are refused rather than read: an export of this size is a
// mistake, and /dev/zero or a huge file must not exhaust memory.
constexpr size_t kMaxDocumentBytes = size_t{2} << 30;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  // Only regular files, checked before opening: opening a FIFO blocks until a writer
  // appears, and a device could never end.
  struct stat info;
  if (stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode)) {
    return absl::InvalidArgumentError(
        fmt::format("{}: not a regular file", EscapeForLine(path)));
  }
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) {
    return absl::ErrnoToStatus(errno, fmt::format("{}: failed to open", EscapeForLine(path)));
  }
  if (fstat(fileno(file.get()), &info) != 0 || !S_ISREG(info.st_mode)) {
    return absl::InvalidArgumentError(
        fmt::format("{}: not a regular file", EscapeForLine(path)));
  }
  if (static_cast<uint64_t>(info.st_size) > kMaxDocumentBytes) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: {} bytes is more than the {} bytes a MISP document may have",
        EscapeForLine(path), static_cast<uint64_t>(info.st_size), kMaxDocumentBytes));
  }
  std::string contents;
  char buffer[1 << 16];
  size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) {
    contents.append(buffer, count);
    if (contents.size() > kMaxDocumentBytes) {
      return absl::InvalidArgumentError(
          fmt::format("{}: grew past {} bytes while read", EscapeForLine(path),
                      kMaxDocumentBytes));
    }
  }
  if (std::ferror(file.get()) != 0) {
    return absl::ErrnoToStatus(errno, fmt::format("{}: failed to read", EscapeForLine(path)));
  }
  return contents;
}

absl::Status LoadFile(const std::string& path, dom::parser& parser, LoadResult& out) {
  absl::StatusOr<std::string> contents = ReadFile(path);
  if (!contents.ok()) {
    return contents.status();
  }
  return ParseWithParser(parser, *contents, path, out);
}

// Manifest keys become file names, so a key must not be able to name a file outside the
// feed directory. MISP event uuids use only hex digits and '-'.
bool IsSafeFileStem(std::string_view key) {
  if (key.empty()) {
    return false;
  }
  for (char c : key) {
    bool allowed =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
    if (!allowed) {
      return false;
    }
  }
  return true;
}

absl::Status LoadFeedDirectory(const std::filesystem::path& directory, dom::parser& parser,
                               LoadResult& out) {
  const std::string manifest_path = (directory / kManifestName).string();
  absl::StatusOr<std::string> manifest_text = ReadFile(manifest_path);
  if (!manifest_text.ok()) {
    return manifest_text.status();
  }
  dom::element root;
  simdjson::error_code code = parser.parse(manifest_text->data(), manifest_text->size()).get(root);
  if (code != simdjson::SUCCESS) {
    return InvalidJsonError(manifest_path, code);
  }
  const std::string escaped_manifest_path = EscapeForLine(manifest_path);
  dom::object manifest;
  if (root.get_object().get(manifest) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        fmt::format("{}: invalid feed manifest: expected an object keyed by event uuid, found {}",
                    escaped_manifest_path, DescribeValue(root)));
  }

  // Copy the keys first, because parsing an event file reuses `parser` and so invalidates
  // `manifest`.
  std::vector<std::string> uuids;
  for (dom::key_value_pair entry : manifest) {
    uuids.emplace_back(entry.key);
  }

  absl::flat_hash_set<std::string> loaded;
  for (const std::string& uuid : uuids) {
    if (!IsSafeFileStem(uuid)) {
      out.errors.push_back(
          fmt::format("{}: invalid event uuid \"{}\": expected only letters, digits and '-'",
                      escaped_manifest_path, EchoInput(uuid)));
      continue;
    }
    if (!loaded.insert(uuid).second) {
      out.errors.push_back(
          fmt::format("{}: duplicate event uuid {}, loaded once", escaped_manifest_path, uuid));
      continue;
    }
    absl::Status status = LoadFile((directory / (uuid + ".json")).string(), parser, out);
    if (!status.ok()) {
      out.errors.emplace_back(status.message());
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LoadResult> LoadMispPath(const std::string& path) {
  std::error_code error;
  std::filesystem::file_status status = std::filesystem::status(path, error);
  if (error) {
    return absl::ErrnoToStatus(error.value(),
                               fmt::format("{}: failed to access", EscapeForLine(path)));
  }

  dom::parser parser;
  LoadResult result;
  absl::Status load_status = std::filesystem::is_directory(status)
                                 ? LoadFeedDirectory(path, parser, result)
                                 : LoadFile(path, parser, result);
  if (!load_status.ok()) {
    return load_status;
  }
  return result;
}

absl::StatusOr<LoadResult> LoadMispPaths(const std::vector<std::string>& paths) {
  LoadResult merged;
  for (const std::string& path : paths) {
    absl::StatusOr<LoadResult> one = LoadMispPath(path);
    if (!one.ok()) return one.status();
    const auto event_offset = static_cast<uint32_t>(merged.events.size());
    for (Event& event : one->events) merged.events.push_back(std::move(event));
    for (Attribute& attribute : one->attributes) {
      attribute.event_index += event_offset;
      merged.attributes.push_back(std::move(attribute));
    }
    for (std::string& error : one->errors) merged.errors.push_back(std::move(error));
    merged.rejected_attributes += one->rejected_attributes;
    merged.files_read += one->files_read;
  }
  return merged;
}

absl::Status ParseMispDocument(std::string_view json, std::string_view source, LoadResult& out) {
  dom::parser parser;
  return ParseWithParser(parser, json, source, out);
}

}  // namespace sensor::misp
