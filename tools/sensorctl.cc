// sensorctl: queries a running sensor for its statistics, a reload, a lookup of a value
// against the running indicators, the largest recent flows or an indicator summary,
// through the control socket (one JSON request and one JSON reply per line).

#include <errno.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace {

constexpr char kDefaultSocket[] = "/run/sensor/ctl.sock";
constexpr size_t kMaxReplyBytes = 64 << 20;
constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

struct Options {
  std::string socket = kDefaultSocket;
  bool json = false;
  double timeout_s = 10;
};

// A reply, or the one-line message explaining why there is none.
struct Reply {
  std::string line;  // The raw reply line, without its newline.
  rapidjson::Document document;
  std::string error;
};

void PrintError(std::string_view message) {
  std::fprintf(stderr, "sensorctl: %.*s\n", static_cast<int>(message.size()), message.data());
}

// Replaces control characters so text from traffic or MISP cannot drive the terminal.
std::string Printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

std::string ConnectError(const std::string& path, int error) {
  switch (error) {
    case ENOENT:
      return fmt::format(
          "no control socket at {}: is the sensor running with --ctl-socket {}? "
          "(--socket sets the path)",
          path, path);
    case EACCES:
    case EPERM:
      return fmt::format(
          "permission denied on {}: run sensorctl as root or as the user the "
          "sensor runs as",
          path);
    case ECONNREFUSED:
      return fmt::format(
          "nothing accepts connections on {}: the sensor that created it has "
          "stopped",
          path);
    case ENOTSOCK:
      return fmt::format("{} is not a socket", path);
    default:
      return fmt::format("cannot connect to {}: {}", path, std::strerror(error));
  }
}

// Sends `request` and reads one reply line, waiting at most the timeout for each step.
Reply Exchange(const Options& options, const std::string& request) {
  Reply reply;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (options.socket.empty() || options.socket.size() >= sizeof(address.sun_path)) {
    reply.error = fmt::format("invalid socket path '{}': it must be 1 to {} bytes long",
                              options.socket, sizeof(address.sun_path) - 1);
    return reply;
  }
  std::memcpy(address.sun_path, options.socket.data(), options.socket.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    reply.error = fmt::format("cannot create a socket: {}", std::strerror(errno));
    return reply;
  }
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    reply.error = ConnectError(options.socket, errno);
    close(fd);
    return reply;
  }

  // A sensor that turns the connection away (too many clients) has already sent its error
  // line, so a failed send still goes on to read it.
  const std::string line = request + "\n";
  std::string send_error;
  size_t sent = 0;
  while (sent < line.size()) {
    const ssize_t count = send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) {
      send_error =
          fmt::format("cannot send the request to {}: {}", options.socket, std::strerror(errno));
      break;
    }
    sent += static_cast<size_t>(count);
  }

  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(options.timeout_s));
  std::string received;
  char buffer[16384];
  while (received.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd readable{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&readable, 1, static_cast<int>(left.count())) == 0) {
      reply.error = fmt::format("no reply from {} within {} s", options.socket, options.timeout_s);
      close(fd);
      return reply;
    }
    const ssize_t count = recv(fd, buffer, sizeof(buffer), 0);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) {
      reply.error = !send_error.empty() ? send_error
                                        : fmt::format(
                                              "the sensor closed the connection on {} "
                                              "without a reply",
                                              options.socket);
      close(fd);
      return reply;
    }
    received.append(buffer, static_cast<size_t>(count));
    if (received.size() > kMaxReplyBytes) {
      reply.error =
          fmt::format("reply from {} is longer than {} bytes", options.socket, kMaxReplyBytes);
      close(fd);
      return reply;
    }
  }
  close(fd);
  reply.line = received.substr(0, received.find('\n'));
  reply.document.Parse(reply.line.data(), reply.line.size());
  if (reply.document.HasParseError() || !reply.document.IsObject()) {
    reply.error = fmt::format("the reply from {} is not a JSON object", options.socket);
    return reply;
  }
  auto ok = reply.document.FindMember("ok");
  if (ok == reply.document.MemberEnd() || !ok->value.IsBool()) {
    reply.error = fmt::format("the reply from {} has no \"ok\" member", options.socket);
  } else if (!ok->value.GetBool()) {
    auto message = reply.document.FindMember("error");
    reply.error = message != reply.document.MemberEnd() && message->value.IsString()
                      ? Printable(message->value.GetString())
                      : "the sensor returned an error without a message";
  }
  return reply;
}

