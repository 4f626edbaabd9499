#include "ctrlplane/misp/misp_snapshot.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/misp/misp_loader.h"
#include "fmt/format.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace sensor::misp {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void String(JsonWriter& writer, std::string_view text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void Field(JsonWriter& writer, std::string_view key, std::string_view value) {
  String(writer, key);
  String(writer, value);
}

void Tags(JsonWriter& writer, const std::vector<std::string>& tags) {
  String(writer, "Tag");
  writer.StartArray();
  for (const std::string& tag : tags) {
    writer.StartObject();
    Field(writer, "name", tag);
    writer.EndObject();
  }
  writer.EndArray();
}

void WriteAttribute(JsonWriter& writer, const Attribute& attribute) {
  writer.StartObject();
  Field(writer, "uuid", attribute.uuid);
  Field(writer, "type", attribute.type);
  Field(writer, "category", attribute.category);
  Field(writer, "value", attribute.value);
  Field(writer, "comment", attribute.comment);
  String(writer, "to_ids");
  writer.Bool(attribute.to_ids);
  String(writer, "deleted");
  writer.Bool(attribute.deleted);
  Field(writer, "timestamp", std::to_string(attribute.timestamp));
  if (!attribute.object_relation.empty()) {
    Field(writer, "object_relation", attribute.object_relation);
  }
  Tags(writer, attribute.tags);
  writer.EndObject();
}

void WriteEvent(JsonWriter& writer, const Event& event, const std::vector<const Attribute*>& own) {
  writer.StartObject();
  String(writer, "Event");
  writer.StartObject();
  if (!event.id.empty()) Field(writer, "id", event.id);
  Field(writer, "uuid", event.uuid);
  Field(writer, "info", event.info);
  Field(writer, "date", event.date);
  if (event.threat_level_id != 0) {
    Field(writer, "threat_level_id", std::to_string(event.threat_level_id));
  }
  Field(writer, "analysis", std::to_string(event.analysis));
  String(writer, "published");
  writer.Bool(event.published);
  Field(writer, "timestamp", std::to_string(event.timestamp));
  if (!event.org.empty()) {
    String(writer, "Orgc");
    writer.StartObject();
    Field(writer, "name", event.org);
    writer.EndObject();
  }
  Tags(writer, event.tags);

  String(writer, "Attribute");
  writer.StartArray();
  for (const Attribute* attribute : own) {
    if (attribute->object_name.empty()) WriteAttribute(writer, *attribute);
  }
  writer.EndArray();
  // The model keeps an object's name on each of its attributes but not the object's uuid,
  // so each attribute gets an object of its own, which the loader reads back the same.
  String(writer, "Object");
  writer.StartArray();
  for (const Attribute* attribute : own) {
    if (attribute->object_name.empty()) continue;
    writer.StartObject();
    Field(writer, "name", attribute->object_name);
    String(writer, "Attribute");
    writer.StartArray();
    WriteAttribute(writer, *attribute);
    writer.EndArray();
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
  writer.EndObject();
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

// The host part of a URL, reduced to characters that are safe in a file name.
std::string FileNameHost(std::string_view url) {
  const size_t scheme_end = url.find("://");
  std::string_view rest = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('/'));
  std::string host;
  for (char c : rest.substr(0, 64)) {
    host.push_back(
        absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_');
  }
  return host;
}

absl::Status ErrnoError(std::string_view action, const std::string& path) {
  return absl::ErrnoToStatus(errno, fmt::format("cannot {} {}", action, path));
}

}  // namespace

std::string SnapshotPath(const std::string& state_dir, std::string_view kind,
                         std::string_view url) {
  const std::string hash = Sha256Hex(fmt::format("{} {}", kind, url)).substr(0, 16);
  return (std::filesystem::path(state_dir) /
          fmt::format("misp-{}-{}-{}.json", kind, FileNameHost(url), hash))
      .string();
}

std::string FormatSnapshot(const LoadResult& data, std::string_view kind, std::string_view url,
                           int64_t written_unix) {
  std::vector<std::vector<const Attribute*>> by_event(data.events.size());
  for (const Attribute& attribute : data.attributes) {
    if (attribute.event_index < by_event.size()) {
      by_event[attribute.event_index].push_back(&attribute);
    }
  }
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  String(writer, "sensor_snapshot");
  writer.StartObject();
  Field(writer, "source", url);
  Field(writer, "kind", kind);
  String(writer, "written");
  writer.Int64(written_unix);
  writer.EndObject();
  String(writer, "response");
  writer.StartArray();
  for (size_t i = 0; i < data.events.size(); ++i) WriteEvent(writer, data.events[i], by_event[i]);
  writer.EndArray();
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

absl::Status WriteFileAtomically(const std::string& directory, const std::string& path,
                                 std::string_view contents) {
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    std::filesystem::create_directories(directory, error);
    if (error) {
      return absl::UnavailableError(
          fmt::format("cannot create state directory {}: {}", directory, error.message()));
    }
    std::filesystem::permissions(directory, std::filesystem::perms::owner_all, error);
  }
  const std::string temporary = fmt::format("{}.tmp-{}", path, getpid());
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("create", temporary);
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t count = write(fd, contents.data() + written, contents.size() - written);
    if (count < 0) {
      if (errno == EINTR) continue;
      absl::Status status = ErrnoError("write", temporary);
      close(fd);
      unlink(temporary.c_str());
      return status;
    }
    written += static_cast<size_t>(count);
  }
  if (fsync(fd) != 0) {
    absl::Status status = ErrnoError("fsync", temporary);
    close(fd);
    unlink(temporary.c_str());
    return status;
  }
  if (close(fd) != 0) {
    absl::Status status = ErrnoError("close", temporary);
    unlink(temporary.c_str());
    return status;
  }
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    absl::Status status =
        absl::ErrnoToStatus(errno, fmt::format("cannot rename {} to {}", temporary, path));
    unlink(temporary.c_str());
    return status;
  }
  // The rename is durable only once the directory entry is on disk.
  const int directory_fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory_fd < 0) return ErrnoError("open", directory);
  const int synced = fsync(directory_fd);
  close(directory_fd);
  if (synced != 0) return ErrnoError("fsync", directory);
  return absl::OkStatus();
}

