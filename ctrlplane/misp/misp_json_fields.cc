#include "ctrlplane/misp/misp_json_fields.h"

#include <simdjson.h>

#include <charconv>
#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "ctrlplane/absl_bridge.h"
#include "fmt/format.h"

namespace sensor::misp::internal {

namespace dom = simdjson::dom;

std::string EscapeForLine(std::string_view text) { return absl::Utf8SafeCHexEscape(ToAbsl(text)); }

std::string EchoInput(std::string_view text) {
  if (text.size() <= kMaxEchoedBytes) {
    return EscapeForLine(text);
  }
  size_t end = kMaxEchoedBytes;
  // Move the cut back to the start of a UTF-8 sequence so that no character is split.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return EscapeForLine(text.substr(0, end)) + "...";
}

std::string_view SimdjsonErrorName(simdjson::error_code code) {
  switch (code) {
    case simdjson::SUCCESS: return "SUCCESS";
    case simdjson::CAPACITY: return "CAPACITY";
    case simdjson::MEMALLOC: return "MEMALLOC";
    case simdjson::TAPE_ERROR: return "TAPE_ERROR";
    case simdjson::DEPTH_ERROR: return "DEPTH_ERROR";
    case simdjson::STRING_ERROR: return "STRING_ERROR";
    case simdjson::T_ATOM_ERROR: return "T_ATOM_ERROR";
    case simdjson::F_ATOM_ERROR: return "F_ATOM_ERROR";
    case simdjson::N_ATOM_ERROR: return "N_ATOM_ERROR";
    case simdjson::NUMBER_ERROR: return "NUMBER_ERROR";
    case simdjson::UTF8_ERROR: return "UTF8_ERROR";
    case simdjson::UNINITIALIZED: return "UNINITIALIZED";
    case simdjson::EMPTY: return "EMPTY";
    case simdjson::UNESCAPED_CHARS: return "UNESCAPED_CHARS";
    case simdjson::UNCLOSED_STRING: return "UNCLOSED_STRING";
    case simdjson::UNSUPPORTED_ARCHITECTURE: return "UNSUPPORTED_ARCHITECTURE";
    case simdjson::INCORRECT_TYPE: return "INCORRECT_TYPE";
    case simdjson::NUMBER_OUT_OF_RANGE: return "NUMBER_OUT_OF_RANGE";
    case simdjson::INDEX_OUT_OF_BOUNDS: return "INDEX_OUT_OF_BOUNDS";
    case simdjson::NO_SUCH_FIELD: return "NO_SUCH_FIELD";
    case simdjson::IO_ERROR: return "IO_ERROR";
    case simdjson::INVALID_JSON_POINTER: return "INVALID_JSON_POINTER";
    case simdjson::INVALID_URI_FRAGMENT: return "INVALID_URI_FRAGMENT";
    case simdjson::UNEXPECTED_ERROR: return "UNEXPECTED_ERROR";
    case simdjson::PARSER_IN_USE: return "PARSER_IN_USE";
    case simdjson::OUT_OF_ORDER_ITERATION: return "OUT_OF_ORDER_ITERATION";
    case simdjson::INSUFFICIENT_PADDING: return "INSUFFICIENT_PADDING";
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT: return "INCOMPLETE_ARRAY_OR_OBJECT";
    case simdjson::SCALAR_DOCUMENT_AS_VALUE: return "SCALAR_DOCUMENT_AS_VALUE";
    case simdjson::OUT_OF_BOUNDS: return "OUT_OF_BOUNDS";
    case simdjson::TRAILING_CONTENT: return "TRAILING_CONTENT";
    default: return "unknown simdjson error";
  }
}

std::string DescribeValue(dom::element value) {
  switch (value.type()) {
    case dom::element_type::STRING: {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) {
        return "a string";
      }
      return fmt::format("\"{}\"", EchoInput(text));
    }
    case dom::element_type::INT64: {
      int64_t number = 0;
      if (value.get_int64().get(number) != simdjson::SUCCESS) {
        return "an integer";
      }
      return fmt::format("{}", number);
    }
    case dom::element_type::UINT64: {
      uint64_t number = 0;
      if (value.get_uint64().get(number) != simdjson::SUCCESS) {
        return "an integer";
      }
      return fmt::format("{}", number);
    }
    case dom::element_type::DOUBLE: {
      double number = 0;
      if (value.get_double().get(number) != simdjson::SUCCESS) {
        return "a number";
      }
      return fmt::format("{}", number);
    }
    case dom::element_type::BOOL: {
      bool flag = false;
      if (value.get_bool().get(flag) != simdjson::SUCCESS) {
        return "a boolean";
      }
      return flag ? "true" : "false";
    }
    case dom::element_type::NULL_VALUE: return "null";
    case dom::element_type::ARRAY: return "an array";
    case dom::element_type::OBJECT: return "an object";
  }
  return "an unknown JSON value";
}

