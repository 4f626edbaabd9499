// Destination of alert documents (NDJSON file, Elasticsearch, ...).
//
// Control thread only. Write() takes one JSON document without its newline; Flush()
// makes everything written so far durable as far as the sink's policy goes.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace sensor::ctl {

class AlertSink {
 public:
  virtual ~AlertSink() = default;
  virtual std::string_view name() const = 0;
  virtual absl::Status Write(std::string_view document) = 0;
  virtual absl::Status Flush() = 0;
};

}  // namespace sensor::ctl