absl::StatusOr<LoadedSnapshot> ReadSnapshot(
    const std::string& path, std::string_view kind, std::string_view url,
    const std::function<std::string(const Event&)>& source_of) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(fmt::format("no MISP snapshot at {}", path));
    }
    return ErrnoError("read MISP snapshot", path);
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  if (!in) return ErrnoError("read MISP snapshot", path);
  const std::string text = content.str();

  LoadedSnapshot snapshot;
  snapshot.written_unix = static_cast<int64_t>(info.st_mtime);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view stored_url;
  std::string_view stored_kind;
  if (parser.parse(text).get(root) != simdjson::SUCCESS ||
      root["sensor_snapshot"]["source"].get_string().get(stored_url) != simdjson::SUCCESS ||
      root["sensor_snapshot"]["kind"].get_string().get(stored_kind) != simdjson::SUCCESS) {
    return absl::DataLossError(
        fmt::format("MISP snapshot {} is damaged or not a snapshot; delete it", path));
  }
  if (stored_url != url || stored_kind != kind) {
    return absl::FailedPreconditionError(fmt::format(
        "MISP snapshot {} belongs to {} source {}, not to {}", path, stored_kind, stored_url, url));
  }
  int64_t written = 0;
  if (root["sensor_snapshot"]["written"].get_int64().get(written) == simdjson::SUCCESS) {
    snapshot.written_unix = written;
  }
  if (absl::Status status = ParseMispDocument(text, path, snapshot.data); !status.ok()) {
    return absl::DataLossError(
        fmt::format("MISP snapshot {} is damaged: {}; delete it", path, ToStd(status.message())));
  }
  for (Event& event : snapshot.data.events) event.source = source_of(event);
  return snapshot;
}

std::string FormatAge(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  const int64_t days = seconds / 86400;
  const int64_t hours = seconds % 86400 / 3600;
  const int64_t minutes = seconds % 3600 / 60;
  if (days > 0) return fmt::format("{}d {}h", days, hours);
  if (hours > 0) return fmt::format("{}h {}m", hours, minutes);
  if (minutes > 0) return fmt::format("{}m {}s", minutes, seconds % 60);
  return fmt::format("{}s", seconds);
}

}  // namespace sensor::misp
