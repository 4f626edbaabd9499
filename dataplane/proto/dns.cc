#include "dataplane/proto/dns.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "dataplane/decode/packet.h"
#include "dataplane/proto/byte_reader.h"

namespace sensor::dp {

namespace {

// The two high bits of a length octet (RFC 1035 section 4.1.4): 00 is a label, 11 a
// pointer whose other 14 bits are an offset from the start of the message.
constexpr uint8_t kLabelTypeMask = 0xC0;
constexpr uint8_t kPointerType = 0xC0;
constexpr uint16_t kPointerOffsetMask = 0x3FFF;

// Header flag bits (RFC 1035 section 4.1.1).
constexpr uint16_t kFlagQr = 0x8000;
constexpr uint16_t kFlagTc = 0x0200;
constexpr int kOpcodeShift = 11;
constexpr uint16_t kOpcodeMask = 0x0F;
constexpr uint16_t kRcodeMask = 0x0F;

// TYPE, CLASS, TTL and RDLENGTH after a record's owner name.
constexpr size_t kRecordFixedLength = 10;
constexpr size_t kIpv4AddressLength = 4;
constexpr size_t kIpv6AddressLength = 16;

char LowerAscii(uint8_t octet) {
  if (octet >= 'A' && octet <= 'Z') {
    return static_cast<char>(octet - 'A' + 'a');
  }
  return static_cast<char>(octet);
}

void ClearName(DnsName& name) {
  name.length = 0;
  name.text[0] = '\0';
  name.label_contains_dot = false;
}

DnsStatus ParseQuestion(ByteReader& reader, DnsMessage& message) {
  DnsQuestion discarded;
  const bool keep = message.question_count < kMaxDnsQuestions;
  DnsQuestion& question = keep ? message.questions[message.question_count] : discarded;

  size_t next_offset = 0;
  const DnsStatus status = ReadDnsName(reader.data(), reader.offset(), question.name,
                                       next_offset);
  if (status != DnsStatus::kOk) {
    return status;
  }
  ByteReader fields(reader.data(), next_offset);
  if (!fields.ReadU16(question.qtype) || !fields.ReadU16(question.qclass)) {
    return DnsStatus::kTruncatedQuestion;
  }
  reader = fields;
  if (keep) {
    ++message.question_count;
  } else {
    ++message.skipped_question_count;
  }
  return DnsStatus::kOk;
}

// Reads the RDATA of a stored answer: the address of an IN A or AAAA record, or the name
// of a CNAME record, which may use compression pointers into the rest of the message.
DnsStatus ParseAnswerData(std::span<const std::byte> bytes, size_t rdata_offset,
                          size_t rdata_length, DnsAnswer& answer) {
  answer.address = IpAddress{};
  ClearName(answer.target);
  const std::span<const std::byte> rdata = bytes.subspan(rdata_offset, rdata_length);

  if (answer.type == kDnsTypeA && answer.rclass == kDnsClassIn) {
    if (rdata_length != kIpv4AddressLength) {
      return DnsStatus::kBadRecordLength;
    }
    uint32_t host_order = 0;
    ByteReader(rdata).ReadU32(host_order);
    answer.address = IpAddress::FromV4(host_order);
  } else if (answer.type == kDnsTypeAaaa && answer.rclass == kDnsClassIn) {
    if (rdata_length != kIpv6AddressLength) {
      return DnsStatus::kBadRecordLength;
    }
    std::memcpy(answer.address.bytes.data(), rdata.data(), kIpv6AddressLength);
  } else if (answer.type == kDnsTypeCname) {
    size_t name_end = 0;
    const DnsStatus status = ReadDnsName(bytes, rdata_offset, answer.target, name_end);
    if (status != DnsStatus::kOk) {
      return status;
    }
    if (name_end != rdata_offset + rdata_length) {
      return DnsStatus::kBadRecordLength;
    }
  }
  return DnsStatus::kOk;
}

// Parses one answer record into the next free slot of message.answers. The caller checks
// that a slot is free.
DnsStatus ParseAnswer(ByteReader& reader, DnsMessage& message) {
  DnsAnswer& answer = message.answers[message.answer_count];

  size_t next_offset = 0;
  const DnsStatus status = ReadDnsName(reader.data(), reader.offset(), answer.name,
                                       next_offset);
  if (status != DnsStatus::kOk) {
    return status;
  }
  ByteReader fields(reader.data(), next_offset);
  uint16_t rdata_length = 0;
  if (fields.remaining() < kRecordFixedLength) {
    return DnsStatus::kTruncatedRecord;
  }
  fields.ReadU16(answer.type);
  fields.ReadU16(answer.rclass);
  fields.ReadU32(answer.ttl);
  fields.ReadU16(rdata_length);
  const size_t rdata_offset = fields.offset();
  if (!fields.Skip(rdata_length)) {
    return DnsStatus::kTruncatedRecord;
  }
  const DnsStatus data_status = ParseAnswerData(reader.data(), rdata_offset, rdata_length,
                                                answer);
  if (data_status != DnsStatus::kOk) {
    return data_status;
  }
  reader = fields;
  ++message.answer_count;
  return DnsStatus::kOk;
}

}  // namespace

std::string_view DnsStatusName(DnsStatus status) {
  switch (status) {
    case DnsStatus::kOk:
      return "ok";
    case DnsStatus::kTruncatedHeader:
      return "truncated_header";
    case DnsStatus::kTruncatedName:
      return "truncated_name";
    case DnsStatus::kReservedLabelType:
      return "reserved_label_type";
    case DnsStatus::kForwardPointer:
      return "forward_pointer";
    case DnsStatus::kTooManyPointers:
      return "too_many_pointers";
    case DnsStatus::kNameTooLong:
      return "name_too_long";
    case DnsStatus::kTruncatedQuestion:
      return "truncated_question";
    case DnsStatus::kTruncatedRecord:
      return "truncated_record";
    case DnsStatus::kBadRecordLength:
      return "bad_record_length";
    case DnsStatus::kCount:
      break;
  }
  return "unknown";
}

DnsStatus ReadDnsName(std::span<const std::byte> bytes, size_t offset, DnsName& name,
                      size_t& next_offset) {
  ClearName(name);
  size_t position = offset;
  size_t end_of_name = 0;  // Set once the first pointer has been followed.
  bool followed_pointer = false;
  int pointer_hops = 0;
  // Octets of the uncompressed wire name so far, length octets included, root excluded.
  size_t wire_length = 0;
  size_t text_length = 0;

  while (true) {
    if (position >= bytes.size()) {
      return DnsStatus::kTruncatedName;
    }
    const auto length_octet = static_cast<uint8_t>(bytes[position]);

    if ((length_octet & kLabelTypeMask) == kPointerType) {
      if (bytes.size() - position < 2) {
        return DnsStatus::kTruncatedName;
      }
      const size_t target =
          ((static_cast<size_t>(length_octet) << 8) | static_cast<uint8_t>(bytes[position + 1])) &
          kPointerOffsetMask;
      // Only strictly backward pointers are followed, at most kMaxDnsPointerHops of them.
      // A pointer to itself fails here at once, and a loop through labels that lead back
      // to an earlier pointer ends at the hop limit or the length limit.
      if (target >= position) {
        return DnsStatus::kForwardPointer;
      }
      if (++pointer_hops > kMaxDnsPointerHops) {
        return DnsStatus::kTooManyPointers;
      }
      if (!followed_pointer) {
        end_of_name = position + 2;
        followed_pointer = true;
      }
      position = target;
      continue;
    }
    if ((length_octet & kLabelTypeMask) != 0) {
      return DnsStatus::kReservedLabelType;
    }
    if (length_octet == 0) {
      next_offset = followed_pointer ? end_of_name : position + 1;
      break;
    }

    const size_t label_length = length_octet;
    if (bytes.size() - position - 1 < label_length) {
      return DnsStatus::kTruncatedName;
    }
    // The length octet, the label and the root octet still to come must fit.
    if (wire_length + 1 + label_length + 1 > kMaxDnsNameWireLength) {
      return DnsStatus::kNameTooLong;
    }
    // A wire name of at most 255 octets has a dotted form of at most 253 characters, so
    // the text buffer cannot overflow here.
    if (text_length > 0) {
      name.text[text_length++] = '.';
    }
    for (size_t i = 0; i < label_length; ++i) {
      const auto octet = static_cast<uint8_t>(bytes[position + 1 + i]);
      if (octet == '.') {
        name.label_contains_dot = true;
      }
      name.text[text_length++] = LowerAscii(octet);
    }
    wire_length += 1 + label_length;
    position += 1 + label_length;
  }

  name.text[text_length] = '\0';
  name.length = static_cast<uint8_t>(text_length);
  return DnsStatus::kOk;
}

DnsStatus ParseDnsMessage(std::span<const std::byte> bytes, DnsMessage& message) {
  message.question_count = 0;
  message.answer_count = 0;
  message.skipped_question_count = 0;
  message.skipped_answer_count = 0;

  ByteReader reader(bytes);
  uint16_t flags = 0;
  if (bytes.size() < kDnsHeaderLength) {
    message.qdcount = message.ancount = message.nscount = message.arcount = 0;
    return DnsStatus::kTruncatedHeader;
  }
  reader.ReadU16(message.id);
  reader.ReadU16(flags);
  reader.ReadU16(message.qdcount);
  reader.ReadU16(message.ancount);
  reader.ReadU16(message.nscount);
  reader.ReadU16(message.arcount);
  message.is_response = (flags & kFlagQr) != 0;
  message.opcode = static_cast<uint8_t>((flags >> kOpcodeShift) & kOpcodeMask);
  message.truncated = (flags & kFlagTc) != 0;
  message.rcode = static_cast<uint8_t>(flags & kRcodeMask);

  // Every question is read, stored or not, because the answers follow the last one. Each
  // takes at least five octets, so a huge QDCOUNT ends at the end of the message.
  for (uint32_t i = 0; i < message.qdcount; ++i) {
    const DnsStatus status = ParseQuestion(reader, message);
    if (status != DnsStatus::kOk) {
      return status;
    }
  }

  const size_t stored = std::min<size_t>(message.ancount, kMaxDnsAnswers);
  for (size_t i = 0; i < stored; ++i) {
    const DnsStatus status = ParseAnswer(reader, message);
    if (status != DnsStatus::kOk) {
      return status;
    }
  }
  message.skipped_answer_count = static_cast<uint16_t>(message.ancount - stored);
  return DnsStatus::kOk;
}

DnsTcpStatus NextDnsTcpMessage(std::span<const std::byte> stream, DnsTcpFrame& frame) {
  frame.message = {};
  ByteReader reader(stream);
  uint16_t message_length = 0;
  if (!reader.ReadU16(message_length)) {
    frame.frame_length = 2;
    return DnsTcpStatus::kNeedMoreBytes;
  }
  frame.frame_length = 2 + static_cast<size_t>(message_length);
  if (!reader.ReadBytes(message_length, frame.message)) {
    return DnsTcpStatus::kNeedMoreBytes;
  }
  return DnsTcpStatus::kComplete;
}

}  // namespace sensor::dp
