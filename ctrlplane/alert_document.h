// Builds the JSON document of one alert, with Elastic Common Schema field names plus the
// MISP context under "misp".
//
// Control thread only. Uses RapidJSON's writer, so strings from traffic or MISP are
// always escaped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ctrlplane/indicator_compiler.h"
#include "dataplane/records.h"

namespace sensor::ctl {

struct AlertContext {
  const dp::AlertRecord* alert = nullptr;
  const IndicatorTable* table = nullptr;
  // Counts of the flow when the alert is written; absent if its flow record was lost.
  const dp::FlowRecord* flow = nullptr;
  std::string_view observer_name;  // Host name of the sensor.
};

// Deterministic document id from the flow (tuple and first packet time) and the MISP
// attribute, so a retry or a second replay of the same capture yields the same id.
std::string AlertId(const dp::AlertRecord& alert, std::string_view attribute_uuid);

// Formats nanoseconds since the epoch as RFC 3339 UTC with microseconds.
std::string FormatTimestamp(uint64_t unix_ns);

std::string_view TransportName(uint8_t protocol);

// The alert as one line of JSON, without a trailing newline.
std::string BuildAlertDocument(const AlertContext& context);

}  // namespace sensor::ctl
