// Fuzz target for the control socket's request protocol: the bytes a client sends, split
// into lines and run by CtlRequestHandler. It registers the sensor's commands that read
// arguments from the request (lookup, top-flows) and indicators, over a snapshot compiled
// from a small MISP event.
//
// The first input byte chooses where the rest is cut in two, so that a request can arrive
// in two reads. Every reply must be one line holding a JSON object with a boolean "ok".
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ctrlplane/ctl/ctl_commands.h"
#include "ctrlplane/ctl/ctl_server.h"
#include "ctrlplane/ctl/top_flows.h"
#include "ctrlplane/indicator_compiler.h"
#include "ctrlplane/misp/misp_loader.h"
#include "rapidjson/document.h"

namespace {

// One event with an indicator of each kind that lookup searches.
constexpr std::string_view kEvent = R"({"Event": {
  "uuid": "5e0d2a7b-1c3f-4c8e-9a51-0f6b1d2c3e4f", "info": "ctl fuzz event", "date": "2024-01-01",
  "Tag": [{"name": "tlp:green"}],
  "Attribute": [
    {"uuid": "7a1e0f33-0000-4000-8000-000000000001", "type": "ip-dst",
     "category": "Network activity", "value": "198.51.100.7", "to_ids": true},
    {"uuid": "7a1e0f33-0000-4000-8000-000000000002", "type": "ip-src|port",
     "category": "Network activity", "value": "2001:db8::7|443", "to_ids": true},
    {"uuid": "7a1e0f33-0000-4000-8000-000000000003", "type": "domain",
     "category": "Network activity", "value": "example.com", "to_ids": true},
    {"uuid": "7a1e0f33-0000-4000-8000-000000000004", "type": "hostname",
     "category": "Network activity", "value": "www.example.org", "to_ids": true},
    {"uuid": "7a1e0f33-0000-4000-8000-000000000005", "type": "url",
     "category": "Network activity", "value": "http://example.com/a?b=c", "to_ids": true},
    {"uuid": "7a1e0f33-0000-4000-8000-000000000006", "type": "pattern-in-traffic",
     "category": "Network activity", "value": "UNION+SELECT", "to_ids": true},
    {"uuid": "7a1e0f33-0000-4000-8000-000000000007", "type": "ip-dst",
     "category": "Network activity", "value": "203.0.113.0/24", "to_ids": true}
  ]}})";

constexpr size_t kMaxLineBytes = 4096;
constexpr size_t kMaxPendingOutputBytes = 64 * 1024;

struct Context {
  sensor::ctl::CompileResult compiled;
  sensor::ctl::TopFlows top_flows;
  sensor::ctl::CtlServerStats stats;
  std::unique_ptr<sensor::ctl::CtlRequestHandler> handler;
};

Context& GetContext() {
  static Context* context = [] {
    auto* created = new Context;
    sensor::misp::LoadResult loaded;
    if (!sensor::misp::ParseMispDocument(kEvent, "event.json", loaded).ok()) __builtin_trap();
    created->compiled =
        sensor::ctl::CompileIndicators(std::move(loaded), sensor::ctl::CompileOptions{}, 1);
    if (created->compiled.snapshot == nullptr) __builtin_trap();
    sensor::dp::FlowRecord record;
    record.flow_id = 1;
    record.first_ns = 1'000'000'000;
    record.last_ns = 2'000'000'000;
    record.bytes[0] = 1500;
    record.packets[0] = 3;
    created->top_flows.OnFlowRecord(record);

    created->handler = std::make_unique<sensor::ctl::CtlRequestHandler>(
        kMaxLineBytes, kMaxPendingOutputBytes, created->stats);
    sensor::ctl::CtlRequestHandler& handler = *created->handler;
    handler.AddCommand("lookup", [created](const rapidjson::Value& request,
                                           sensor::ctl::CtlWriter& writer) {
      absl::StatusOr<std::string_view> value = sensor::ctl::RequestString(request, "value");
      if (!value.ok()) return value.status();
      return sensor::ctl::WriteLookup(*created->compiled.snapshot, *value, nullptr, true, writer);
    });
    handler.AddCommand(
        "top-flows", [created](const rapidjson::Value& request, sensor::ctl::CtlWriter& writer) {
          absl::StatusOr<uint64_t> count = sensor::ctl::RequestCount(request, "count", 10);
          if (!count.ok()) return count.status();
          const size_t max_count = created->top_flows.options().per_bucket;
          if (*count == 0 || *count > max_count) {
            return absl::InvalidArgumentError(
                absl::StrCat("invalid request: \"count\" must be from 1 to ", max_count));
          }
          sensor::ctl::WriteTopFlows(created->top_flows, *count, writer);
          return absl::OkStatus();
        });
    handler.AddCommand("indicators",
                       [created](const rapidjson::Value&, sensor::ctl::CtlWriter& writer) {
                         sensor::ctl::WriteIndicatorSummary(*created->compiled.snapshot,
                                                            created->compiled.stats, writer);
                         return absl::OkStatus();
                       });
    return created;
  }();
  return *context;
}

// Checks the replies not read yet and marks them read, as a client draining its socket.
void ReadReplies(sensor::ctl::CtlStream& stream) {
  std::string_view pending(stream.output.data() + stream.output_sent, stream.PendingOutput());
  while (!pending.empty()) {
    const size_t newline = pending.find('\n');
    if (newline == std::string_view::npos) __builtin_trap();  // Replies are whole lines.
    rapidjson::Document reply;
    reply.Parse(pending.data(), newline);
    if (reply.HasParseError() || !reply.IsObject()) __builtin_trap();
    const rapidjson::Value::ConstMemberIterator ok = std::as_const(reply).FindMember("ok");
    if (ok == std::as_const(reply).MemberEnd() || !ok->value.IsBool()) __builtin_trap();
    pending.remove_prefix(newline + 1);
  }
  stream.output.clear();
  stream.output_sent = 0;
}

// Runs the handler until it makes no more progress on the input it has.
void HandleAll(sensor::ctl::CtlRequestHandler& handler, sensor::ctl::CtlStream& stream) {
  for (;;) {
    const size_t before = stream.input.size();
    handler.HandleLines(stream);
    ReadReplies(stream);
    if (stream.close_after_output || stream.input.size() == before) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Context& context = GetContext();
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t cut = input.size() * data[0] / 255;

  sensor::ctl::CtlStream stream;
  stream.input.assign(input.substr(0, cut));
  HandleAll(*context.handler, stream);
  if (stream.close_after_output) return 0;
  stream.input.append(input.substr(cut));
  HandleAll(*context.handler, stream);
  // What is left is an unfinished line, which the server keeps until more bytes arrive.
  if (!stream.close_after_output && stream.input.find('\n') != std::string::npos) {
    __builtin_trap();
  }
  return 0;
}
