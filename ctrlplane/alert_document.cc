#include "ctrlplane/alert_document.h"

#include <openssl/evp.h>

#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/json_fields.h"
#include "dataplane/flow/community_id.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace sensor::ctl {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

using json::Field;
using json::Key;
using json::String;
using json::StringArray;

std::string_view IndicatorType(const dp::IpAddress& address) {
  return address.IsV4() ? "ipv4-addr" : "ipv6-addr";
}

void Geo(Writer& writer, const GeoResult& geo) {
  if (!geo.country_iso_code.empty() || !geo.city_name.empty() || geo.latitude) {
    Key(writer, "geo");
    writer.StartObject();
    if (!geo.continent_code.empty()) Field(writer, "continent_code", geo.continent_code);
    if (!geo.country_iso_code.empty()) Field(writer, "country_iso_code", geo.country_iso_code);
    if (!geo.country_name.empty()) Field(writer, "country_name", geo.country_name);
    if (!geo.region_name.empty()) Field(writer, "region_name", geo.region_name);
    if (!geo.city_name.empty()) Field(writer, "city_name", geo.city_name);
    if (geo.latitude && geo.longitude) {
      Key(writer, "location");
      writer.StartObject();
      Key(writer, "lat");
      writer.Double(*geo.latitude);
      Key(writer, "lon");
      writer.Double(*geo.longitude);
      writer.EndObject();
    }
    writer.EndObject();
  }
  if (geo.as_number) {
    Key(writer, "as");
    writer.StartObject();
    Field(writer, "number", uint64_t{*geo.as_number});
    if (!geo.as_organization.empty()) {
      Key(writer, "organization");
      writer.StartObject();
      Field(writer, "name", geo.as_organization);
      writer.EndObject();
    }
    writer.EndObject();
  }
}

void Endpoint(Writer& writer, std::string_view key, const dp::IpAddress& address, uint16_t port,
              bool has_ports, std::optional<uint64_t> packets, std::optional<uint64_t> bytes,
              const GeoIp* geoip) {
  Key(writer, key);
  writer.StartObject();
  Field(writer, "ip", FormatAddress(address));
  if (has_ports) Field(writer, "port", port);
  if (packets) Field(writer, "packets", *packets);
  if (bytes) Field(writer, "bytes", *bytes);
  if (geoip != nullptr) Geo(writer, geoip->Lookup(address));
  writer.EndObject();
}

// ECS fields for the traffic value that matched a name or URL indicator.
void ObservedFields(Writer& writer, dp::MatchSource source, std::string_view observed) {
  switch (source) {
    case dp::MatchSource::kDnsQuery:
    case dp::MatchSource::kDnsAnswer:
    case dp::MatchSource::kDnsResolved:
      Key(writer, "dns");
      writer.StartObject();
      Key(writer, "question");
      writer.StartObject();
      Field(writer, "name", observed);
      writer.EndObject();
      writer.EndObject();
      break;
    case dp::MatchSource::kTlsSni:
    case dp::MatchSource::kQuicSni:
      Key(writer, "tls");
      writer.StartObject();
      Key(writer, "client");
      writer.StartObject();
      Field(writer, "server_name", observed);
      writer.EndObject();
      writer.EndObject();
      break;
    case dp::MatchSource::kHttpHost:
      Key(writer, "url");
      writer.StartObject();
      Field(writer, "domain", observed);
      writer.EndObject();
      break;
    case dp::MatchSource::kHttpUrl:
      Key(writer, "url");
      writer.StartObject();
      Field(writer, "full", observed);
      writer.EndObject();
      break;
    case dp::MatchSource::kAddress:
    case dp::MatchSource::kPayload:
      break;
  }
}

}  // namespace

std::string_view MatchSourceName(dp::MatchSource source) {
  switch (source) {
    case dp::MatchSource::kAddress:
      return "address";
    case dp::MatchSource::kPayload:
      return "payload";
    case dp::MatchSource::kDnsQuery:
      return "dns.question.name";
    case dp::MatchSource::kDnsAnswer:
      return "dns.answers.name";
    case dp::MatchSource::kDnsResolved:
      return "dns.answers.data";
    case dp::MatchSource::kTlsSni:
      return "tls.client.server_name";
    case dp::MatchSource::kQuicSni:
      return "quic.tls.client.server_name";
    case dp::MatchSource::kHttpHost:
      return "http.request.host";
    case dp::MatchSource::kHttpUrl:
      return "url.full";
  }
  return "unknown";
}

std::string_view TransportName(uint8_t protocol) {
  switch (protocol) {
    case 1:
      return "icmp";
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 58:
      return "ipv6-icmp";
    case 132:
      return "sctp";
    case 47:
      return "gre";
    case 50:
      return "esp";
    default:
      return "";
  }
}

std::string FormatTimestamp(uint64_t unix_ns) {
  const time_t seconds = static_cast<time_t>(unix_ns / 1'000'000'000);
  const uint64_t micros = unix_ns % 1'000'000'000 / 1000;
  tm utc;
  gmtime_r(&seconds, &utc);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                         utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, micros);
}

