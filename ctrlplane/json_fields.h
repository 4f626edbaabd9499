// Short forms for writing JSON members with a rapidjson writer: a key and its value in one
// call, with std::string_view keys and strings (rapidjson wants a pointer and a length).
//
// Templates over the writer, so the compact writer of alerts and control replies and the
// pretty writer of the statistics file share them.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rapidjson/rapidjson.h"

namespace sensor::json {

template <typename Writer>
void Key(Writer& writer, std::string_view key) {
  writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}

template <typename Writer>
void String(Writer& writer, std::string_view value) {
  writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

template <typename Writer>
void Field(Writer& writer, std::string_view key, std::string_view value) {
  Key(writer, key);
  String(writer, value);
}

template <typename Writer>
void Field(Writer& writer, std::string_view key, uint64_t value) {
  Key(writer, key);
  writer.Uint64(value);
}

// Only for floating-point values, so that an integer argument never becomes ambiguous
// between this and the uint64_t form.
template <typename Writer, std::floating_point Number>
void Field(Writer& writer, std::string_view key, Number value) {
  Key(writer, key);
  writer.Double(static_cast<double>(value));
}

template <typename Writer>
void StringArray(Writer& writer, std::string_view key, const std::vector<std::string>& values) {
  Key(writer, key);
  writer.StartArray();
  for (const std::string& value : values) String(writer, value);
  writer.EndArray();
}

// Starts an object as the value of `key`; the caller ends it.
template <typename Writer>
void Object(Writer& writer, std::string_view key) {
  Key(writer, key);
  writer.StartObject();
}

}  // namespace sensor::json
