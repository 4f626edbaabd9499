// Typed reads of single fields from MISP JSON through simdjson's DOM API, plus the helpers
// that keep error lines on one line. MISP versions spell the same field differently
// (to_ids as true or "1", timestamps as strings or integers), so each converter accepts
// the several forms listed at its declaration.
//
// Used only by the MISP loader.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fmt/format.h"

namespace sensor::misp::internal {

// Maximum number of input bytes copied into an error line.
inline constexpr size_t kMaxEchoedBytes = 80;

// Escapes control characters, line breaks included, so that `text` fits on one line.
std::string EscapeForLine(std::string_view text);

// EscapeForLine for text from the input, which is also cut after kMaxEchoedBytes and then
// ends in "...".
std::string EchoInput(std::string_view text);

// Returns the name of a simdjson error_code enumerator, such as "TAPE_ERROR".
std::string_view SimdjsonErrorName(simdjson::error_code code);

// Describes a JSON value for an error line: scalars as written (strings quoted and cut),
// arrays and objects by kind only.
std::string DescribeValue(simdjson::dom::element value);

// Returns `invalid <key>: expected <expected>, found <value>`.
std::string InvalidField(std::string_view key, std::string_view expected,
                         simdjson::dom::element value);

// Returns the value of `key`, or nullopt when the key is absent or null. MISP writes null
// for unset optional fields (object_relation, first_seen), so null counts as absent.
std::optional<simdjson::dom::element> FindField(simdjson::dom::object object, std::string_view key);

// Converters from the accepted JSON forms to one C++ type. Each returns false, leaving
// `out` unchanged, when `value` has none of the forms.
bool ToText(simdjson::dom::element value, std::string& out);
// A string, or an integer written as decimal. MISP's exports write ids as strings, and
// integers are accepted as for the other numeric fields.
bool ToId(simdjson::dom::element value, std::string& out);
// An integer, or a string that contains only a decimal integer.
bool ToInteger(simdjson::dom::element value, int64_t& out);
// As ToInteger, within the range of int.
bool ToSmallInteger(simdjson::dom::element value, int& out);
// true/false, 0/1, or one of the strings "0", "1", "true" and "false".
bool ToBoolean(simdjson::dom::element value, bool& out);

// A converter plus the accepted forms as error lines describe them.
template <typename T>
struct FieldKind {
  bool (*convert)(simdjson::dom::element, T&);
  std::string_view expected;
};

inline constexpr FieldKind<std::string> kText{ToText, "a string"};
inline constexpr FieldKind<std::string> kId{ToId, "a string or an integer"};
inline constexpr FieldKind<int64_t> kInteger{ToInteger, "an integer or a string of digits"};
inline constexpr FieldKind<int> kSmallInteger{ToSmallInteger,
                                              "a 32-bit integer or a string of digits"};
inline constexpr FieldKind<bool> kBoolean{ToBoolean,
                                          "true, false, 0, 1, \"0\", \"1\", \"true\" or \"false\""};

// Reads optional field `key` into `out`, which keeps its value when the field is absent or
// null. Returns the error text when the field has the wrong type, and otherwise an empty
// string.
template <typename T>
std::string ReadField(simdjson::dom::object object, std::string_view key, const FieldKind<T>& kind,
                      T& out) {
  std::optional<simdjson::dom::element> value = FindField(object, key);
  if (!value.has_value() || kind.convert(*value, out)) {
    return "";
  }
  return InvalidField(key, kind.expected, *value);
}

// Reads string field `key`, which must be present and non-empty. Returns the error text,
// or an empty string.
std::string ReadRequiredText(simdjson::dom::object object, std::string_view key, std::string& out);

// Appends the `name` of each entry of the `Tag` array to `tags`. An entry without a
// non-empty string name is skipped, and `errors` gets a line for it.
void ReadTags(simdjson::dom::object object, std::vector<std::string>& tags,
              std::vector<std::string>& errors);

}  // namespace sensor::misp::internal