std::string AlertId(const dp::AlertRecord& alert, std::string_view attribute_uuid) {
  // The tuple is hashed in the flow initiator's orientation-independent order so that
  // alerts raised by either direction of one flow share the flow part of the id.
  const dp::FlowTuple& tuple = alert.tuple;
  const bool src_first = std::tie(tuple.src, tuple.src_port) <= std::tie(tuple.dst, tuple.dst_port);
  const std::string material = absl::StrCat(
      FormatAddress(src_first ? tuple.src : tuple.dst), "|",
      src_first ? tuple.src_port : tuple.dst_port, "|",
      FormatAddress(src_first ? tuple.dst : tuple.src), "|",
      src_first ? tuple.dst_port : tuple.src_port, "|", tuple.protocol, "|", tuple.vlan_outer, "|",
      tuple.vlan_inner, "|", alert.flow_start_ns, "|", ToAbsl(attribute_uuid));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  EVP_Digest(material.data(), material.size(), digest, &digest_length, EVP_sha256(), nullptr);
  std::string id;
  for (unsigned int i = 0; i < 16 && i < digest_length; ++i) {
    absl::StrAppendFormat(&id, "%02x", digest[i]);
  }
  return id;
}

std::string BuildAlertDocument(const AlertContext& context) {
  const dp::AlertRecord& alert = *context.alert;
  const IndicatorEntry& entry = context.table->entries[alert.indicator];
  const misp::Attribute& attribute = context.table->attributes[entry.attribute];
  const misp::Event& event = context.table->events[attribute.event_index];
  const dp::FlowTuple& tuple = alert.tuple;
  const bool has_ports = tuple.protocol == 6 || tuple.protocol == 17 || tuple.protocol == 132;

  // Flow counts are kept from the initiator's side; map them to this alert's direction.
  std::optional<uint64_t> src_packets, src_bytes, dst_packets, dst_bytes;
  if (context.flow != nullptr) {
    const dp::FlowRecord& flow = *context.flow;
    const bool src_is_initiator =
        flow.tuple.src == tuple.src && flow.tuple.src_port == tuple.src_port;
    const int src_index = src_is_initiator ? 0 : 1;
    src_packets = flow.packets[src_index];
    src_bytes = flow.bytes[src_index];
    dst_packets = flow.packets[1 - src_index];
    dst_bytes = flow.bytes[1 - src_index];
  }

  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartObject();
  Field(writer, "@timestamp", FormatTimestamp(alert.packet_time_ns));

  Key(writer, "event");
  writer.StartObject();
  Field(writer, "kind", "alert");
  Key(writer, "category");
  writer.StartArray();
  String(writer, "network");
  String(writer, "threat");
  writer.EndArray();
  Key(writer, "type");
  writer.StartArray();
  String(writer, "indicator");
  writer.EndArray();
  std::string id = AlertId(alert, attribute.uuid);
  if (context.suppressed != nullptr) {
    // A summary has an id of its own, derived from the alert that opened the window.
    id =
        AlertId(alert, absl::StrCat(ToAbsl(attribute.uuid), "|", ToAbsl(context.suppressed->reason),
                                    "|", context.suppressed->first_ns));
    Field(writer, "action", "suppressed-summary");
  }
  Field(writer, "id", id);
  Field(writer, "dataset", "sensor.alert");
  Field(writer, "start", FormatTimestamp(alert.flow_start_ns));
  if (context.flow != nullptr) Field(writer, "end", FormatTimestamp(context.flow->last_ns));
  if (event.threat_level_id != 0) Field(writer, "severity", event.threat_level_id);
  writer.EndObject();

  Endpoint(writer, "source", tuple.src, tuple.src_port, has_ports, src_packets, src_bytes,
           context.geoip);
  Endpoint(writer, "destination", tuple.dst, tuple.dst_port, has_ports, dst_packets, dst_bytes,
           context.geoip);

  Key(writer, "network");
  writer.StartObject();
  if (std::string_view transport = TransportName(tuple.protocol); !transport.empty()) {
    Field(writer, "transport", transport);
  }
  Field(writer, "iana_number", absl::StrCat(tuple.protocol));
  // ICMP flows are keyed without type and code, which Community ID hashes as ports, so
  // an ICMP id computed here would not equal other tools' ids; it is left out.
  if (tuple.protocol != 1 && tuple.protocol != 58) {
    dp::CommunityIdTuple community;
    community.src = tuple.src;
    community.dst = tuple.dst;
    community.ip_version = tuple.ip_version;
    community.protocol = tuple.protocol;
    community.src_port = tuple.src_port;
    community.dst_port = tuple.dst_port;
    Field(writer, "community_id", dp::CommunityId(community));
  }
  Field(writer, "type", tuple.ip_version == 4 ? "ipv4" : "ipv6");
  if (src_packets) {
    Field(writer, "packets", *src_packets + *dst_packets);
    Field(writer, "bytes", *src_bytes + *dst_bytes);
  }
  if (tuple.vlan_count > 0) {
    Key(writer, "vlan");
    writer.StartObject();
    Field(writer, "id", absl::StrCat(tuple.vlan_outer));
    writer.EndObject();
  }
  if (tuple.vlan_count > 1) {
    Key(writer, "inner");
    writer.StartObject();
    Key(writer, "vlan");
    writer.StartObject();
    Field(writer, "id", absl::StrCat(tuple.vlan_inner));
    writer.EndObject();
    writer.EndObject();
  }
  writer.EndObject();

  const std::string_view observed(alert.observed, alert.observed_length);
  if (!observed.empty()) ObservedFields(writer, alert.source, observed);

  const dp::IpAddress& matched = alert.matched_side == dp::kSideSource ? tuple.src : tuple.dst;
  Key(writer, "threat");
  writer.StartObject();
  Field(writer, "framework", "MISP");
  Key(writer, "indicator");
  writer.StartObject();
  switch (entry.kind) {
    case IndicatorKind::kAddress:
      Field(writer, "type", IndicatorType(matched));
      Field(writer, "ip", FormatAddress(matched));
      break;
    case IndicatorKind::kDomain:
      Field(writer, "type", "domain-name");
      Key(writer, "url");
      writer.StartObject();
      Field(writer, "domain", entry.matched_value);
      writer.EndObject();
      break;
    case IndicatorKind::kUrl:
      Field(writer, "type", "url");
      Key(writer, "url");
      writer.StartObject();
      Field(writer, "full", entry.matched_value);
      writer.EndObject();
      break;
    case IndicatorKind::kPattern:
      // ECS has no pattern type; a payload pattern describes observed bytes, which
      // STIX and ECS call an artifact.
      Field(writer, "type", "artifact");
      break;
  }
  if (entry.port != 0) Field(writer, "port", entry.port);
  Field(writer, "description", event.info);
  if (!event.org.empty()) Field(writer, "provider", event.org);
  Key(writer, "marking");
  writer.StartObject();
  Field(writer, "tlp", TlpEcsName(entry.tlp));
  writer.EndObject();
  writer.EndObject();
  Key(writer, "feed");
  writer.StartObject();
  Field(writer, "name", event.source);
  writer.EndObject();
  writer.EndObject();

  Key(writer, "misp");
  writer.StartObject();
  Field(writer, "tlp", TlpName(entry.tlp));
  Field(writer, "matched", entry.matched_value);
  Field(writer, "matched_side", alert.matched_side == dp::kSideSource ? "source" : "destination");
  Field(writer, "matched_in", MatchSourceName(alert.source));
  if (!observed.empty()) Field(writer, "observed", observed);
  Key(writer, "event");
  writer.StartObject();
  if (!event.id.empty()) Field(writer, "id", event.id);
  Field(writer, "uuid", event.uuid);
  Field(writer, "info", event.info);
  if (!event.date.empty()) Field(writer, "date", event.date);
  if (!event.org.empty()) Field(writer, "org", event.org);
  if (event.threat_level_id != 0) Field(writer, "threat_level_id", event.threat_level_id);
  StringArray(writer, "tags", event.tags);
  writer.EndObject();
  Key(writer, "attribute");
  writer.StartObject();
  Field(writer, "uuid", attribute.uuid);
  Field(writer, "type", attribute.type);
  Field(writer, "category", attribute.category);
  Field(writer, "value", attribute.value);
  Field(writer, "comment", attribute.comment);
  Key(writer, "to_ids");
  writer.Bool(attribute.to_ids);
  StringArray(writer, "tags", attribute.tags);
  if (!attribute.object_name.empty()) {
    Key(writer, "object");
    writer.StartObject();
    Field(writer, "name", attribute.object_name);
    Field(writer, "relation", attribute.object_relation);
    writer.EndObject();
  }
  writer.EndObject();
  writer.EndObject();

  if (context.suppressed != nullptr) {
    const SuppressionSummary& summary = *context.suppressed;
    Key(writer, "sensor");
    writer.StartObject();
    Key(writer, "suppressed");
    writer.StartObject();
    Field(writer, "reason", summary.reason);
    Field(writer, "count", summary.count);
    Field(writer, "first", FormatTimestamp(summary.first_ns));
    Field(writer, "last", FormatTimestamp(summary.last_ns));
    writer.EndObject();
    writer.EndObject();
  }

  Key(writer, "observer");
  writer.StartObject();
  Field(writer, "type", "sensor");
  if (!context.observer_name.empty()) Field(writer, "hostname", context.observer_name);
  writer.EndObject();

  // Elastic Security expects ecs.version in every event; the fields above follow ECS 8.11.
  Key(writer, "ecs");
  writer.StartObject();
  Field(writer, "version", "8.11.0");
  writer.EndObject();

  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace sensor::ctl
