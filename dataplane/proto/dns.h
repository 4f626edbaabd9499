// DNS message parser (RFC 1035) for domain extraction: the header, the question names and
// the answer records, with the addresses of A and AAAA answers and the targets of CNAME
// answers.
//
// Called on worker lcores for UDP port 53 payloads and for DNS-over-TCP messages. It never
// allocates, locks or throws, and every read is bounded by the message. Names go into
// fixed buffers inside the caller's DnsMessage, which is about 20 KiB, so keep one per
// worker rather than one per packet on the stack.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/decode/packet.h"

namespace sensor::dp {

// Limits of RFC 1035 section 2.3.4: a label is at most 63 octets and a name, counted in
// wire format with its length octets and the final root octet, at most 255.
inline constexpr size_t kMaxDnsLabelLength = 63;
inline constexpr size_t kMaxDnsNameWireLength = 255;
// Maximum compression pointers followed while decoding one name.
inline constexpr int kMaxDnsPointerHops = 16;
inline constexpr size_t kMaxDnsQuestions = 8;
inline constexpr size_t kMaxDnsAnswers = 32;
inline constexpr size_t kDnsHeaderLength = 12;

inline constexpr uint16_t kDnsTypeA = 1;
inline constexpr uint16_t kDnsTypeCname = 5;
inline constexpr uint16_t kDnsTypeAaaa = 28;
inline constexpr uint16_t kDnsClassIn = 1;

// Result of parsing a DNS message or name. kOk is the only success. Every other value is
// a named counter (see DnsStatusName) for a malformed or truncated message.
enum class DnsStatus : uint8_t {
  kOk = 0,
  kTruncatedHeader,   // Shorter than the 12-byte header.
  kTruncatedName,     // A label or pointer runs past the end of the message.
  kReservedLabelType,  // A length octet of 0x40-0xBF: neither a label of at most 63
                       // octets nor a compression pointer. RFC 1035 section 4.1.4
                       // reserves these high-bit combinations.
  kForwardPointer,     // A compression pointer to its own offset or beyond.
  kTooManyPointers,    // More than kMaxDnsPointerHops pointers in one name.
  kNameTooLong,        // The decoded name exceeds kMaxDnsNameWireLength.
  kTruncatedQuestion,  // A question without its QTYPE and QCLASS.
  kTruncatedRecord,    // A resource record header or RDATA past the end of the message.
  kBadRecordLength,    // A or AAAA RDATA that is not 4 or 16 octets, or CNAME RDATA that
                       // is not exactly one name.
  kCount,
};

inline constexpr int kDnsStatusCount = static_cast<int>(DnsStatus::kCount);

// Stable snake_case name of a status, used as the counter name in stats and metrics.
std::string_view DnsStatusName(DnsStatus status);

// A decoded domain name: dotted, without the trailing dot, ASCII letters folded to lower
// case and every other octet copied as sent, so IDN and binary labels keep their raw
// bytes. The root name is empty.
struct DnsName {
  char text[kMaxDnsNameWireLength + 1] = {};  // NUL-terminated after `length` bytes.
  uint8_t length = 0;
  // A label contained a '.' octet, so `text` splits it into more labels than the message
  // carried.
  bool label_contains_dot = false;

  std::string_view view() const { return {text, length}; }
};

struct DnsQuestion {
  DnsName name;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
};

struct DnsAnswer {
  DnsName name;  // The owner name.
  uint16_t type = 0;
  uint16_t rclass = 0;
  uint32_t ttl = 0;
  // Set for A and AAAA records of class IN, and all zero for other records.
  IpAddress address;
  // Set for CNAME records, and empty for other records.
  DnsName target;
};

// A parsed message. Counts as sent are in the RFC 1035 header names (qdcount, ancount,
// nscount, arcount). Entries past question_count and answer_count keep stale data from an
// earlier parse.
struct DnsMessage {
  uint16_t id = 0;
  bool is_response = false;  // QR bit.
  uint8_t opcode = 0;
  bool truncated = false;  // TC bit: the server cut the message to fit a UDP datagram.
  uint8_t rcode = 0;       // The 4-bit header RCODE, without EDNS extended bits.
  uint16_t qdcount = 0;
  uint16_t ancount = 0;
  uint16_t nscount = 0;
  uint16_t arcount = 0;
  uint8_t question_count = 0;  // Questions stored in `questions`.
  uint8_t answer_count = 0;    // Answers stored in `answers`.
  // Questions and answers beyond the stored limits, which were not kept.
  uint16_t skipped_question_count = 0;
  uint16_t skipped_answer_count = 0;
  std::array<DnsQuestion, kMaxDnsQuestions> questions;
  std::array<DnsAnswer, kMaxDnsAnswers> answers;
};

// Parses a DNS message: the UDP payload, or one message framed by NextDnsTcpMessage.
// The header, the questions and the answers before a malformed part stay set in `message`
// when the status is not kOk, so a truncated response still yields its first answers.
// Authority and additional records are not read.
DnsStatus ParseDnsMessage(std::span<const std::byte> bytes, DnsMessage& message);

// Decodes the possibly compressed name at `offset` of `bytes` (RFC 1035 section 4.1.4).
// On kOk, `next_offset` is where the data after the name begins: past the root octet, or
// past the first compression pointer when the name has one.
DnsStatus ReadDnsName(std::span<const std::byte> bytes, size_t offset, DnsName& name,
                      size_t& next_offset);

enum class DnsTcpStatus : uint8_t {
  kComplete,      // `message` is the first whole message of the stream.
  kNeedMoreBytes,  // The stream must grow to `frame_length` bytes first.
};

// One message of a DNS-over-TCP stream (RFC 1035 section 4.2.2): a two-byte length in
// network order, then the message.
struct DnsTcpFrame {
  std::span<const std::byte> message;
  // Bytes of the length prefix and the message, which is also the stream offset of the
  // next message. While fewer than two bytes are present it is 2, enough to read the prefix.
  size_t frame_length = 0;
};

// Finds the first message of `stream`, which starts at a length prefix. Several messages
// may follow each other on one connection; call again at `frame_length`.
DnsTcpStatus NextDnsTcpMessage(std::span<const std::byte> stream, DnsTcpFrame& frame);

}  // namespace sensor::dp
