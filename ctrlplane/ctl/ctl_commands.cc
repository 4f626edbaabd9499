#include "ctrlplane/ctl/ctl_commands.h"

#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/alert_document.h"
#include "ctrlplane/json_fields.h"
#include "ctrlplane/tlp.h"
#include "ctrlplane/value_match.h"

namespace sensor::ctl {
namespace {

using json::Field;
using json::Key;
using json::String;
using json::StringArray;

std::string_view EndReasonName(dp::FlowEndReason reason) {
  switch (reason) {
    case dp::FlowEndReason::kIdleTimeout:
      return "idle_timeout";
    case dp::FlowEndReason::kActiveTimeout:
      return "active_timeout";
    case dp::FlowEndReason::kEndOfFlow:
      return "end_of_flow";
    case dp::FlowEndReason::kForcedEnd:
      return "forced_end";
    case dp::FlowEndReason::kLackOfResources:
      return "lack_of_resources";
  }
  return "unknown";
}

void WriteEndpoint(CtlWriter& writer, std::string_view key, const dp::IpAddress& address,
                   uint16_t port, uint32_t packets, uint64_t bytes) {
  Key(writer, key);
  writer.StartObject();
  Field(writer, "ip", FormatAddress(address));
  Field(writer, "port", port);
  Field(writer, "packets", packets);
  Field(writer, "bytes", bytes);
  writer.EndObject();
}

void WriteMatch(CtlWriter& writer, const IndicatorTable& table, const ValueMatch& match) {
  const IndicatorEntry& entry = table.entries[match.indicator];
  const misp::Attribute& attribute = table.attributes[entry.attribute];
  const misp::Event& event = table.events[attribute.event_index];
  writer.StartObject();
  Field(writer, "matched_as", match.matched_as);
  Field(writer, "indicator", entry.matched_value);
  if (entry.port != 0) Field(writer, "port", entry.port);
  Field(writer, "tlp", TlpName(entry.tlp));

  Key(writer, "attribute");
  writer.StartObject();
  Field(writer, "uuid", attribute.uuid);
  Field(writer, "type", attribute.type);
  Field(writer, "category", attribute.category);
  Field(writer, "value", attribute.value);
  Key(writer, "to_ids");
  writer.Bool(attribute.to_ids);
  if (!attribute.comment.empty()) Field(writer, "comment", attribute.comment);
  if (!attribute.object_name.empty()) {
    Field(writer, "object_name", attribute.object_name);
    Field(writer, "object_relation", attribute.object_relation);
  }
  StringArray(writer, "tags", attribute.tags);
  writer.EndObject();

  Key(writer, "event");
  writer.StartObject();
  Field(writer, "id", event.id);
  Field(writer, "uuid", event.uuid);
  Field(writer, "info", event.info);
  Field(writer, "date", event.date);
  Field(writer, "org", event.org);
  StringArray(writer, "tags", event.tags);
  Field(writer, "source", event.source);
  writer.EndObject();
  writer.EndObject();
}

}  // namespace

absl::StatusOr<std::string_view> RequestString(const rapidjson::Value& request,
                                               std::string_view member) {
  auto found =
      request.FindMember(rapidjson::Value(rapidjson::StringRef(member.data(), member.size())));
  if (found == request.MemberEnd() || !found->value.IsString()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid request: the string member \"", ToAbsl(member), "\" is missing"));
  }
  return std::string_view(found->value.GetString(), found->value.GetStringLength());
}

absl::StatusOr<uint64_t> RequestCount(const rapidjson::Value& request, std::string_view member,
                                      uint64_t fallback) {
  auto found =
      request.FindMember(rapidjson::Value(rapidjson::StringRef(member.data(), member.size())));
  if (found == request.MemberEnd()) return fallback;
  if (!found->value.IsUint64()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid request: \"", ToAbsl(member), "\" must be a non-negative integer"));
  }
  return found->value.GetUint64();
}

