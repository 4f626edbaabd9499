// MISP events and attributes as the sensor keeps them: the values to match plus the
// context (event, attribute, tags) that every alert carries.
//
// Control thread only. Built by the loader, read by the indicator compiler.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sensor::misp {

struct Event {
  std::string id;    // Numeric id on the instance that exported it; empty in feeds.
  std::string uuid;
  std::string info;
  std::string date;  // YYYY-MM-DD as MISP writes it.
  std::string org;   // Orgc name: the organisation that created the event.
  int threat_level_id = 0;  // 1 high, 2 medium, 3 low, 4 undefined; 0 when absent.
  int analysis = 0;
  bool published = false;
  int64_t timestamp = 0;  // Unix seconds of the last change.
  std::vector<std::string> tags;
  std::string source;  // File or URL the event was read from.
};

struct Attribute {
  std::string uuid;
  std::string type;      // MISP attribute type, for example "ip-dst|port".
  std::string category;
  std::string value;
  std::string comment;
  std::string object_name;      // Name of the MISP object holding it, empty if none.
  std::string object_relation;  // Its relation inside that object, for example "ip-dst".
  bool to_ids = false;
  bool deleted = false;
  int64_t timestamp = 0;
  std::vector<std::string> tags;
  uint32_t event_index = 0;  // Index into LoadResult::events.
};

// Everything read from one or more MISP documents. Parsing keeps going after a bad
// attribute or file: each problem is one line in `errors` and the rest still loads.
struct LoadResult {
  std::vector<Event> events;
  std::vector<Attribute> attributes;
  std::vector<std::string> errors;  // One line each, naming the file and attribute uuid.
  uint64_t rejected_attributes = 0;  // Attributes dropped because of a line in `errors`.
  uint64_t files_read = 0;
};

}  // namespace sensor::misp
