// The composable index template for alert indices. It contains the ECS mapping of every
// field that BuildAlertDocument() writes: addresses as ip, times as date, geo.location as
// geo_point, counters as long and names as keyword. With it, Kibana's views and queries
// see the right types from the first document on.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctrlplane/sinks/elasticsearch_client.h"

namespace sensor::ctl {

// ctrlplane/sinks/elasticsearch-template.json, compiled into the binary.
std::string_view ShippedIndexTemplate();

// The index_patterns entry that covers an index name pattern of the sink: the part
// before the first % followed by *, or the name itself when it has no %.
std::string IndexTemplatePattern(std::string_view index_pattern);

// Sets index_patterns of `template_json` for `index_pattern`, and adds "data_stream": {}
// when the alerts go to a data stream.
absl::StatusOr<std::string> BuildIndexTemplate(std::string_view template_json,
                                               std::string_view index_pattern, bool data_stream);

// PUT /_index_template/<name>. Returns the server's error type and reason on failure.
absl::Status InstallIndexTemplate(ElasticsearchClient& client, std::string_view name,
                                  std::string_view template_body);

}  // namespace sensor::ctl