absl::Status WriteLookup(const dp::Snapshot& snapshot, std::string_view value,
                         const WarninglistIndex* warninglists, bool warninglists_usable,
                         CtlWriter& writer) {
  absl::StatusOr<ValueMatches> matched = MatchValue(snapshot, value);
  if (!matched.ok()) return matched.status();
  const IndicatorTable& table = *snapshot.indicators;

  writer.StartObject();
  Field(writer, "value", value);
  Field(writer, "snapshot_version", snapshot.version);
  StringArray(writer, "readings", matched->readings);
  Key(writer, "matches");
  writer.StartArray();
  for (const ValueMatch& match : matched->matches) WriteMatch(writer, table, match);
  writer.EndArray();

  Key(writer, "warninglists_checked");
  writer.Bool(warninglists != nullptr && warninglists_usable);
  std::vector<std::string> lists;
  if (warninglists != nullptr && warninglists_usable) {
    lists = warninglists->Explain(matched->warninglist_type, matched->warninglist_value);
  }
  StringArray(writer, "warninglists", lists);
  if (warninglists != nullptr && !warninglists_usable) {
    Field(writer, "warninglists_note",
          "not checked: a reload of the intelligence is using the warninglists; ask again "
          "when it has finished");
  }
  writer.EndObject();
  return absl::OkStatus();
}

void WriteIndicatorSummary(const dp::Snapshot& snapshot, const CompileStats& stats,
                           CtlWriter& writer) {
  const IndicatorTable& table = *snapshot.indicators;
  std::map<std::string, uint64_t> by_type;
  std::map<std::string, uint64_t> by_tlp;
  absl::flat_hash_set<uint32_t> events_with_indicators;
  uint64_t compiled = 0;
  for (const IndicatorEntry& entry : table.entries) {
    if (!entry.compiled) continue;
    ++compiled;
    const misp::Attribute& attribute = table.attributes[entry.attribute];
    ++by_type[attribute.type];
    ++by_tlp[std::string(TlpName(entry.tlp))];
    events_with_indicators.insert(attribute.event_index);
  }

  writer.StartObject();
  Field(writer, "snapshot_version", snapshot.version);
  Field(writer, "indicators", compiled);
  Field(writer, "attributes", table.attributes.size());
  Field(writer, "events", table.events.size());
  Field(writer, "events_with_indicators", events_with_indicators.size());
  Key(writer, "by_type");
  writer.StartObject();
  for (const auto& [type, count] : by_type) Field(writer, type, count);
  writer.EndObject();
  Key(writer, "by_tlp");
  writer.StartObject();
  for (const auto& [tlp, count] : by_tlp) Field(writer, tlp, count);
  writer.EndObject();
  Field(writer, "resolved_addresses",
        snapshot.resolved != nullptr ? snapshot.resolved->rule_count() : 0);
  Field(writer, "payload_patterns",
        snapshot.patterns != nullptr ? snapshot.patterns->pattern_count() : 0);
  Field(writer, "warninglisted", stats.warninglisted);
  Key(writer, "warninglisted_by_list");
  writer.StartObject();
  for (const auto& [list, count] : stats.warninglisted_by_list) Field(writer, list, count);
  writer.EndObject();
  Field(writer, "rejected", stats.rejected);
  Field(writer, "skipped_not_ids", stats.skipped_not_ids);
  Field(writer, "skipped_deleted", stats.skipped_deleted);
  writer.EndObject();
}

void WriteTopFlows(const TopFlows& flows, size_t count, CtlWriter& writer) {
  const TopFlowsOptions& options = flows.options();
  writer.StartObject();
  Field(writer, "window_seconds", options.window_ns / 1'000'000'000);
  Field(writer, "max_count", options.per_bucket);
  Field(writer, "flows_ended", flows.flows_seen());
  if (flows.newest_end_ns() != 0) {
    Field(writer, "newest_end", FormatTimestamp(flows.newest_end_ns()));
  }
  Key(writer, "flows");
  writer.StartArray();
  for (const dp::FlowRecord& flow : flows.Top(count)) {
    writer.StartObject();
    Field(writer, "start", FormatTimestamp(flow.first_ns));
    Field(writer, "end", FormatTimestamp(flow.last_ns));
    Field(writer, "transport", TransportName(flow.tuple.protocol));
    WriteEndpoint(writer, "source", flow.tuple.src, flow.tuple.src_port, flow.packets[0],
                  flow.bytes[0]);
    WriteEndpoint(writer, "destination", flow.tuple.dst, flow.tuple.dst_port, flow.packets[1],
                  flow.bytes[1]);
    Field(writer, "packets", uint64_t{flow.packets[0]} + flow.packets[1]);
    Field(writer, "bytes", FlowBytes(flow));
    Field(writer, "alerts", flow.alerts);
    Field(writer, "end_reason", EndReasonName(flow.reason));
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
}

}  // namespace sensor::ctl