std::string Request(std::string_view command, std::optional<std::string_view> value = {},
                    std::optional<uint64_t> count = {}) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("command");
  writer.String(command.data(), static_cast<rapidjson::SizeType>(command.size()));
  if (value) {
    writer.Key("value");
    writer.String(value->data(), static_cast<rapidjson::SizeType>(value->size()));
  }
  if (count) {
    writer.Key("count");
    writer.Uint64(*count);
  }
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Accessors that tolerate missing members, so an older or newer sensor still prints.
const rapidjson::Value& Member(const rapidjson::Value& object, const char* name) {
  static const rapidjson::Value kNull;
  if (!object.IsObject()) return kNull;
  auto found = object.FindMember(name);
  return found == object.MemberEnd() ? kNull : found->value;
}

uint64_t Count(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value& value = Member(object, name);
  return value.IsUint64() ? value.GetUint64() : 0;
}

double Number(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value& value = Member(object, name);
  return value.IsNumber() ? value.GetDouble() : 0;
}

std::string Text(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value& value = Member(object, name);
  return value.IsString() ? Printable(std::string_view(value.GetString(), value.GetStringLength()))
                          : std::string();
}

std::string Join(const rapidjson::Value& array, std::string_view separator) {
  std::string out;
  if (!array.IsArray()) return out;
  for (const rapidjson::Value& item : array.GetArray()) {
    if (!item.IsString()) continue;
    if (!out.empty()) out.append(separator);
    out.append(Printable(item.GetString()));
  }
  return out;
}

// 1234567 -> "1.23M": rates and sizes for a table column.
std::string Si(double value) {
  static constexpr const char* kSuffixes[] = {"", "k", "M", "G", "T", "P"};
  int index = 0;
  while (value >= 1000 && index < 5) {
    value /= 1000;
    ++index;
  }
  return index == 0 ? fmt::format("{:.1f}", value)
                    : fmt::format("{:.2f}{}", value, kSuffixes[index]);
}

std::string Duration(double seconds) {
  if (seconds < 120) return fmt::format("{:.0f} s", seconds);
  if (seconds < 7200) return fmt::format("{:.0f} min", seconds / 60);
  if (seconds < 172800) return fmt::format("{:.1f} h", seconds / 3600);
  return fmt::format("{:.1f} days", seconds / 86400);
}

