#include "dataplane/proto/tls_client_hello.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "dataplane/proto/byte_reader.h"

namespace sensor::dp {

namespace {

constexpr uint8_t kContentTypeHandshake = 22;
constexpr uint8_t kHandshakeTypeClientHello = 1;
constexpr size_t kRecordHeaderLength = 5;  // type, legacy_record_version, length
constexpr size_t kHandshakeHeaderLength = 4;  // msg_type, 24-bit length
constexpr size_t kMaxRecordLength = 16384;  // 2^14, RFC 8446 section 5.1
constexpr size_t kRandomLength = 32;
constexpr size_t kMaxSessionIdLength = 32;
constexpr uint16_t kExtensionServerName = 0;
constexpr uint16_t kExtensionSupportedVersions = 43;
constexpr uint8_t kNameTypeHostName = 0;

// Reads the bytes of one handshake message, which may be split over TLS records. The
// record headers were checked by ScanRecords before, so this only steps over them.
class HandshakeReader {
 public:
  // With `in_records`, the message is the concatenated fragments of the records that start
  // at offset 0 of `input`. Without, the message itself starts there.
  HandshakeReader(std::span<const std::byte> input, bool in_records, size_t message_length)
      : input_(input),
        in_records_(in_records),
        fragment_remaining_(in_records ? 0 : message_length),
        message_length_(message_length) {}

  size_t position() const { return position_; }
  size_t remaining() const { return message_length_ - position_; }

  bool ReadU8(uint8_t& value) {
    std::array<uint8_t, 1> bytes{};
    if (!Take(bytes.size(), bytes.data())) {
      return false;
    }
    value = bytes[0];
    return true;
  }

  bool ReadU16(uint16_t& value) {
    std::array<uint8_t, 2> bytes{};
    if (!Take(bytes.size(), bytes.data())) {
      return false;
    }
    value = static_cast<uint16_t>(bytes[0] << 8 | bytes[1]);
    return true;
  }

  bool Skip(size_t length) { return Take(length, nullptr); }

  bool Copy(size_t length, char* out) {
    return Take(length, reinterpret_cast<uint8_t*>(out));
  }

 private:
  // Moves `length` message bytes forward, copying them to `out` unless it is null.
  bool Take(size_t length, uint8_t* out) {
    if (length > remaining()) {
      return false;
    }
    while (length > 0) {
      if (fragment_remaining_ == 0 && !NextRecord()) {
        return false;
      }
      const size_t chunk = std::min({length, fragment_remaining_, input_.size() - input_offset_});
      if (chunk == 0) {
        return false;
      }
      if (out != nullptr) {
        std::memcpy(out, input_.data() + input_offset_, chunk);
        out += chunk;
      }
      input_offset_ += chunk;
      fragment_remaining_ -= chunk;
      position_ += chunk;
      length -= chunk;
    }
    return true;
  }

  bool NextRecord() {
    ByteReader header(input_, input_offset_);
    uint16_t fragment_length = 0;
    if (!in_records_ || !header.Skip(3) || !header.ReadU16(fragment_length)) {
      return false;
    }
    input_offset_ = header.offset();
    fragment_remaining_ = fragment_length;
    return true;
  }

