// Reads MISP JSON into the model: a feed directory (manifest.json plus one
// <event-uuid>.json per event, as MISP's feed export writes it), a single event export
// ({"Event": {...}}), or a restSearch response in any of the shapes MISP and PyMISP
// return (events or attributes, with or without the "response" envelope).
//
// Control thread only; allocates freely.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctrlplane/misp/misp_model.h"

namespace sensor::misp {

// Loads a file or a feed directory. Returns an error only when nothing can be read at
// all (missing path, unreadable manifest); problems with single events or attributes go
// to LoadResult::errors and the rest still loads.
absl::StatusOr<LoadResult> LoadMispPath(const std::string& path);

// Loads several sources, in order, into one result. Each event keeps the source it came
// from, so a value listed by two sources keeps both contexts. Fails on the first source
// that cannot be read at all.
absl::StatusOr<LoadResult> LoadMispPaths(const std::vector<std::string>& paths);

// Parses one JSON document and appends what it holds to `out`. `source` names the
// document in error lines and in Event::source. Returns an error (and appends nothing)
// when the document is not valid JSON or has none of the known shapes.
absl::Status ParseMispDocument(std::string_view json, std::string_view source,
                               LoadResult& out);

}  // namespace sensor::misp