void PrintStats(const rapidjson::Value& stats) {
  std::printf("sensor %s, up %s (started %s)\n", Text(stats, "mode").c_str(),
              Duration(Number(stats, "uptime_seconds")).c_str(), Text(stats, "started").c_str());

  const rapidjson::Value& snapshot = Member(stats, "snapshot");
  std::printf(
      "snapshot    version %llu, published %s ago; %llu indicators, loaded %s ago; "
      "%llu resolved addresses watched\n",
      static_cast<unsigned long long>(Count(snapshot, "version")),
      Duration(Number(snapshot, "age_seconds")).c_str(),
      static_cast<unsigned long long>(Count(snapshot, "indicators")),
      Duration(Number(snapshot, "intelligence_age_seconds")).c_str(),
      static_cast<unsigned long long>(Count(snapshot, "resolved_addresses")));
  const rapidjson::Value& reloads = Member(stats, "reloads");
  const std::string last_error = Text(reloads, "last_error");
  std::printf("reloads     %llu requested, %llu published, %llu unchanged, %llu failed%s%s\n",
              static_cast<unsigned long long>(Count(reloads, "requested")),
              static_cast<unsigned long long>(Count(reloads, "published")),
              static_cast<unsigned long long>(Count(reloads, "unchanged")),
              static_cast<unsigned long long>(Count(reloads, "failed")),
              Member(reloads, "in_progress").IsTrue() ? ", one in progress" : "",
              last_error.empty() ? "" : fmt::format(" (last error: {})", last_error).c_str());

  std::printf("\n%6s %5s %14s %16s %10s\n", "WORKER", "LCORE", "PACKETS", "BYTES", "FLOWS");
  const rapidjson::Value& workers = Member(stats, "workers");
  if (workers.IsArray()) {
    for (const rapidjson::Value& worker : workers.GetArray()) {
      std::printf("%6llu %5llu %14llu %16llu %10llu\n",
                  static_cast<unsigned long long>(Count(worker, "worker")),
                  static_cast<unsigned long long>(Count(worker, "lcore")),
                  static_cast<unsigned long long>(Count(worker, "packets")),
                  static_cast<unsigned long long>(Count(worker, "bytes")),
                  static_cast<unsigned long long>(Count(worker, "flows_created")));
    }
  }
  std::printf("%6s %5s %14llu %16llu\n\n", "total", "",
              static_cast<unsigned long long>(Count(stats, "packets")),
              static_cast<unsigned long long>(Count(stats, "bytes")));

  const rapidjson::Value& flows = Member(stats, "flows");
  std::printf("flows       %llu created, %llu ended, %llu evicted\n",
              static_cast<unsigned long long>(Count(flows, "created")),
              static_cast<unsigned long long>(Count(flows, "ended")),
              static_cast<unsigned long long>(Count(flows, "evicted")));
  const rapidjson::Value& port = Member(stats, "port");
  std::string queues;
  const rapidjson::Value& queue_counts = Member(port, "queues");
  if (queue_counts.IsArray()) {
    for (const rapidjson::Value& queue : queue_counts.GetArray()) {
      queues += fmt::format(" {}={}", Count(queue, "queue"), Count(queue, "ipackets"));
    }
  }
  std::printf("port        %llu packets, %llu bytes; per RX queue%s\n",
              static_cast<unsigned long long>(Count(port, "ipackets")),
              static_cast<unsigned long long>(Count(port, "ibytes")),
              queues.empty() ? " none" : queues.c_str());
  std::string drops;
  const rapidjson::Value& drop_counts = Member(stats, "drops");
  if (drop_counts.IsObject()) {
    for (const auto& member : drop_counts.GetObject()) {
      if (!member.value.IsUint64()) continue;
      drops += fmt::format(" {}={}", member.name.GetString(), member.value.GetUint64());
    }
  }
  std::printf("drops      %s\n", drops.c_str());
  const rapidjson::Value& alerts = Member(stats, "alerts");
  std::printf(
      "alerts      %llu raised, %llu written, %llu merged, %llu held back by dedup, "
      "%llu by rate limit, %llu withheld by TLP, %llu sink errors\n",
      static_cast<unsigned long long>(Count(alerts, "raised")),
      static_cast<unsigned long long>(Count(alerts, "written")),
      static_cast<unsigned long long>(Count(alerts, "merged")),
      static_cast<unsigned long long>(Count(alerts, "suppressed_dedup")),
      static_cast<unsigned long long>(Count(alerts, "suppressed_rate_limit")),
      static_cast<unsigned long long>(Count(alerts, "withheld_by_tlp")),
      static_cast<unsigned long long>(Count(alerts, "sink_errors")));
  const rapidjson::Value& sources = Member(stats, "misp_sources");
  if (sources.IsArray()) {
    for (const rapidjson::Value& source : sources.GetArray()) {
      const std::string last_success = Member(source, "last_success").IsString()
                                           ? Text(source, "last_success")
                                           : std::string("never");
      const uint64_t http_status = Count(source, "http_status");
      const std::string last_error = Text(source, "last_error");
      std::printf("misp        %s %s: last good sync %s, %llu attributes%s%s\n",
                  Text(source, "kind").c_str(), Text(source, "name").c_str(),
                  last_success.c_str(),
                  static_cast<unsigned long long>(Count(source, "attributes")),
                  http_status == 0 ? "" : fmt::format(", HTTP {}", http_status).c_str(),
                  last_error.empty() ? "" : fmt::format(", last error: {}", last_error).c_str());
    }
  }
  const rapidjson::Value& sightings = Member(stats, "misp_sightings");
  if (sightings.IsObject()) {
    std::printf(
        "sightings   %llu sent, %llu failed, %llu dropped by rate limit, %llu duplicates, "
        "%llu queue full, %llu queued%s\n",
        static_cast<unsigned long long>(Count(sightings, "sent")),
        static_cast<unsigned long long>(Count(sightings, "failed")),
        static_cast<unsigned long long>(Count(sightings, "dropped_rate")),
        static_cast<unsigned long long>(Count(sightings, "dropped_duplicate")),
        static_cast<unsigned long long>(Count(sightings, "dropped_queue_full")),
        static_cast<unsigned long long>(Count(sightings, "queued")),
        Text(sightings, "last_error").empty()
            ? ""
            : fmt::format(" (last error: {})", Text(sightings, "last_error")).c_str());
  }
  if (!Text(stats, "metrics").empty()) {
    std::printf("metrics     http://%s/metrics\n", Text(stats, "metrics").c_str());
  }
}

