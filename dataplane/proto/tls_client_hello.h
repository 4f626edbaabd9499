// TLS ClientHello parser for server name extraction. It reads the server_name extension
// (SNI, RFC 6066 section 3) and the offered protocol versions, TLS 1.0 to 1.3. The
// ClientHello comes in TLS records (TLS over TCP) or as a bare handshake message (the
// CRYPTO stream of QUIC).
//
// Called on worker lcores. It never allocates, locks or throws, and reads only inside its
// input. A ClientHello may span several records and TCP segments: until all of it is
// present the parser returns kNeedMoreBytes with the input length it needs, and the
// caller calls again with the grown buffer, still starting at the first record.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sensor::dp {

// Bound on the ClientHello body (the handshake length field), so that a flow never
// buffers more than this plus record headers. The ClientHellos in tests/data/pcap have
// bodies of 200 to 1909 bytes.
inline constexpr size_t kMaxClientHelloLength = 16384;
// A DNS host name has at most 253 characters, so 255 also fits a trailing dot.
inline constexpr size_t kMaxServerNameLength = 255;
inline constexpr size_t kMaxOfferedVersions = 16;

inline constexpr uint16_t kTlsVersion10 = 0x0301;
inline constexpr uint16_t kTlsVersion11 = 0x0302;
inline constexpr uint16_t kTlsVersion12 = 0x0303;
inline constexpr uint16_t kTlsVersion13 = 0x0304;

// Result of a parse. kOk, kNeedMoreBytes, kNotTls and kNotClientHello are normal outcomes,
// and the rest are malformed input. Every value is a named counter (see TlsStatusName).
enum class TlsStatus : uint8_t {
  kOk = 0,
  kNeedMoreBytes,     // Well-formed so far. Wait for ClientHelloInfo::bytes_needed bytes.
  kNotTls,            // The first record is not a TLS handshake record.
  kNotClientHello,    // A handshake message of another type, such as a ServerHello.
  kBadRecordLength,   // A record of length 0 or above 2^14 (RFC 8446 section 5.1).
  kBadRecordHeader,   // A later record that is not a TLS handshake record, which RFC 8446
                      // section 5.1 forbids in the middle of a handshake message.
  kClientHelloTooLong,  // The handshake length exceeds kMaxClientHelloLength.
  kMalformedClientHello,  // A fixed field or vector that runs past the message or has a
                          // length its definition forbids (RFC 8446 section 4.1.2).
  kMalformedExtension,    // Extension lengths that do not add up, or a repeated server_name
                          // or supported_versions extension (RFC 8446 section 4.2).
  kMalformedServerName,   // Inconsistent server_name lengths, an empty or a second
                          // host_name entry.
  kServerNameTooLong,     // A host_name longer than kMaxServerNameLength.
  kMalformedSupportedVersions,
  kCount,
};

inline constexpr int kTlsStatusCount = static_cast<int>(TlsStatus::kCount);

// Stable snake_case name of a status, used as the counter name in stats and metrics.
std::string_view TlsStatusName(TlsStatus status);

// Fields of a parsed ClientHello. Fields read before a malformed part stay set when the
// status is not kOk.
struct ClientHelloInfo {
  // legacy_record_version of the first record, or 0 when parsed without the record layer.
  uint16_t record_version = 0;
  // legacy_version of the ClientHello (client_version before TLS 1.3). TLS 1.3 clients
  // send 0x0303 and list their versions in supported_versions (RFC 8446 section 4.1.2).
  uint16_t legacy_version = 0;
  bool has_supported_versions = false;
  uint8_t supported_version_count = 0;  // Entries stored. A longer list keeps its first 16.
  std::array<uint16_t, kMaxOfferedVersions> supported_versions{};  // In sent order.
  bool has_server_name = false;
  uint8_t server_name_length = 0;
  // The host_name as sent (case kept, no validation), NUL-terminated.
  char server_name[kMaxServerNameLength + 1] = {};
  uint32_t handshake_length = 0;  // Body length from the handshake header.
  // On kOk: the input offset just past the last ClientHello byte.
  size_t bytes_consumed = 0;
  // On kNeedMoreBytes: the input length the next call needs at least. It is exact once the
  // handshake header has been read and the rest of the message fits in the records already
  // started. Otherwise it assumes that the rest comes in one more record.
  size_t bytes_needed = 0;

  std::string_view server_name_view() const { return {server_name, server_name_length}; }
  // The highest version offered, ignoring GREASE values (RFC 8701): from supported_versions
  // when present, else legacy_version.
  uint16_t MaxOfferedVersion() const;
};

// Parses a ClientHello from `records`, which starts at a TLS record header (content type
// 22) and may hold the message spread over several handshake records.
TlsStatus ParseClientHelloRecords(std::span<const std::byte> records, ClientHelloInfo& info);

// Parses a ClientHello given as a handshake message without record headers: type 1, a
// 24-bit length, then the body. QUIC carries the ClientHello this way.
TlsStatus ParseClientHelloMessage(std::span<const std::byte> message, ClientHelloInfo& info);

}  // namespace sensor::dp