std::string InvalidField(std::string_view key, std::string_view expected, dom::element value) {
  return fmt::format("invalid {}: expected {}, found {}", key, expected, DescribeValue(value));
}

std::optional<dom::element> FindField(dom::object object, std::string_view key) {
  dom::element value;
  if (object.at_key(key).get(value) != simdjson::SUCCESS || value.is_null()) {
    return std::nullopt;
  }
  return value;
}

bool ToText(dom::element value, std::string& out) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    return false;
  }
  out.assign(text);
  return true;
}

bool ToId(dom::element value, std::string& out) {
  if (ToText(value, out)) {
    return true;
  }
  int64_t signed_number = 0;
  if (value.get_int64().get(signed_number) == simdjson::SUCCESS) {
    out = fmt::format("{}", signed_number);
    return true;
  }
  uint64_t unsigned_number = 0;
  if (value.get_uint64().get(unsigned_number) == simdjson::SUCCESS) {
    out = fmt::format("{}", unsigned_number);
    return true;
  }
  return false;
}

bool ToInteger(dom::element value, int64_t& out) {
  int64_t number = 0;
  if (value.get_int64().get(number) == simdjson::SUCCESS) {
    out = number;
    return true;
  }
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    return false;
  }
  const char* end = text.data() + text.size();
  std::from_chars_result parsed = std::from_chars(text.data(), end, number);
  if (parsed.ec != std::errc() || parsed.ptr != end) {
    return false;
  }
  out = number;
  return true;
}

bool ToSmallInteger(dom::element value, int& out) {
  int64_t number = 0;
  if (!ToInteger(value, number) || number < INT_MIN || number > INT_MAX) {
    return false;
  }
  out = static_cast<int>(number);
  return true;
}

bool ToBoolean(dom::element value, bool& out) {
  bool flag = false;
  if (value.get_bool().get(flag) == simdjson::SUCCESS) {
    out = flag;
    return true;
  }
  int64_t number = 0;
  if (value.get_int64().get(number) == simdjson::SUCCESS) {
    if (number != 0 && number != 1) {
      return false;
    }
    out = number == 1;
    return true;
  }
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    return false;
  }
  if (text == "1" || text == "true") {
    out = true;
    return true;
  }
  if (text == "0" || text == "false") {
    out = false;
    return true;
  }
  return false;
}

std::string ReadRequiredText(dom::object object, std::string_view key, std::string& out) {
  std::optional<dom::element> value = FindField(object, key);
  if (!value.has_value()) {
    return fmt::format("missing {}", key);
  }
  if (!ToText(*value, out)) {
    return InvalidField(key, kText.expected, *value);
  }
  if (out.empty()) {
    return fmt::format("empty {}", key);
  }
  return "";
}

void ReadTags(dom::object object, std::vector<std::string>& tags,
              std::vector<std::string>& errors) {
  std::optional<dom::element> field = FindField(object, "Tag");
  if (!field.has_value()) {
    return;
  }
  dom::array entries;
  if (field->get_array().get(entries) != simdjson::SUCCESS) {
    errors.push_back(InvalidField("Tag", "an array", *field));
    return;
  }
  size_t index = 0;
  for (dom::element entry : entries) {
    dom::object tag;
    std::string name;
    std::string error;
    if (entry.get_object().get(tag) != simdjson::SUCCESS) {
      error = fmt::format("expected an object, found {}", DescribeValue(entry));
    } else {
      error = ReadRequiredText(tag, "name", name);
    }
    if (error.empty()) {
      tags.push_back(std::move(name));
    } else {
      errors.push_back(fmt::format("skipped Tag[{}]: {}", index, error));
    }
    ++index;
  }
}

}  // namespace sensor::misp::internal