// One line per worker with rates over the interval between two stats results.
void PrintRates(const rapidjson::Value& before, const rapidjson::Value& after) {
  const double seconds = Number(after, "uptime_seconds") - Number(before, "uptime_seconds");
  if (seconds <= 0) return;
  std::printf("%s, up %s, rates over %.1f s\n", Text(after, "mode").c_str(),
              Duration(Number(after, "uptime_seconds")).c_str(), seconds);
  std::printf("%6s %5s %14s %12s %12s\n", "WORKER", "LCORE", "PACKETS", "PACKETS/S", "BITS/S");
  const rapidjson::Value& old_workers = Member(before, "workers");
  const rapidjson::Value& workers = Member(after, "workers");
  if (workers.IsArray() && old_workers.IsArray()) {
    for (rapidjson::SizeType i = 0; i < workers.Size() && i < old_workers.Size(); ++i) {
      const rapidjson::Value& now = workers[i];
      const rapidjson::Value& then = old_workers[i];
      const double packets = static_cast<double>(Count(now, "packets") - Count(then, "packets"));
      const double bytes = static_cast<double>(Count(now, "bytes") - Count(then, "bytes"));
      std::printf("%6llu %5llu %14llu %12s %12s\n",
                  static_cast<unsigned long long>(Count(now, "worker")),
                  static_cast<unsigned long long>(Count(now, "lcore")),
                  static_cast<unsigned long long>(Count(now, "packets")),
                  Si(packets / seconds).c_str(), Si(bytes * 8 / seconds).c_str());
    }
  }
  const double packets = static_cast<double>(Count(after, "packets") - Count(before, "packets"));
  const double bytes = static_cast<double>(Count(after, "bytes") - Count(before, "bytes"));
  std::printf("%6s %5s %14llu %12s %12s\n\n", "total", "",
              static_cast<unsigned long long>(Count(after, "packets")),
              Si(packets / seconds).c_str(), Si(bytes * 8 / seconds).c_str());
  std::fflush(stdout);
}

void PrintLookup(const rapidjson::Value& lookup) {
  std::printf("%s (snapshot %llu)\n", Text(lookup, "value").c_str(),
              static_cast<unsigned long long>(Count(lookup, "snapshot_version")));
  const rapidjson::Value& readings = Member(lookup, "readings");
  if (readings.IsArray()) {
    for (const rapidjson::Value& reading : readings.GetArray()) {
      if (reading.IsString()) std::printf("  read as %s\n", Printable(reading.GetString()).c_str());
    }
  }
  const rapidjson::Value& matches = Member(lookup, "matches");
  const size_t count = matches.IsArray() ? matches.Size() : 0;
  if (count == 0) {
    std::printf("  matches no indicator\n");
  } else {
    // Matches grouped by event, in the order the events first appear.
    std::vector<std::pair<std::string, std::vector<const rapidjson::Value*>>> events;
    for (const rapidjson::Value& match : matches.GetArray()) {
      const std::string uuid = Text(Member(match, "event"), "uuid");
      auto event = std::find_if(events.begin(), events.end(),
                                [&uuid](const auto& known) { return known.first == uuid; });
      if (event == events.end()) event = events.insert(events.end(), {uuid, {}});
      event->second.push_back(&match);
    }
    std::printf("  matches %zu indicator%s in %zu event%s:\n", count, count == 1 ? "" : "s",
                events.size(), events.size() == 1 ? "" : "s");
    for (const auto& [uuid, event_matches] : events) {
      const rapidjson::Value& event = Member(*event_matches.front(), "event");
      const std::string id = Text(event, "id").empty() ? uuid : Text(event, "id");
      std::printf("  event %s \"%s\" (%s, %s, uuid %s)\n", id.c_str(), Text(event, "info").c_str(),
                  Text(event, "org").c_str(), Text(event, "date").c_str(), uuid.c_str());
      const std::string event_tags = Join(Member(event, "tags"), ", ");
      if (!event_tags.empty()) std::printf("    tags %s\n", event_tags.c_str());
      for (const rapidjson::Value* match : event_matches) {
        const rapidjson::Value& attribute = Member(*match, "attribute");
        std::string object;
        if (!Text(attribute, "object_name").empty()) {
          object = fmt::format(" [{}/{}]", Text(attribute, "object_name"),
                               Text(attribute, "object_relation"));
        }
        const std::string tags = Join(Member(attribute, "tags"), ", ");
        std::printf("    %s %s (%s) tlp:%s, attribute %s%s, to_ids %s%s%s\n",
                    Text(attribute, "type").c_str(), Text(*match, "indicator").c_str(),
                    Text(*match, "matched_as").c_str(), Text(*match, "tlp").c_str(),
                    Text(attribute, "uuid").c_str(), object.c_str(),
                    Member(attribute, "to_ids").IsTrue() ? "true" : "false",
                    tags.empty() ? "" : ", tags ", tags.c_str());
      }
    }
  }
  if (Member(lookup, "warninglists_checked").IsTrue()) {
    const std::string lists = Join(Member(lookup, "warninglists"), "\", \"");
    std::printf("  %s\n", lists.empty() ? "on no warninglist"
                                        : fmt::format("on warninglist \"{}\"", lists).c_str());
  } else if (!Text(lookup, "warninglists_note").empty()) {
    std::printf("  warninglists %s\n", Text(lookup, "warninglists_note").c_str());
  }
}

