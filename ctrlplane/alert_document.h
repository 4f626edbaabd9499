// Builds the JSON document of one alert, with Elastic Common Schema field names plus the
// MISP context under "misp".
//
// Control thread only. Uses RapidJSON's writer, so strings from traffic or MISP are
// always escaped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ctrlplane/enrich/geoip.h"
#include "ctrlplane/indicator_compiler.h"
#include "dataplane/records.h"

namespace sensor::ctl {

// Alerts held back by deduplication or a rate limit, reported in one summary document.
struct SuppressionSummary {
  std::string_view reason;  // "dedup" or "rate_limit".
  uint64_t count = 0;
  uint64_t first_ns = 0;  // Packet times of the first and last alert held back.
  uint64_t last_ns = 0;
};

struct AlertContext {
  const dp::AlertRecord* alert = nullptr;
  const IndicatorTable* table = nullptr;
  // Counts of the flow when the alert is written; absent if its flow record was lost.
  const dp::FlowRecord* flow = nullptr;
  std::string_view observer_name;  // Host name of the sensor.
  const GeoIp* geoip = nullptr;    // Adds source/destination geo and as fields if set.
  // Set for a summary of suppressed alerts; `alert` is then the first alert of the window.
  const SuppressionSummary* suppressed = nullptr;
};

// Deterministic document id from the flow (tuple and first packet time) and the MISP
// attribute, so a retry or a second replay of the same capture yields the same id.
std::string AlertId(const dp::AlertRecord& alert, std::string_view attribute_uuid);

// Formats nanoseconds since the epoch as RFC 3339 UTC with microseconds.
std::string FormatTimestamp(uint64_t unix_ns);

std::string_view TransportName(uint8_t protocol);

// Where in the traffic a match was found, as the alert's misp.matched_in names it.
std::string_view MatchSourceName(dp::MatchSource source);

// The alert as one line of JSON, without a trailing newline.
std::string BuildAlertDocument(const AlertContext& context);

}  // namespace sensor::ctl