  std::span<const std::byte> input_;
  bool in_records_;
  size_t input_offset_ = 0;
  size_t fragment_remaining_;
  size_t position_ = 0;
  size_t message_length_;
};

// The minimum input length that can complete `missing` more message bytes when the current
// record ends at `record_end` and the input stops at `available_end` inside it.
size_t NeededLength(size_t available_end, size_t record_end, size_t missing) {
  const size_t still_in_record = record_end - available_end;
  if (missing <= still_in_record) {
    return available_end + missing;
  }
  return record_end + kRecordHeaderLength + (missing - still_in_record);
}

// Walks the records from the start of `input` until they hold the whole ClientHello, and
// checks each record header and the handshake header on the way. On kOk, `message_length`
// is the handshake header plus body.
TlsStatus ScanRecords(std::span<const std::byte> input, ClientHelloInfo& info,
                      size_t& message_length) {
  // The first two bytes decide "not TLS" before a whole record header has arrived.
  if (!input.empty() && static_cast<uint8_t>(input[0]) != kContentTypeHandshake) {
    return TlsStatus::kNotTls;
  }
  if (input.size() > 1 && static_cast<uint8_t>(input[1]) != 3) {
    return TlsStatus::kNotTls;
  }

  std::array<uint8_t, kHandshakeHeaderLength> handshake_header{};
  size_t collected = 0;  // Message bytes seen, the handshake header included.
  size_t total = 0;      // Message length, once the handshake header is known.
  size_t offset = 0;     // Start of the current record.
  while (true) {
    ByteReader reader(input, offset);
    if (reader.remaining() < kRecordHeaderLength) {
      const size_t missing = (total != 0 ? total : kHandshakeHeaderLength) - collected;
      info.bytes_needed = offset + kRecordHeaderLength + missing;
      return TlsStatus::kNeedMoreBytes;
    }
    uint8_t content_type = 0;
    uint16_t version = 0;
    uint16_t length = 0;
    reader.ReadU8(content_type);
    reader.ReadU16(version);
    reader.ReadU16(length);
    // Any 3.x version is accepted, because RFC 8446 section 5.1 lets a ClientHello record
    // carry 0x0301 or 0x0303, and SSL 3.0 clients send 0x0300.
    if (content_type != kContentTypeHandshake || version >> 8 != 3) {
      return offset == 0 ? TlsStatus::kNotTls : TlsStatus::kBadRecordHeader;
    }
    if (offset == 0) {
      info.record_version = version;
    }
    if (length == 0 || length > kMaxRecordLength) {
      return TlsStatus::kBadRecordLength;
    }

    const size_t record_end = reader.offset() + length;
    const size_t available_end = std::min(input.size(), record_end);
    size_t position = reader.offset();
    while (total == 0 && position < available_end) {
      handshake_header[collected++] = static_cast<uint8_t>(input[position++]);
      if (collected == kHandshakeHeaderLength) {
        if (handshake_header[0] != kHandshakeTypeClientHello) {
          return TlsStatus::kNotClientHello;
        }
        info.handshake_length = static_cast<uint32_t>(
            handshake_header[1] << 16 | handshake_header[2] << 8 | handshake_header[3]);
        if (info.handshake_length > kMaxClientHelloLength) {
          return TlsStatus::kClientHelloTooLong;
        }
        total = kHandshakeHeaderLength + info.handshake_length;
      }
    }
    if (total != 0) {
      const size_t wanted = total - collected;
      if (available_end - position >= wanted) {
        info.bytes_consumed = position + wanted;
        message_length = total;
        return TlsStatus::kOk;
      }
      collected += available_end - position;
    }
    if (available_end < record_end) {
      const size_t still_missing = (total != 0 ? total : kHandshakeHeaderLength) - collected;
      info.bytes_needed = NeededLength(available_end, record_end, still_missing);
      return TlsStatus::kNeedMoreBytes;
    }
    offset = record_end;
  }
}

// Checks the handshake header of a bare message. On kOk, `message_length` is the header
// plus body.
TlsStatus ScanMessage(std::span<const std::byte> input, ClientHelloInfo& info,
                      size_t& message_length) {
  if (!input.empty() && static_cast<uint8_t>(input[0]) != kHandshakeTypeClientHello) {
    return TlsStatus::kNotClientHello;
  }
  ByteReader reader(input);
  uint32_t length = 0;
  if (!reader.Skip(1) || !reader.ReadU24(length)) {
    info.bytes_needed = kHandshakeHeaderLength;
    return TlsStatus::kNeedMoreBytes;
  }
  info.handshake_length = length;
  if (length > kMaxClientHelloLength) {
    return TlsStatus::kClientHelloTooLong;
  }
  if (reader.remaining() < length) {
    info.bytes_needed = kHandshakeHeaderLength + length;
    return TlsStatus::kNeedMoreBytes;
  }
  message_length = kHandshakeHeaderLength + length;
  info.bytes_consumed = message_length;
  return TlsStatus::kOk;
}

// server_name extension data (RFC 6066 section 3): a ServerNameList of entries, each a
// name_type byte and a 16-bit length, which the RFC requires of future name types too.
TlsStatus ParseServerName(HandshakeReader& reader, size_t extension_length,
                          ClientHelloInfo& info) {
  uint16_t list_length = 0;
  if (extension_length < 2 || !reader.ReadU16(list_length) || list_length == 0 ||
      list_length != extension_length - 2) {
    return TlsStatus::kMalformedServerName;
  }
  // The name is published only once the whole list is valid, so that `info` contains no
  // part of a name from a list that turns out malformed.
  char name[kMaxServerNameLength];
  bool found = false;
  uint16_t found_length = 0;
  const size_t list_end = reader.position() + list_length;
  while (reader.position() < list_end) {
    uint8_t name_type = 0;
    uint16_t name_length = 0;
    if (list_end - reader.position() < 3 || !reader.ReadU8(name_type) ||
        !reader.ReadU16(name_length) || name_length > list_end - reader.position()) {
      return TlsStatus::kMalformedServerName;
    }
    if (name_type != kNameTypeHostName) {
      reader.Skip(name_length);
      continue;
    }
    // HostName is opaque<1..2^16-1>, and "The ServerNameList MUST NOT contain more than
    // one name of the same name_type".
    if (name_length == 0 || found) {
      return TlsStatus::kMalformedServerName;
    }
    if (name_length > kMaxServerNameLength) {
      return TlsStatus::kServerNameTooLong;
    }
    reader.Copy(name_length, name);
    found = true;
    found_length = name_length;
  }
  if (found) {
    std::memcpy(info.server_name, name, found_length);
    info.server_name[found_length] = '\0';
    info.server_name_length = static_cast<uint8_t>(found_length);
    info.has_server_name = true;
  }
  return TlsStatus::kOk;
}

// supported_versions extension data of a ClientHello (RFC 8446 section 4.2.1):
// ProtocolVersion versions<2..254>.
TlsStatus ParseSupportedVersions(HandshakeReader& reader, size_t extension_length,
                                 ClientHelloInfo& info) {
  uint8_t list_length = 0;
  if (extension_length < 1 || !reader.ReadU8(list_length) || list_length < 2 ||
      list_length % 2 != 0 || list_length != extension_length - 1) {
    return TlsStatus::kMalformedSupportedVersions;
  }
  info.has_supported_versions = true;
  for (size_t i = 0; i < list_length / 2; ++i) {
    uint16_t version = 0;
    reader.ReadU16(version);
    if (info.supported_version_count < kMaxOfferedVersions) {
      info.supported_versions[info.supported_version_count++] = version;
    }
  }
  return TlsStatus::kOk;
}

TlsStatus ParseExtensions(HandshakeReader& reader, ClientHelloInfo& info) {
  uint16_t extensions_length = 0;
  // Extensions fill the rest of the message, and nothing may follow them.
  if (!reader.ReadU16(extensions_length) || extensions_length != reader.remaining()) {
    return TlsStatus::kMalformedExtension;
  }
  bool seen_server_name = false;
  bool seen_supported_versions = false;
  while (reader.remaining() > 0) {
    uint16_t type = 0;
    uint16_t length = 0;
    if (!reader.ReadU16(type) || !reader.ReadU16(length) || length > reader.remaining()) {
      return TlsStatus::kMalformedExtension;
    }
    const size_t extension_end = reader.position() + length;
    TlsStatus status = TlsStatus::kOk;
    if (type == kExtensionServerName) {
      if (seen_server_name) {
        return TlsStatus::kMalformedExtension;
      }
      seen_server_name = true;
      status = ParseServerName(reader, length, info);
    } else if (type == kExtensionSupportedVersions) {
      if (seen_supported_versions) {
        return TlsStatus::kMalformedExtension;
      }
      seen_supported_versions = true;
      status = ParseSupportedVersions(reader, length, info);
    } else {
      reader.Skip(length);
    }
    if (status != TlsStatus::kOk) {
      return status;
    }
    if (reader.position() != extension_end) {
      return TlsStatus::kMalformedExtension;
    }
  }
  return TlsStatus::kOk;
}

// Parses the ClientHello body (RFC 8446 section 4.1.2). Extensions are optional in TLS 1.2
// and earlier (RFC 5246), so the body may end after the compression methods.
TlsStatus ParseBody(HandshakeReader& reader, ClientHelloInfo& info) {
  uint8_t session_id_length = 0;
  uint16_t cipher_suites_length = 0;
  uint8_t compression_methods_length = 0;
  if (!reader.Skip(kHandshakeHeaderLength) || !reader.ReadU16(info.legacy_version) ||
      !reader.Skip(kRandomLength) || !reader.ReadU8(session_id_length) ||
      session_id_length > kMaxSessionIdLength || !reader.Skip(session_id_length) ||
      !reader.ReadU16(cipher_suites_length) || cipher_suites_length < 2 ||
      cipher_suites_length % 2 != 0 || !reader.Skip(cipher_suites_length) ||
      !reader.ReadU8(compression_methods_length) || compression_methods_length == 0 ||
      !reader.Skip(compression_methods_length)) {
    return TlsStatus::kMalformedClientHello;
  }
  if (reader.remaining() == 0) {
    return TlsStatus::kOk;
  }
  return ParseExtensions(reader, info);
}

}  // namespace

std::string_view TlsStatusName(TlsStatus status) {
  switch (status) {
    case TlsStatus::kOk:
      return "ok";
    case TlsStatus::kNeedMoreBytes:
      return "need_more_bytes";
    case TlsStatus::kNotTls:
      return "not_tls";
    case TlsStatus::kNotClientHello:
      return "not_client_hello";
    case TlsStatus::kBadRecordLength:
      return "bad_record_length";
    case TlsStatus::kBadRecordHeader:
      return "bad_record_header";
    case TlsStatus::kClientHelloTooLong:
      return "client_hello_too_long";
    case TlsStatus::kMalformedClientHello:
      return "malformed_client_hello";
    case TlsStatus::kMalformedExtension:
      return "malformed_extension";
    case TlsStatus::kMalformedServerName:
      return "malformed_server_name";
    case TlsStatus::kServerNameTooLong:
      return "server_name_too_long";
    case TlsStatus::kMalformedSupportedVersions:
      return "malformed_supported_versions";
    case TlsStatus::kCount:
      break;
  }
  return "unknown";
}

uint16_t ClientHelloInfo::MaxOfferedVersion() const {
  if (!has_supported_versions) {
    return legacy_version;
  }
  uint16_t highest = 0;
  for (size_t i = 0; i < supported_version_count; ++i) {
    const uint16_t version = supported_versions[i];
    // GREASE values (RFC 8701) have the form 0x?A?A with equal bytes.
    const bool grease = (version & 0x0F0F) == 0x0A0A && (version >> 8) == (version & 0xFF);
    if (!grease) {
      highest = std::max(highest, version);
    }
  }
  return highest;
}

TlsStatus ParseClientHelloRecords(std::span<const std::byte> records, ClientHelloInfo& info) {
  info = ClientHelloInfo{};
  size_t message_length = 0;
  const TlsStatus status = ScanRecords(records, info, message_length);
  if (status != TlsStatus::kOk) {
    return status;
  }
  HandshakeReader reader(records, /*in_records=*/true, message_length);
  return ParseBody(reader, info);
}

TlsStatus ParseClientHelloMessage(std::span<const std::byte> message, ClientHelloInfo& info) {
  info = ClientHelloInfo{};
  size_t message_length = 0;
  const TlsStatus status = ScanMessage(message, info, message_length);
  if (status != TlsStatus::kOk) {
    return status;
  }
  HandshakeReader reader(message, /*in_records=*/false, message_length);
  return ParseBody(reader, info);
}

}  // namespace sensor::dp