std::string Endpoint(const rapidjson::Value& endpoint) {
  const std::string ip = Text(endpoint, "ip");
  const uint64_t port = Count(endpoint, "port");
  return ip.find(':') != std::string::npos ? fmt::format("[{}]:{}", ip, port)
                                           : fmt::format("{}:{}", ip, port);
}

void PrintTopFlows(const rapidjson::Value& top) {
  const rapidjson::Value& flows = Member(top, "flows");
  if (!flows.IsArray() || flows.Empty()) {
    std::printf("no flow has ended in the last %s (packet time)\n",
                Duration(Number(top, "window_seconds")).c_str());
    return;
  }
  std::printf("largest flows that ended in the %s up to %s (packet time)\n",
              Duration(Number(top, "window_seconds")).c_str(), Text(top, "newest_end").c_str());
  std::printf("%-27s %-5s %-41s %-41s %8s %12s %6s\n", "END", "PROTO", "SOURCE", "DESTINATION",
              "PACKETS", "BYTES", "ALERTS");
  for (const rapidjson::Value& flow : flows.GetArray()) {
    std::printf("%-27s %-5s %-41s %-41s %8llu %12llu %6llu\n", Text(flow, "end").c_str(),
                Text(flow, "transport").c_str(), Endpoint(Member(flow, "source")).c_str(),
                Endpoint(Member(flow, "destination")).c_str(),
                static_cast<unsigned long long>(Count(flow, "packets")),
                static_cast<unsigned long long>(Count(flow, "bytes")),
                static_cast<unsigned long long>(Count(flow, "alerts")));
  }
}

void PrintCounts(const char* label, const rapidjson::Value& counts) {
  std::string line;
  if (counts.IsObject()) {
    for (const auto& member : counts.GetObject()) {
      if (!member.value.IsUint64()) continue;
      line += fmt::format("{}{} {}", line.empty() ? "" : ", ", Printable(member.name.GetString()),
                          member.value.GetUint64());
    }
  }
  std::printf("%-14s%s\n", label, line.empty() ? "none" : line.c_str());
}

void PrintIndicators(const rapidjson::Value& summary) {
  std::printf(
      "snapshot %llu: %llu indicators from %llu attributes in %llu events (%llu with "
      "indicators)\n",
      static_cast<unsigned long long>(Count(summary, "snapshot_version")),
      static_cast<unsigned long long>(Count(summary, "indicators")),
      static_cast<unsigned long long>(Count(summary, "attributes")),
      static_cast<unsigned long long>(Count(summary, "events")),
      static_cast<unsigned long long>(Count(summary, "events_with_indicators")));
  PrintCounts("by type", Member(summary, "by_type"));
  PrintCounts("by TLP", Member(summary, "by_tlp"));
  PrintCounts("warninglisted", Member(summary, "warninglisted_by_list"));
  std::printf(
      "%-14s%llu rejected, %llu not to_ids, %llu deleted; %llu payload patterns, %llu "
      "resolved addresses\n",
      "not loaded", static_cast<unsigned long long>(Count(summary, "rejected")),
      static_cast<unsigned long long>(Count(summary, "skipped_not_ids")),
      static_cast<unsigned long long>(Count(summary, "skipped_deleted")),
      static_cast<unsigned long long>(Count(summary, "payload_patterns")),
      static_cast<unsigned long long>(Count(summary, "resolved_addresses")));
}

