// Tests for the TLS ClientHello parser. Real ClientHellos come from public captures (see
// tests/data/pcap/SOURCES.md), read with libpcap and decoded by the sensor's decoder. The
// expected values are tshark 4.0's dissection of the same frames, named by field and frame
// number. Crafted ClientHellos cover lengths that lie, record framing and limits.
#include "dataplane/proto/tls_client_hello.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tests/dataplane/proto/capture_payloads.h"

namespace sensor::dp {

// GoogleTest finds this printer by argument-dependent lookup.
void PrintTo(TlsStatus status, std::ostream* out) { *out << TlsStatusName(status); }

namespace {

using testing::BytesOf;
using testing::PayloadOf;
using testing::ReadCapture;

constexpr size_t kRecordHeaderLength = 5;
constexpr size_t kHandshakeHeaderLength = 4;

std::vector<std::byte> ToBytes(const std::vector<uint8_t>& values) {
  std::vector<std::byte> bytes;
  for (uint8_t value : values) {
    bytes.push_back(static_cast<std::byte>(value));
  }
  return bytes;
}

void AppendU16(std::vector<uint8_t>& bytes, size_t value) {
  bytes.push_back(static_cast<uint8_t>(value >> 8));
  bytes.push_back(static_cast<uint8_t>(value));
}

void AppendU24(std::vector<uint8_t>& bytes, size_t value) {
  bytes.push_back(static_cast<uint8_t>(value >> 16));
  AppendU16(bytes, value & 0xFFFF);
}

struct Extension {
  uint16_t type;
  std::vector<uint8_t> data;
};

Extension ServerName(std::string_view host) {
  Extension extension{0, {}};
  AppendU16(extension.data, host.size() + 3);
  extension.data.push_back(0);  // host_name
  AppendU16(extension.data, host.size());
  extension.data.insert(extension.data.end(), host.begin(), host.end());
  return extension;
}

Extension SupportedVersions(std::initializer_list<uint16_t> versions) {
  Extension extension{43, {static_cast<uint8_t>(versions.size() * 2)}};
  for (uint16_t version : versions) {
    AppendU16(extension.data, version);
  }
  return extension;
}

// A ClientHello handshake message (header included) with one cipher suite, no session ID
// and, unless `extensions` is empty, an extension block.
std::vector<uint8_t> ClientHelloMessage(const std::vector<Extension>& extensions,
                                        uint16_t legacy_version = 0x0303) {
  std::vector<uint8_t> body;
  AppendU16(body, legacy_version);
  body.insert(body.end(), 32, 0x11);  // random
  body.push_back(0);                  // legacy_session_id
  AppendU16(body, 2);
  AppendU16(body, 0x1301);  // TLS_AES_128_GCM_SHA256
  body.push_back(1);
  body.push_back(0);  // null compression
  if (!extensions.empty()) {
    std::vector<uint8_t> block;
    for (const Extension& extension : extensions) {
      AppendU16(block, extension.type);
      AppendU16(block, extension.data.size());
      block.insert(block.end(), extension.data.begin(), extension.data.end());
    }
    AppendU16(body, block.size());
    body.insert(body.end(), block.begin(), block.end());
  }
  std::vector<uint8_t> message = {1};
  AppendU24(message, body.size());
  message.insert(message.end(), body.begin(), body.end());
  return message;
}

// Handshake records of at most `fragment_length` bytes each, carrying `message`.
std::vector<std::byte> Records(std::span<const uint8_t> message, size_t fragment_length,
                               uint16_t version = 0x0301) {
  std::vector<uint8_t> records;
  for (size_t offset = 0; offset < message.size(); offset += fragment_length) {
    const size_t length = std::min(fragment_length, message.size() - offset);
    records.push_back(22);
    AppendU16(records, version);
    AppendU16(records, length);
    records.insert(records.end(), message.begin() + static_cast<std::ptrdiff_t>(offset),
                   message.begin() + static_cast<std::ptrdiff_t>(offset + length));
  }
  return ToBytes(records);
}

std::vector<std::byte> Records(const std::vector<uint8_t>& message) {
  return Records(message, message.size());
}

// The record payloads of a run of handshake records: the bare handshake message.
std::vector<uint8_t> HandshakeBytesOf(const std::vector<std::byte>& records) {
  std::vector<uint8_t> message;
  size_t offset = 0;
  while (offset + kRecordHeaderLength <= records.size()) {
    const size_t length = static_cast<size_t>(records[offset + 3]) << 8 |
                          static_cast<size_t>(records[offset + 4]);
    for (size_t i = 0; i < length; ++i) {
      message.push_back(static_cast<uint8_t>(records[offset + kRecordHeaderLength + i]));
    }
    offset += kRecordHeaderLength + length;
  }
  return message;
}

// Offset of the first occurrence of `text` in `bytes`.
size_t FindText(const std::vector<std::byte>& bytes, std::string_view text) {
  const std::vector<std::byte> needle = BytesOf(text);
  const auto found = std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end());
  EXPECT_NE(found, bytes.end()) << text;
  return static_cast<size_t>(found - bytes.begin());
}

void AddToU16(std::vector<std::byte>& bytes, size_t offset, int delta) {
  const int value = static_cast<int>(bytes[offset]) << 8 | static_cast<int>(bytes[offset + 1]);
  bytes[offset] = static_cast<std::byte>((value + delta) >> 8);
  bytes[offset + 1] = static_cast<std::byte>(value + delta);
}

// tls12-sni-google.de.pcap frame 4: Chrome 34's ClientHello in one record.
TEST(TlsCapture, Tls12ClientHello) {
  const auto frames = ReadCapture("tls12-sni-google.de.pcap");
  const std::vector<std::byte> records = PayloadOf(frames, 4);
  ASSERT_EQ(records.size(), 209u);  // tcp.len
  ClientHelloInfo info;
  ASSERT_EQ(ParseClientHelloRecords(records, info), TlsStatus::kOk);
  EXPECT_EQ(info.record_version, 0x0301);    // tls.record.version
  EXPECT_EQ(info.legacy_version, 0x0303);    // tls.handshake.version
  EXPECT_EQ(info.handshake_length, 200u);    // tls.handshake.length
  EXPECT_EQ(info.bytes_consumed, 209u);
  EXPECT_TRUE(info.has_server_name);
  EXPECT_EQ(info.server_name_view(), "google.de");  // tls.handshake.extensions_server_name
  EXPECT_EQ(info.server_name[info.server_name_length], '\0');
  EXPECT_FALSE(info.has_supported_versions);
  EXPECT_EQ(info.MaxOfferedVersion(), kTlsVersion12);
}

// tls13-sni-googlevideo.pcap frame 4: a 1918-byte TLS 1.3 ClientHello in one record.
TEST(TlsCapture, Tls13ClientHello) {
  const auto frames = ReadCapture("tls13-sni-googlevideo.pcap");
  const std::vector<std::byte> records = PayloadOf(frames, 4);
  ASSERT_EQ(records.size(), 1918u);  // tcp.len
  ClientHelloInfo info;
  ASSERT_EQ(ParseClientHelloRecords(records, info), TlsStatus::kOk);
  EXPECT_EQ(info.record_version, 0x0301);
  EXPECT_EQ(info.legacy_version, 0x0303);
  EXPECT_EQ(info.handshake_length, 1909u);
  EXPECT_EQ(info.bytes_consumed, 1918u);
  EXPECT_EQ(info.server_name_view(), "rr4---sn-5hne6nzy.googlevideo.com");
  // tls.handshake.extensions.supported_version: 0x0304, 0x0303.
  ASSERT_TRUE(info.has_supported_versions);
  ASSERT_EQ(info.supported_version_count, 2);
  EXPECT_EQ(info.supported_versions[0], kTlsVersion13);
  EXPECT_EQ(info.supported_versions[1], kTlsVersion12);
  EXPECT_EQ(info.MaxOfferedVersion(), kTlsVersion13);
}

// malformed-tls-damaged-tail.pcap frame 4: a ClientHello without server_name (extension
// types 11, 10, 35, 13, 15). libpcap stops reading at the damaged seventh record.
TEST(TlsCapture, ClientHelloWithoutServerName) {
  const auto frames = ReadCapture("malformed-tls-damaged-tail.pcap");
  ASSERT_EQ(frames.size(), 6u);
  ClientHelloInfo info;
  ASSERT_EQ(ParseClientHelloRecords(PayloadOf(frames, 4), info), TlsStatus::kOk);
  EXPECT_EQ(info.handshake_length, 286u);
  EXPECT_EQ(info.record_version, 0x0301);
  EXPECT_EQ(info.legacy_version, 0x0303);
  EXPECT_FALSE(info.has_server_name);
  EXPECT_EQ(info.server_name_length, 0);
}

// tls13-sni-googlevideo.pcap frame 6: ServerHello and ChangeCipherSpec from the server
// (tls.handshake.type 2).
TEST(TlsCapture, ServerHelloIsNotClientHello) {
  const auto frames = ReadCapture("tls13-sni-googlevideo.pcap");
  ClientHelloInfo info;
  EXPECT_EQ(ParseClientHelloRecords(PayloadOf(frames, 6), info), TlsStatus::kNotClientHello);
}

// http-get-bro.org.pcap frame 4: a plain HTTP request.
TEST(TlsCapture, HttpRequestIsNotTls) {
  const auto frames = ReadCapture("http-get-bro.org.pcap");
  ClientHelloInfo info;
  EXPECT_EQ(ParseClientHelloRecords(PayloadOf(frames, 4), info), TlsStatus::kNotTls);
}

// The flow code appends each TCP segment and calls again. A cut anywhere must report the
// bytes still needed, and the whole ClientHello must then parse.
TEST(TlsCapture, SplitAtEveryByte) {
  for (const char* file : {"tls12-sni-google.de.pcap", "tls13-sni-googlevideo.pcap"}) {
    SCOPED_TRACE(file);
    const auto frames = ReadCapture(file);
    const std::vector<std::byte> records = PayloadOf(frames, 4);
    ClientHelloInfo info;
    for (size_t cut = 1; cut < records.size(); ++cut) {
      ASSERT_EQ(ParseClientHelloRecords(std::span(records).first(cut), info),
                TlsStatus::kNeedMoreBytes)
          << cut;
      ASSERT_GT(info.bytes_needed, cut);
      ASSERT_LE(info.bytes_needed, records.size());
      // Once the record and handshake headers are in, the need is exact.
      if (cut >= kRecordHeaderLength + kHandshakeHeaderLength) {
        ASSERT_EQ(info.bytes_needed, records.size()) << cut;
      }
    }
    ASSERT_EQ(ParseClientHelloRecords(records, info), TlsStatus::kOk);
    EXPECT_TRUE(info.has_server_name);
  }
}

// The same ClientHello spread over records of 1, 7 and 300 bytes. Feeding exactly the
// bytes the parser requests reaches the end in strictly increasing steps.
TEST(TlsCapture, ClientHelloOverManyRecords) {
  const auto frames = ReadCapture("tls13-sni-googlevideo.pcap");
  const std::vector<uint8_t> message = HandshakeBytesOf(PayloadOf(frames, 4));
  ASSERT_EQ(message.size(), 1913u);
  for (size_t fragment_length : {1u, 7u, 300u}) {
    SCOPED_TRACE(::testing::Message() << "fragment length " << fragment_length);
    const std::vector<std::byte> records = Records(message, fragment_length);
    ClientHelloInfo info;
    ASSERT_EQ(ParseClientHelloRecords(records, info), TlsStatus::kOk);
    EXPECT_EQ(info.server_name_view(), "rr4---sn-5hne6nzy.googlevideo.com");
    EXPECT_EQ(info.supported_version_count, 2);
    EXPECT_EQ(info.bytes_consumed, records.size());

    size_t available = 1;
    int calls = 0;
    TlsStatus status = TlsStatus::kNeedMoreBytes;
    while (status == TlsStatus::kNeedMoreBytes) {
      status = ParseClientHelloRecords(std::span(records).first(available), info);
      ++calls;
      if (status == TlsStatus::kNeedMoreBytes) {
        ASSERT_GT(info.bytes_needed, available);
        ASSERT_LE(info.bytes_needed, records.size());
        available = info.bytes_needed;
      }
    }
    EXPECT_EQ(status, TlsStatus::kOk);
    EXPECT_LE(calls, static_cast<int>(records.size()));
  }
}

// Data after the ClientHello, such as the next record, does not disturb the parse.
TEST(TlsCapture, BytesAfterClientHelloIgnored) {
  const auto frames = ReadCapture("tls12-sni-google.de.pcap");
  std::vector<std::byte> records = PayloadOf(frames, 4);
  const std::vector<std::byte> change_cipher_spec = ToBytes({20, 3, 3, 0, 1, 1});
  records.insert(records.end(), change_cipher_spec.begin(), change_cipher_spec.end());
  ClientHelloInfo info;
  ASSERT_EQ(ParseClientHelloRecords(records, info), TlsStatus::kOk);
  EXPECT_EQ(info.bytes_consumed, 209u);
  EXPECT_EQ(info.server_name_view(), "google.de");
}

// The record payload of tls13-sni-googlevideo.pcap frame 4, as QUIC would carry it.
TEST(TlsCapture, BareHandshakeMessage) {
  const auto frames = ReadCapture("tls13-sni-googlevideo.pcap");
  const std::vector<std::byte> message = ToBytes(HandshakeBytesOf(PayloadOf(frames, 4)));
  ClientHelloInfo info;
  ASSERT_EQ(ParseClientHelloMessage(message, info), TlsStatus::kOk);
  EXPECT_EQ(info.record_version, 0);
  EXPECT_EQ(info.bytes_consumed, 1913u);
  EXPECT_EQ(info.server_name_view(), "rr4---sn-5hne6nzy.googlevideo.com");
  for (size_t cut = 0; cut < message.size(); ++cut) {
    ASSERT_EQ(ParseClientHelloMessage(std::span(message).first(cut), info),
              TlsStatus::kNeedMoreBytes)
        << cut;
    ASSERT_EQ(info.bytes_needed, cut < kHandshakeHeaderLength ? 4u : 1913u) << cut;
  }
}

// tls12-sni-google.de.pcap frame 4 with one length of the server_name extension changed.
// The extension reads 00 00 | 00 0e | 00 0c | 00 | 00 09 | "google.de".
TEST(TlsCrafted, ServerNameLengthsThatLie) {
  const auto frames = ReadCapture("tls12-sni-google.de.pcap");
  const std::vector<std::byte> original = PayloadOf(frames, 4);
  const size_t name = FindText(original, "google.de");
  const size_t name_length = name - 2;
  const size_t list_length = name - 5;
  const size_t extension_length = name - 7;
  ASSERT_EQ(static_cast<int>(original[extension_length + 1]), 0x0e);

  struct Case {
    size_t offset;
    int delta;
    TlsStatus expected;
  };
  const Case cases[] = {
      {extension_length, +1, TlsStatus::kMalformedServerName},
      {extension_length, -1, TlsStatus::kMalformedServerName},
      {extension_length, 0xFF00, TlsStatus::kMalformedExtension},
      {list_length, +1, TlsStatus::kMalformedServerName},
      {list_length, -1, TlsStatus::kMalformedServerName},
      {name_length, +1, TlsStatus::kMalformedServerName},
      {name_length, -1, TlsStatus::kMalformedServerName},
      {name_length, -9, TlsStatus::kMalformedServerName},
  };
  for (const Case& test_case : cases) {
    SCOPED_TRACE(::testing::Message() << "offset " << test_case.offset << " delta "
                                      << test_case.delta);
    std::vector<std::byte> records = original;
    AddToU16(records, test_case.offset, test_case.delta);
    ClientHelloInfo info;
    EXPECT_EQ(ParseClientHelloRecords(records, info), test_case.expected);
    EXPECT_FALSE(info.has_server_name);
  }
}

// tls12-sni-google.de.pcap frame 4 with the handshake length one above or below the
// truth.
TEST(TlsCrafted, HandshakeLengthThatLies) {
  const auto frames = ReadCapture("tls12-sni-google.de.pcap");
  std::vector<std::byte> longer = PayloadOf(frames, 4);
  longer[8] = static_cast<std::byte>(200 + 1);  // Low byte of the 24-bit length.
  ClientHelloInfo info;
  EXPECT_EQ(ParseClientHelloRecords(longer, info), TlsStatus::kNeedMoreBytes);
  EXPECT_EQ(info.bytes_needed, 209u + kRecordHeaderLength + 1);

  std::vector<std::byte> shorter = PayloadOf(frames, 4);
  shorter[8] = static_cast<std::byte>(200 - 1);
  EXPECT_EQ(ParseClientHelloRecords(shorter, info), TlsStatus::kMalformedExtension);
}

TEST(TlsCrafted, FirstBytesDecideNotTls) {
  ClientHelloInfo info;
  EXPECT_EQ(ParseClientHelloRecords({}, info), TlsStatus::kNeedMoreBytes);
  EXPECT_EQ(info.bytes_needed, kRecordHeaderLength + kHandshakeHeaderLength);
  EXPECT_EQ(ParseClientHelloRecords(ToBytes({22}), info), TlsStatus::kNeedMoreBytes);
  EXPECT_EQ(ParseClientHelloRecords(ToBytes({23}), info), TlsStatus::kNotTls);
  EXPECT_EQ(ParseClientHelloRecords(ToBytes({22, 2}), info), TlsStatus::kNotTls);
  // An SSL 2.0 compatible ClientHello starts with the high bit of a 2-byte length.
  EXPECT_EQ(ParseClientHelloRecords(ToBytes({0x80, 0x2e, 0x01, 0x03, 0x01}), info),
            TlsStatus::kNotTls);
}

TEST(TlsCrafted, RecordLengthLimits) {
  ClientHelloInfo info;
  EXPECT_EQ(ParseClientHelloRecords(ToBytes({22, 3, 1, 0, 0}), info),
            TlsStatus::kBadRecordLength);
  // 2^14 + 1.
  EXPECT_EQ(ParseClientHelloRecords(ToBytes({22, 3, 1, 0x40, 0x01}), info),
            TlsStatus::kBadRecordLength);
  EXPECT_EQ(ParseClientHelloRecords(ToBytes({22, 3, 1, 0x40, 0x00}), info),
            TlsStatus::kNeedMoreBytes);
  EXPECT_EQ(info.bytes_needed, kRecordHeaderLength + kHandshakeHeaderLength);
}

TEST(TlsCrafted, OtherRecordInsideClientHello) {
  const std::vector<uint8_t> message = ClientHelloMessage({ServerName("example.com")});
  std::vector<std::byte> records = Records(message, 10);
  ClientHelloInfo info;
  ASSERT_EQ(ParseClientHelloRecords(records, info), TlsStatus::kOk);

  std::vector<std::byte> with_alert = records;
  with_alert[15] = std::byte{21};  // Content type of the second record: alert.
  EXPECT_EQ(ParseClientHelloRecords(with_alert, info), TlsStatus::kBadRecordHeader);

  std::vector<std::byte> with_bad_version = records;
  with_bad_version[16] = std::byte{2};  // Major version of the second record.
  EXPECT_EQ(ParseClientHelloRecords(with_bad_version, info), TlsStatus::kBadRecordHeader);
}

TEST(TlsCrafted, HandshakeLengthLimit) {
  ClientHelloInfo info;
  // msg_type 1 with a length of 16385.
  EXPECT_EQ(ParseClientHelloRecords(ToBytes({22, 3, 1, 0, 4, 1, 0, 0x40, 0x01}), info),
            TlsStatus::kClientHelloTooLong);
  EXPECT_EQ(ParseClientHelloMessage(ToBytes({1, 0, 0x40, 0x01}), info),
            TlsStatus::kClientHelloTooLong);
  EXPECT_EQ(ParseClientHelloMessage(ToBytes({1, 0, 0x40, 0x00}), info),
            TlsStatus::kNeedMoreBytes);
  EXPECT_EQ(info.bytes_needed, 4u + 16384u);
  EXPECT_EQ(ParseClientHelloMessage(ToBytes({2, 0, 0, 0}), info), TlsStatus::kNotClientHello);
}

// The handshake header split over tiny records still yields its length.
TEST(TlsCrafted, HandshakeHeaderOverOneByteRecords) {
  const std::vector<uint8_t> message = ClientHelloMessage({ServerName("example.com")});
  const std::vector<std::byte> records = Records(message, 1);
  ClientHelloInfo info;
  // Three one-byte records contain the type and two length bytes, so one is missing.
  ASSERT_EQ(ParseClientHelloRecords(std::span(records).first(18), info),
            TlsStatus::kNeedMoreBytes);
  EXPECT_EQ(info.bytes_needed, 18u + kRecordHeaderLength + 1);
  ASSERT_EQ(ParseClientHelloRecords(std::span(records).first(24), info),
            TlsStatus::kNeedMoreBytes);
  EXPECT_EQ(info.handshake_length, message.size() - kHandshakeHeaderLength);
  ASSERT_EQ(ParseClientHelloRecords(records, info), TlsStatus::kOk);
  EXPECT_EQ(info.server_name_view(), "example.com");
}

TEST(TlsCrafted, ClientHelloWithoutExtensions) {
  // TLS 1.0 and earlier clients may end the ClientHello after the compression methods.
  const std::vector<uint8_t> message = ClientHelloMessage({}, kTlsVersion10);
  ClientHelloInfo info;
  ASSERT_EQ(ParseClientHelloRecords(Records(message), info), TlsStatus::kOk);
  EXPECT_EQ(info.legacy_version, kTlsVersion10);
  EXPECT_FALSE(info.has_server_name);
  EXPECT_EQ(info.MaxOfferedVersion(), kTlsVersion10);
}

TEST(TlsCrafted, MalformedFixedFields) {
  std::vector<uint8_t> message = ClientHelloMessage({ServerName("example.com")});
  constexpr size_t kSessionIdLength = 4 + 2 + 32;
  ClientHelloInfo info;

  std::vector<uint8_t> long_session_id = message;
  long_session_id[kSessionIdLength] = 33;
  EXPECT_EQ(ParseClientHelloMessage(ToBytes(long_session_id), info),
            TlsStatus::kMalformedClientHello);

  std::vector<uint8_t> odd_cipher_suites = message;
  odd_cipher_suites[kSessionIdLength + 2] = 1;
  EXPECT_EQ(ParseClientHelloMessage(ToBytes(odd_cipher_suites), info),
            TlsStatus::kMalformedClientHello);

  std::vector<uint8_t> no_compression = message;
  no_compression[kSessionIdLength + 5] = 0;
  EXPECT_EQ(ParseClientHelloMessage(ToBytes(no_compression), info),
            TlsStatus::kMalformedClientHello);

  // A message that ends inside the random.
  std::vector<uint8_t> cut = {1, 0, 0, 10, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(ParseClientHelloMessage(ToBytes(cut), info), TlsStatus::kMalformedClientHello);
}

TEST(TlsCrafted, ExtensionBlockMustFillMessage) {
  std::vector<uint8_t> message = ClientHelloMessage({ServerName("example.com")});
  // One more byte in the body, after the extensions.
  message.push_back(0);
  message[3] = static_cast<uint8_t>(message[3] + 1);
  ClientHelloInfo info;
  EXPECT_EQ(ParseClientHelloMessage(ToBytes(message), info), TlsStatus::kMalformedExtension);
}

TEST(TlsCrafted, DuplicateExtensions) {
  ClientHelloInfo info;
  EXPECT_EQ(ParseClientHelloMessage(
                ToBytes(ClientHelloMessage({ServerName("a.example"), ServerName("b.example")})),
                info),
            TlsStatus::kMalformedExtension);
  EXPECT_EQ(info.server_name_view(), "a.example");
  EXPECT_EQ(ParseClientHelloMessage(ToBytes(ClientHelloMessage(
                                        {SupportedVersions({kTlsVersion13}),
                                         SupportedVersions({kTlsVersion13})})),
                                    info),
            TlsStatus::kMalformedExtension);
}

TEST(TlsCrafted, ServerNameListEntries) {
  ClientHelloInfo info;
  // An entry of an unassigned name type (1) with its 16-bit length, then host_name.
  Extension other_type_first{0, {}};
  AppendU16(other_type_first.data, 6 + 14);
  other_type_first.data.insert(other_type_first.data.end(), {1, 0, 3, 'a', 'b', 'c'});
  other_type_first.data.insert(other_type_first.data.end(), {0, 0, 11});
  const std::string_view host = "example.com";
  other_type_first.data.insert(other_type_first.data.end(), host.begin(), host.end());
  ASSERT_EQ(ParseClientHelloMessage(ToBytes(ClientHelloMessage({other_type_first})), info),
            TlsStatus::kOk);
  EXPECT_EQ(info.server_name_view(), "example.com");

  // Two host_name entries.
  Extension two_names{0, {}};
  AppendU16(two_names.data, 2 * 6);
  two_names.data.insert(two_names.data.end(), {0, 0, 3, 'a', 'b', 'c', 0, 0, 3, 'd', 'e', 'f'});
  EXPECT_EQ(ParseClientHelloMessage(ToBytes(ClientHelloMessage({two_names})), info),
            TlsStatus::kMalformedServerName);

  // An empty host_name, and an empty list.
  EXPECT_EQ(ParseClientHelloMessage(ToBytes(ClientHelloMessage({ServerName("")})), info),
            TlsStatus::kMalformedServerName);
  EXPECT_EQ(ParseClientHelloMessage(ToBytes(ClientHelloMessage({Extension{0, {0, 0}}})), info),
            TlsStatus::kMalformedServerName);
}

// Found by fuzz_tls_client_hello: a list whose second host_name makes it malformed left the
// first name's bytes in server_name without a terminating NUL after them.
TEST(TlsCrafted, MalformedListLeavesNoName) {
  ClientHelloInfo info;
  Extension two_names{0, {}};
  AppendU16(two_names.data, 2 * 6);
  two_names.data.insert(two_names.data.end(), {0, 0, 3, 'a', 'b', 'c', 0, 0, 3, 'd', 'e', 'f'});
  ASSERT_EQ(ParseClientHelloMessage(ToBytes(ClientHelloMessage({two_names})), info),
            TlsStatus::kMalformedServerName);
  EXPECT_FALSE(info.has_server_name);
  EXPECT_EQ(info.server_name_length, 0);
  EXPECT_STREQ(info.server_name, "");
}

TEST(TlsCrafted, ServerNameLengthLimit) {
  ClientHelloInfo info;
  const std::string longest(kMaxServerNameLength, 'a');
  ASSERT_EQ(ParseClientHelloMessage(ToBytes(ClientHelloMessage({ServerName(longest)})), info),
            TlsStatus::kOk);
  EXPECT_EQ(info.server_name_view(), longest);
  EXPECT_EQ(ParseClientHelloMessage(ToBytes(ClientHelloMessage({ServerName(longest + "a")})),
                                    info),
            TlsStatus::kServerNameTooLong);
  EXPECT_FALSE(info.has_server_name);
}

TEST(TlsCrafted, SupportedVersionsWithGrease) {
  ClientHelloInfo info;
  ASSERT_EQ(ParseClientHelloMessage(ToBytes(ClientHelloMessage({SupportedVersions(
                                        {0x7a7a, kTlsVersion13, kTlsVersion12})})),
                                    info),
            TlsStatus::kOk);
  ASSERT_EQ(info.supported_version_count, 3);
  EXPECT_EQ(info.supported_versions[0], 0x7a7a);
  EXPECT_EQ(info.MaxOfferedVersion(), kTlsVersion13);
}

TEST(TlsCrafted, MalformedSupportedVersions) {
  ClientHelloInfo info;
  Extension odd{43, {3, 0x03, 0x04, 0x03}};
  EXPECT_EQ(ParseClientHelloMessage(ToBytes(ClientHelloMessage({odd})), info),
            TlsStatus::kMalformedSupportedVersions);
  Extension empty{43, {0}};
  EXPECT_EQ(ParseClientHelloMessage(ToBytes(ClientHelloMessage({empty})), info),
            TlsStatus::kMalformedSupportedVersions);
  Extension lying{43, {4, 0x03, 0x04}};
  EXPECT_EQ(ParseClientHelloMessage(ToBytes(ClientHelloMessage({lying})), info),
            TlsStatus::kMalformedSupportedVersions);
}

TEST(TlsCrafted, LongVersionListKeepsFirstSixteen) {
  Extension many{43, {40}};
  for (uint16_t i = 0; i < 20; ++i) {
    AppendU16(many.data, 0x0300 + i);
  }
  ClientHelloInfo info;
  ASSERT_EQ(ParseClientHelloMessage(ToBytes(ClientHelloMessage({many})), info),
            TlsStatus::kOk);
  EXPECT_EQ(info.supported_version_count, kMaxOfferedVersions);
  EXPECT_EQ(info.supported_versions[15], 0x030f);
}

TEST(TlsStatus, NamesAreDistinct) {
  std::set<std::string_view> names;
  for (int i = 0; i < kTlsStatusCount; ++i) {
    const std::string_view name = TlsStatusName(static_cast<TlsStatus>(i));
    EXPECT_NE(name, "unknown") << i;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kTlsStatusCount));
}

}  // namespace
}  // namespace sensor::dp
