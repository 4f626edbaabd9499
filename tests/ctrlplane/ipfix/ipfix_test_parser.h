// A minimal IPFIX message reader for the tests, written from RFC 7011 independently of the
// encoder: it walks the header and sets by their length fields, reads Template Records,
// and splits Data Records by the templates it has seen.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sensor::ctl::testing {

inline uint64_t ReadBig(std::span<const uint8_t> bytes) {
  uint64_t value = 0;
  for (uint8_t byte : bytes) value = value << 8 | byte;
  return value;
}

struct ParsedField {
  uint16_t id = 0;
  uint16_t length = 0;
  uint32_t enterprise = 0;
};

struct ParsedSet {
  uint16_t id = 0;
  uint16_t length = 0;  // From the set header, header included.
  std::vector<uint8_t> body;
};

// One Data Record, by (enterprise, element id); values are the raw big-endian bytes.
using ParsedRecord = std::map<std::pair<uint32_t, uint16_t>, std::vector<uint8_t>>;

struct ParsedMessage {
  uint16_t version = 0;
  uint16_t length = 0;
  uint32_t export_time = 0;
  uint32_t sequence = 0;
  uint32_t domain = 0;
  std::vector<ParsedSet> sets;
  std::vector<ParsedRecord> records;
  std::vector<uint16_t> record_templates;  // Template id of each record.
  int template_records = 0;
  std::string error;  // Empty when the message is well formed.
};

// Keeps the templates of one transport session across messages.
class IpfixReader {
 public:
  ParsedMessage Read(std::span<const uint8_t> bytes) {
    ParsedMessage message;
    if (bytes.size() < 16) {
      message.error = "shorter than a message header";
      return message;
    }
    message.version = static_cast<uint16_t>(ReadBig(bytes.subspan(0, 2)));
    message.length = static_cast<uint16_t>(ReadBig(bytes.subspan(2, 2)));
    message.export_time = static_cast<uint32_t>(ReadBig(bytes.subspan(4, 4)));
    message.sequence = static_cast<uint32_t>(ReadBig(bytes.subspan(8, 4)));
    message.domain = static_cast<uint32_t>(ReadBig(bytes.subspan(12, 4)));
    if (message.length != bytes.size()) {
      message.error = "header length differs from the message size";
      return message;
    }
    size_t offset = 16;
    while (offset < bytes.size()) {
      if (bytes.size() - offset < 4) {
        message.error = "set header cut";
        return message;
      }
      ParsedSet set;
      set.id = static_cast<uint16_t>(ReadBig(bytes.subspan(offset, 2)));
      set.length = static_cast<uint16_t>(ReadBig(bytes.subspan(offset + 2, 2)));
      if (set.length < 4 || offset + set.length > bytes.size()) {
        message.error = "set length out of bounds";
        return message;
      }
      set.body.assign(bytes.begin() + offset + 4, bytes.begin() + offset + set.length);
      offset += set.length;
      if (set.id == 2) {
        if (!ReadTemplates(set.body, message)) return message;
      } else if (set.id >= 256) {
        if (!ReadData(set.id, set.body, message)) return message;
      }
      message.sets.push_back(std::move(set));
    }
    return message;
  }

  const std::map<uint16_t, std::vector<ParsedField>>& templates() const { return templates_; }

 private:
  bool ReadTemplates(const std::vector<uint8_t>& body, ParsedMessage& message) {
    std::span<const uint8_t> rest(body);
    while (rest.size() >= 4) {
      const auto id = static_cast<uint16_t>(ReadBig(rest.subspan(0, 2)));
      const auto count = static_cast<uint16_t>(ReadBig(rest.subspan(2, 2)));
      rest = rest.subspan(4);
      std::vector<ParsedField> fields;
      for (int i = 0; i < count; ++i) {
        if (rest.size() < 4) {
          message.error = "template record cut";
          return false;
        }
        ParsedField field;
        const auto raw_id = static_cast<uint16_t>(ReadBig(rest.subspan(0, 2)));
        field.id = raw_id & 0x7fff;
        field.length = static_cast<uint16_t>(ReadBig(rest.subspan(2, 2)));
        rest = rest.subspan(4);
        if (raw_id & 0x8000) {
          if (rest.size() < 4) {
            message.error = "enterprise number cut";
            return false;
          }
          field.enterprise = static_cast<uint32_t>(ReadBig(rest.subspan(0, 4)));
          rest = rest.subspan(4);
        }
        fields.push_back(field);
      }
      templates_[id] = fields;
      ++message.template_records;
    }
    if (!rest.empty()) {
      message.error = "bytes left after the template records";
      return false;
    }
    return true;
  }

  bool ReadData(uint16_t set_id, const std::vector<uint8_t>& body, ParsedMessage& message) {
    auto found = templates_.find(set_id);
    if (found == templates_.end()) {
      message.error = "data set before its template";
      return false;
    }
    size_t record_length = 0;
    for (const ParsedField& field : found->second) record_length += field.length;
    std::span<const uint8_t> rest(body);
    while (rest.size() >= record_length) {
      ParsedRecord record;
      size_t offset = 0;
      for (const ParsedField& field : found->second) {
        auto value = rest.subspan(offset, field.length);
        record[{field.enterprise, field.id}] = std::vector<uint8_t>(value.begin(), value.end());
        offset += field.length;
      }
      message.records.push_back(std::move(record));
      message.record_templates.push_back(set_id);
      rest = rest.subspan(record_length);
    }
    // RFC 7011 section 3.3.1: padding is shorter than a record and all zeros.
    for (uint8_t byte : rest) {
      if (byte != 0) {
        message.error = "non-zero padding";
        return false;
      }
    }
    return true;
  }

  std::map<uint16_t, std::vector<ParsedField>> templates_;
};

inline uint64_t Value(const ParsedRecord& record, uint16_t id, uint32_t enterprise = 0) {
  auto found = record.find({enterprise, id});
  return found == record.end() ? ~uint64_t{0} : ReadBig(found->second);
}

}  // namespace sensor::ctl::testing