void PrintReload(const rapidjson::Value& reload) {
  std::printf("reload accepted (request %llu)%s\n",
              static_cast<unsigned long long>(Count(reload, "requested")),
              Member(reload, "after_running_build").IsTrue()
                  ? "; it starts when the reload in progress has finished"
                  : "");
}

// Runs one command and prints its reply; returns the exit status.
template <typename Print>
int RunCommand(const Options& options, const std::string& request, Print print) {
  Reply reply = Exchange(options, request);
  if (!reply.error.empty()) {
    if (options.json && !reply.line.empty()) std::printf("%s\n", reply.line.c_str());
    PrintError(reply.error);
    return kExitError;
  }
  if (options.json) {
    std::printf("%s\n", reply.line.c_str());
  } else {
    print(Member(reply.document, "result"));
  }
  return kExitOk;
}

int WatchStats(const Options& options, double interval_s, uint64_t reports) {
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(interval_s));
  Reply previous = Exchange(options, Request("stats"));
  for (uint64_t report = 0; reports == 0 || report < reports; ++report) {
    if (!previous.error.empty()) {
      PrintError(previous.error);
      return kExitError;
    }
    std::this_thread::sleep_for(interval);
    Reply current = Exchange(options, Request("stats"));
    if (!current.error.empty()) {
      PrintError(current.error);
      return kExitError;
    }
    if (options.json) {
      std::printf("%s\n", current.line.c_str());
      std::fflush(stdout);
    } else {
      PrintRates(Member(previous.document, "result"), Member(current.document, "result"));
    }
    previous = std::move(current);
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Queries a running sensor through its control socket"};
  app.require_subcommand(1);
  app.fallthrough();
  Options options;
  app.add_option("--socket", options.socket, "Control socket of the sensor (its --ctl-socket)")
      ->capture_default_str();
  app.add_flag("--json", options.json, "Print the sensor's JSON reply as it is");
  app.add_option("--timeout", options.timeout_s, "Seconds to wait for a reply")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  CLI::App* stats = app.add_subcommand(
      "stats", "Packets and bytes per worker lcore, drops, alerts, snapshot, reloads, uptime");
  double watch_s = 0;
  uint64_t reports = 0;
  stats
      ->add_option("--watch", watch_s,
                   "Repeat every SECONDS and show packets/s and bits/s per worker lcore, "
                   "computed from two samples")
      ->check(CLI::PositiveNumber);
  stats->add_option("--count", reports, "With --watch: stop after this many reports (0: never)")
      ->capture_default_str();
  CLI::App* reload = app.add_subcommand("reload", "Reload the MISP intelligence now");
  CLI::App* lookup = app.add_subcommand(
      "lookup",
      "Show the running indicators that VALUE matches (address, address|port, domain, URL or "
      "payload text) with their MISP context, and the warninglists the value is on");
  std::string value;
  lookup->add_option("value", value, "Value to look up")->required();
  CLI::App* top_flows = app.add_subcommand(
      "top-flows", "The largest flows by bytes among the flows that ended in the last minutes");
  uint64_t flow_count = 10;
  top_flows->add_option("count", flow_count, "How many flows to list")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1000}));
  CLI::App* indicators = app.add_subcommand(
      "indicators", "Indicator counts by type and TLP, events, and warninglist removals");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? kExitOk : kExitUsage;
  }

  if (stats->parsed()) {
    if (watch_s > 0) return WatchStats(options, watch_s, reports);
    return RunCommand(options, Request("stats"), PrintStats);
  }
  if (reload->parsed()) return RunCommand(options, Request("reload"), PrintReload);
  if (lookup->parsed()) return RunCommand(options, Request("lookup", value), PrintLookup);
  if (top_flows->parsed()) {
    return RunCommand(options, Request("top-flows", std::nullopt, flow_count), PrintTopFlows);
  }
  if (indicators->parsed()) return RunCommand(options, Request("indicators"), PrintIndicators);
  return kExitUsage;
}
