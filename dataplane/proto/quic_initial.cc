#include "dataplane/proto/quic_initial.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

#include "dataplane/proto/byte_reader.h"
#include "dataplane/proto/tls_client_hello.h"

namespace sensor::dp {

namespace {

// RFC 9001 section 5.2.
constexpr std::array<uint8_t, 20> kInitialSaltV1 = {
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
};
constexpr size_t kSha256Length = 32;

constexpr uint8_t kHeaderFormLong = 0x80;
constexpr uint8_t kFixedBit = 0x40;
constexpr int kPacketTypeShift = 4;
constexpr uint8_t kPacketTypeMask = 0x03;
// Low bits of the first byte of a long header after header protection is removed
// (RFC 9000 section 17.2.2).
constexpr uint8_t kLongHeaderProtectedBits = 0x0F;
constexpr uint8_t kReservedBits = 0x0C;
constexpr uint8_t kPacketNumberLengthMask = 0x03;

// RFC 9001 section 5.4.2: the sample starts 4 bytes after the packet number field, as if
// that were 4 bytes long, and AES header protection samples 16 bytes.
constexpr size_t kSampleOffset = 4;
constexpr size_t kSampleLength = 16;
constexpr size_t kAeadTagLength = 16;
// RFC 9000 section 19.6: offset plus length of CRYPTO data stays below 2^62.
constexpr uint64_t kMaxStreamOffset = (uint64_t{1} << 62) - 1;
// Key derivations per flow for a changed Destination Connection ID. A Retry needs one.
constexpr uint8_t kMaxRederivations = 2;

// Frame types allowed in Initial packets (RFC 9000 section 17.2.2).
constexpr uint64_t kFramePadding = 0x00;
constexpr uint64_t kFramePing = 0x01;
constexpr uint64_t kFrameAck = 0x02;
constexpr uint64_t kFrameAckEcn = 0x03;
constexpr uint64_t kFrameCrypto = 0x06;
constexpr uint64_t kFrameConnectionClose = 0x1c;

const unsigned char* AsUnsigned(const std::byte* bytes) {
  return reinterpret_cast<const unsigned char*>(bytes);
}

// RFC 9000 appendix A.3: the packet number closest to the next expected one whose low
// `bits` bits equal `truncated`.
uint64_t DecodePacketNumber(int64_t largest, uint64_t truncated, int bits) {
  const uint64_t expected = static_cast<uint64_t>(largest + 1);
  const uint64_t window = uint64_t{1} << bits;
  const uint64_t half_window = window / 2;
  const uint64_t candidate = (expected & ~(window - 1)) | truncated;
  if (candidate + half_window <= expected && candidate < (uint64_t{1} << 62) - window) {
    return candidate + window;
  }
  if (candidate > expected + half_window && candidate >= window) {
    return candidate - window;
  }
  return candidate;
}

bool SameBytes(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

void StoreConnectionId(std::span<const std::byte> connection_id, QuicInitialState& state) {
  state.connection_id_length = static_cast<uint8_t>(connection_id.size());
  std::copy(connection_id.begin(), connection_id.end(), state.connection_id.begin());
}

// Copies CRYPTO data into the flow's buffer and extends the gap-free prefix. Bytes beyond
// the buffer are dropped, and the caller reports a ClientHello that needs them.
void AddCryptoData(uint64_t offset, std::span<const std::byte> data, QuicInitialState& state) {
  if (offset >= kQuicCryptoBufferLength) {
    return;
  }
  const size_t start = static_cast<size_t>(offset);
  const size_t length = std::min(data.size(), kQuicCryptoBufferLength - start);
  std::copy_n(data.begin(), length, state.crypto.begin() + static_cast<std::ptrdiff_t>(start));
  for (size_t i = start; i < start + length; ++i) {
    state.received[i / 64] |= uint64_t{1} << (i % 64);
  }
  size_t contiguous = state.contiguous_length;
  while (contiguous < kQuicCryptoBufferLength &&
         (state.received[contiguous / 64] >> (contiguous % 64) & 1) != 0) {
    ++contiguous;
  }
  state.contiguous_length = contiguous;
}

// ACK frame fields after the type (RFC 9000 section 19.3). Only skipped.
bool SkipAckFrame(ByteReader& reader, bool with_ecn_counts) {
  uint64_t value = 0;
  uint64_t range_count = 0;
  if (!reader.ReadQuicVarint(value) || !reader.ReadQuicVarint(value) ||
      !reader.ReadQuicVarint(range_count) || !reader.ReadQuicVarint(value)) {
    return false;
  }
  // Each range is two varints of at least one byte, which bounds the loop by the payload.
  if (range_count > reader.remaining() / 2) {
    return false;
  }
  for (uint64_t i = 0; i < range_count; ++i) {
    if (!reader.ReadQuicVarint(value) || !reader.ReadQuicVarint(value)) {
      return false;
    }
  }
  if (with_ecn_counts) {
    for (int i = 0; i < 3; ++i) {
      if (!reader.ReadQuicVarint(value)) {
        return false;
      }
    }
  }
  return true;
}

// CONNECTION_CLOSE frame of type 0x1c after the type (RFC 9000 section 19.19).
bool SkipConnectionCloseFrame(ByteReader& reader) {
  uint64_t value = 0;
  uint64_t reason_length = 0;
  return reader.ReadQuicVarint(value) && reader.ReadQuicVarint(value) &&
         reader.ReadQuicVarint(reason_length) && reason_length <= reader.remaining() &&
         reader.Skip(static_cast<size_t>(reason_length));
}

QuicStatus ProcessFrames(std::span<const std::byte> payload, QuicInitialState& state) {
  ByteReader reader(payload);
  while (reader.remaining() > 0) {
    uint64_t type = 0;
    if (!reader.ReadQuicVarint(type)) {
      return QuicStatus::kMalformedFrame;
    }
    switch (type) {
      case kFramePadding:
      case kFramePing:
        break;
      case kFrameAck:
      case kFrameAckEcn:
        if (!SkipAckFrame(reader, type == kFrameAckEcn)) {
          return QuicStatus::kMalformedFrame;
        }
        break;
      case kFrameCrypto: {
        uint64_t offset = 0;
        uint64_t length = 0;
        std::span<const std::byte> data;
        if (!reader.ReadQuicVarint(offset) || !reader.ReadQuicVarint(length) ||
            length > reader.remaining() || offset > kMaxStreamOffset - length ||
            !reader.ReadBytes(static_cast<size_t>(length), data)) {
          return QuicStatus::kMalformedFrame;
        }
        AddCryptoData(offset, data, state);
        break;
      }
      case kFrameConnectionClose:
        if (!SkipConnectionCloseFrame(reader)) {
          return QuicStatus::kMalformedFrame;
        }
        break;
      default:
        return QuicStatus::kForbiddenFrame;
    }
  }
  return QuicStatus::kOk;
}

// Runs the ClientHello parser on the gap-free start of the CRYPTO stream.
QuicStatus ParseBufferedClientHello(QuicInitialState& state, ClientHelloInfo& hello) {
  if (state.contiguous_length == 0) {
    return QuicStatus::kNeedMorePackets;
  }
  state.tls_status = ParseClientHelloMessage(
      std::span<const std::byte>(state.crypto.data(), state.contiguous_length), hello);
  switch (state.tls_status) {
    case TlsStatus::kOk:
      return QuicStatus::kOk;
    case TlsStatus::kNeedMoreBytes:
      return hello.bytes_needed > kQuicCryptoBufferLength ? QuicStatus::kClientHelloTooLarge
                                                          : QuicStatus::kNeedMorePackets;
    default:
      return QuicStatus::kClientHelloError;
  }
}

}  // namespace

std::string_view QuicStatusName(QuicStatus status) {
  switch (status) {
    case QuicStatus::kOk:
      return "ok";
    case QuicStatus::kNeedMorePackets:
      return "need_more_packets";
    case QuicStatus::kNotQuicLongHeader:
      return "not_quic_long_header";
    case QuicStatus::kUnsupportedVersion:
      return "unsupported_version";
    case QuicStatus::kNotInitial:
      return "not_initial";
    case QuicStatus::kTruncatedHeader:
      return "truncated_header";
    case QuicStatus::kBadConnectionIdLength:
      return "bad_connection_id_length";
    case QuicStatus::kBadPacketLength:
      return "bad_packet_length";
    case QuicStatus::kDecryptionFailed:
      return "decryption_failed";
    case QuicStatus::kBadReservedBits:
      return "bad_reserved_bits";
    case QuicStatus::kMalformedFrame:
      return "malformed_frame";
    case QuicStatus::kForbiddenFrame:
      return "forbidden_frame";
    case QuicStatus::kClientHelloTooLarge:
      return "client_hello_too_large";
    case QuicStatus::kClientHelloError:
      return "client_hello_error";
    case QuicStatus::kCryptoLibraryError:
      return "crypto_library_error";
    case QuicStatus::kCount:
      break;
  }
  return "unknown";
}

QuicStatus ParseQuicLongHeader(std::span<const std::byte> datagram, size_t offset,
                               QuicLongHeader& header) {
  header = QuicLongHeader{};
  header.packet_start = offset;
  ByteReader reader(datagram, offset);
  if (!reader.ReadU8(header.first_byte)) {
    return QuicStatus::kTruncatedHeader;
  }
  if ((header.first_byte & kHeaderFormLong) == 0) {
    return QuicStatus::kNotQuicLongHeader;
  }
  if (!reader.ReadU32(header.version)) {
    return QuicStatus::kTruncatedHeader;
  }
  // Version Negotiation packets (version 0) may clear the fixed bit, and every other
  // packet with it clear is discarded (RFC 9000 section 17.2).
  if (header.version != 0 && (header.first_byte & kFixedBit) == 0) {
    return QuicStatus::kNotQuicLongHeader;
  }
  header.packet_type = static_cast<QuicPacketType>(
      (header.first_byte >> kPacketTypeShift) & kPacketTypeMask);

  uint8_t destination_length = 0;
  uint8_t source_length = 0;
  if (!reader.ReadU8(destination_length)) {
    return QuicStatus::kTruncatedHeader;
  }
  if (header.version == kQuicVersion1 && destination_length > kMaxQuicConnectionIdLength) {
    return QuicStatus::kBadConnectionIdLength;
  }
  if (!reader.ReadBytes(destination_length, header.destination_connection_id) ||
      !reader.ReadU8(source_length)) {
    return QuicStatus::kTruncatedHeader;
  }
  if (header.version == kQuicVersion1 && source_length > kMaxQuicConnectionIdLength) {
    return QuicStatus::kBadConnectionIdLength;
  }
  if (!reader.ReadBytes(source_length, header.source_connection_id)) {
    return QuicStatus::kTruncatedHeader;
  }
  if (header.version != kQuicVersion1) {
    return QuicStatus::kUnsupportedVersion;
  }

  // A Retry packet has no Length field and ends with the datagram.
  if (header.packet_type == QuicPacketType::kRetry) {
    header.packet_number_offset = reader.offset();
    header.packet_end = datagram.size();
    return QuicStatus::kOk;
  }
  if (header.packet_type == QuicPacketType::kInitial) {
    uint64_t token_length = 0;
    if (!reader.ReadQuicVarint(token_length)) {
      return QuicStatus::kTruncatedHeader;
    }
    if (token_length > reader.remaining()) {
      return QuicStatus::kBadPacketLength;
    }
    reader.ReadBytes(static_cast<size_t>(token_length), header.token);
  }
  if (!reader.ReadQuicVarint(header.length)) {
    return QuicStatus::kTruncatedHeader;
  }
  if (header.length > reader.remaining()) {
    return QuicStatus::kBadPacketLength;
  }
  header.packet_number_offset = reader.offset();
  header.packet_end = reader.offset() + static_cast<size_t>(header.length);
  return QuicStatus::kOk;
}

std::unique_ptr<QuicInitialDecryptor> QuicInitialDecryptor::Create() {
  std::unique_ptr<QuicInitialDecryptor> decryptor(new QuicInitialDecryptor());

  EVP_KDF* hkdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (hkdf == nullptr) {
    return nullptr;
  }
  decryptor->hkdf_ = EVP_KDF_CTX_new(hkdf);
  EVP_KDF_free(hkdf);  // The context keeps its own reference.
  decryptor->aes_128_ecb_ = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
  decryptor->aes_128_gcm_ = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  decryptor->header_protection_ = EVP_CIPHER_CTX_new();
  decryptor->packet_protection_ = EVP_CIPHER_CTX_new();
  if (decryptor->hkdf_ == nullptr || decryptor->aes_128_ecb_ == nullptr ||
      decryptor->aes_128_gcm_ == nullptr || decryptor->header_protection_ == nullptr ||
      decryptor->packet_protection_ == nullptr) {
    return nullptr;
  }

  // The digest is set once, so each derivation passes only its mode, key and salt or
  // info.
  char digest_name[] = "SHA256";
  const OSSL_PARAM digest_params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end(),
  };
  // Selecting the cipher now lets each packet set only key and IV, which allocates
  // nothing in OpenSSL 3.0.
  if (EVP_KDF_CTX_set_params(decryptor->hkdf_, digest_params) != 1 ||
      EVP_EncryptInit_ex2(decryptor->header_protection_, decryptor->aes_128_ecb_, nullptr,
                          nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(decryptor->header_protection_, 0) != 1 ||
      EVP_DecryptInit_ex2(decryptor->packet_protection_, decryptor->aes_128_gcm_, nullptr,
                          nullptr, nullptr) != 1) {
    return nullptr;
  }

  const std::array<std::byte, 8> warm_up_connection_id{};
  QuicInitialKeys keys;
  if (!decryptor->DeriveClientKeys(warm_up_connection_id, keys)) {
    return nullptr;
  }
  return decryptor;
}

QuicInitialDecryptor::~QuicInitialDecryptor() {
  EVP_CIPHER_CTX_free(packet_protection_);
  EVP_CIPHER_CTX_free(header_protection_);
  EVP_CIPHER_free(aes_128_gcm_);
  EVP_CIPHER_free(aes_128_ecb_);
  EVP_KDF_CTX_free(hkdf_);
}

bool QuicInitialDecryptor::HkdfExtract(std::span<const uint8_t> salt,
                                       std::span<const std::byte> input_key,
                                       std::span<uint8_t> secret) {
  int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
  // OSSL_PARAM takes non-const pointers, but OpenSSL only reads key and salt.
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_octet_string(
          OSSL_KDF_PARAM_KEY, const_cast<std::byte*>(input_key.data()), input_key.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                        const_cast<uint8_t*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_end(),
  };
  return EVP_KDF_derive(hkdf_, secret.data(), secret.size(), params) == 1;
}

// HKDF-Expand-Label of TLS 1.3 (RFC 8446 section 7.1) with an empty context, the only form
// QUIC Initial keys use.
bool QuicInitialDecryptor::HkdfExpandLabel(std::span<const uint8_t> secret,
                                           std::string_view label,
                                           std::span<uint8_t> output) {
  constexpr std::string_view kLabelPrefix = "tls13 ";
  // HkdfLabel: uint16 length, opaque label<7..255> = "tls13 " + label, opaque context<0..255>.
  std::array<uint8_t, 2 + 1 + 255 + 1> info{};
  const size_t full_label_length = kLabelPrefix.size() + label.size();
  if (full_label_length > 255 || output.size() > 0xFFFF) {
    return false;
  }
  size_t info_length = 0;
  info[info_length++] = static_cast<uint8_t>(output.size() >> 8);
  info[info_length++] = static_cast<uint8_t>(output.size());
  info[info_length++] = static_cast<uint8_t>(full_label_length);
  for (char c : kLabelPrefix) {
    info[info_length++] = static_cast<uint8_t>(c);
  }
  for (char c : label) {
    info[info_length++] = static_cast<uint8_t>(c);
  }
  info[info_length++] = 0;  // Empty context.

  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(secret.data()),
                                        secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info_length),
      OSSL_PARAM_construct_end(),
  };
  return EVP_KDF_derive(hkdf_, output.data(), output.size(), params) == 1;
}

bool QuicInitialDecryptor::DeriveClientKeys(std::span<const std::byte> connection_id,
                                            QuicInitialKeys& keys) {
  std::array<uint8_t, kSha256Length> initial_secret{};
  std::array<uint8_t, kSha256Length> client_secret{};
  return HkdfExtract(kInitialSaltV1, connection_id, initial_secret) &&
         HkdfExpandLabel(initial_secret, "client in", client_secret) &&
         HkdfExpandLabel(client_secret, "quic key", keys.key) &&
         HkdfExpandLabel(client_secret, "quic iv", keys.iv) &&
         HkdfExpandLabel(client_secret, "quic hp", keys.hp);
}

QuicStatus QuicInitialDecryptor::DecryptPacket(std::span<const std::byte> datagram,
                                               const QuicLongHeader& header,
                                               const QuicInitialKeys& keys,
                                               int64_t largest_packet_number,
                                               std::span<const std::byte>& payload,
                                               uint64_t& packet_number) {
  const size_t pn_offset = header.packet_number_offset;
  if (header.packet_end - pn_offset < kSampleOffset + kSampleLength) {
    return QuicStatus::kBadPacketLength;
  }

  // Header protection (RFC 9001 sections 5.4.1 and 5.4.3): mask = AES-ECB(hp, sample).
  std::array<unsigned char, kSampleLength> mask{};
  int length = 0;
  if (EVP_EncryptInit_ex2(header_protection_, nullptr, keys.hp.data(), nullptr, nullptr) != 1 ||
      EVP_EncryptUpdate(header_protection_, mask.data(), &length,
                        AsUnsigned(datagram.data() + pn_offset + kSampleOffset),
                        static_cast<int>(kSampleLength)) != 1 ||
      length != static_cast<int>(kSampleLength)) {
    return QuicStatus::kCryptoLibraryError;
  }
  const auto first_byte =
      static_cast<unsigned char>(header.first_byte ^ (mask[0] & kLongHeaderProtectedBits));
  const size_t pn_length = (first_byte & kPacketNumberLengthMask) + 1u;
  std::array<unsigned char, 4> pn_bytes{};
  uint64_t truncated = 0;
  for (size_t i = 0; i < pn_length; ++i) {
    pn_bytes[i] = static_cast<unsigned char>(static_cast<uint8_t>(datagram[pn_offset + i]) ^
                                             mask[1 + i]);
    truncated = truncated << 8 | pn_bytes[i];
  }
  packet_number = DecodePacketNumber(largest_packet_number, truncated,
                                     static_cast<int>(pn_length * 8));

  // The sample check above leaves at least 16 bytes after a packet number of 4 bytes.
  const size_t payload_start = pn_offset + pn_length;
  const size_t ciphertext_length = header.packet_end - payload_start - kAeadTagLength;
  if (ciphertext_length > plaintext_.size()) {
    return QuicStatus::kBadPacketLength;
  }

  // The nonce is the IV XOR the packet number, left-padded to the IV length (RFC 9001
  // section 5.3).
  std::array<unsigned char, 12> nonce{};
  std::copy(keys.iv.begin(), keys.iv.end(), nonce.begin());
  for (size_t i = 0; i < 8; ++i) {
    nonce[nonce.size() - 1 - i] ^= static_cast<unsigned char>(packet_number >> (8 * i));
  }

  // The associated data is the header up to and including the packet number, with
  // protection removed. It is fed in three parts, so the datagram itself stays unchanged.
  const unsigned char* packet = AsUnsigned(datagram.data() + header.packet_start);
  const size_t header_middle_length = pn_offset - header.packet_start - 1;
  auto* plaintext = reinterpret_cast<unsigned char*>(plaintext_.data());
  std::array<unsigned char, kAeadTagLength> tag{};
  std::memcpy(tag.data(), datagram.data() + header.packet_end - kAeadTagLength, tag.size());
  int ignored = 0;
  if (EVP_DecryptInit_ex2(packet_protection_, nullptr, keys.key.data(), nonce.data(),
                          nullptr) != 1 ||
      EVP_DecryptUpdate(packet_protection_, nullptr, &ignored, &first_byte, 1) != 1 ||
      EVP_DecryptUpdate(packet_protection_, nullptr, &ignored, packet + 1,
                        static_cast<int>(header_middle_length)) != 1 ||
      EVP_DecryptUpdate(packet_protection_, nullptr, &ignored, pn_bytes.data(),
                        static_cast<int>(pn_length)) != 1 ||
      EVP_DecryptUpdate(packet_protection_, plaintext, &length,
                        AsUnsigned(datagram.data() + payload_start),
                        static_cast<int>(ciphertext_length)) != 1 ||
      EVP_CIPHER_CTX_ctrl(packet_protection_, EVP_CTRL_AEAD_SET_TAG,
                          static_cast<int>(tag.size()), tag.data()) != 1) {
    return QuicStatus::kCryptoLibraryError;
  }
  int final_length = 0;
  if (EVP_DecryptFinal_ex(packet_protection_, plaintext + length, &final_length) != 1) {
    return QuicStatus::kDecryptionFailed;
  }
  // Reserved bits are checked only now, because before authentication they could be noise
  // from a wrong key (RFC 9000 section 17.2).
  if ((first_byte & kReservedBits) != 0) {
    return QuicStatus::kBadReservedBits;
  }
  payload = std::span<const std::byte>(plaintext_.data(), ciphertext_length);
  return QuicStatus::kOk;
}

QuicStatus QuicInitialDecryptor::ProcessInitial(std::span<const std::byte> datagram,
                                                const QuicLongHeader& header,
                                                QuicInitialState& state) {
  const std::span<const std::byte> connection_id = header.destination_connection_id;
  if (!state.has_keys) {
    if (!DeriveClientKeys(connection_id, state.keys)) {
      return QuicStatus::kCryptoLibraryError;
    }
    StoreConnectionId(connection_id, state);
    state.has_keys = true;
  }

  std::span<const std::byte> payload;
  uint64_t packet_number = 0;
  QuicStatus status = DecryptPacket(datagram, header, state.keys, state.largest_packet_number,
                                    payload, packet_number);
  // After a Retry the client derives new keys from the connection ID the server chose
  // (RFC 9001 section 5.2). The Retry itself goes the other way, so a failure with a new
  // connection ID is retried once with keys from that ID.
  const std::span<const std::byte> stored_id(state.connection_id.data(),
                                             state.connection_id_length);
  if (status == QuicStatus::kDecryptionFailed && !SameBytes(connection_id, stored_id) &&
      state.rederive_count < kMaxRederivations) {
    ++state.rederive_count;
    QuicInitialKeys keys;
    if (!DeriveClientKeys(connection_id, keys)) {
      return QuicStatus::kCryptoLibraryError;
    }
    status = DecryptPacket(datagram, header, keys, state.largest_packet_number, payload,
                           packet_number);
    if (status == QuicStatus::kOk) {
      state.keys = keys;
      StoreConnectionId(connection_id, state);
    }
  }
  if (status != QuicStatus::kOk) {
    return status;
  }
  state.largest_packet_number =
      std::max(state.largest_packet_number, static_cast<int64_t>(packet_number));
  return ProcessFrames(payload, state);
}

QuicStatus QuicInitialDecryptor::ProcessClientDatagram(std::span<const std::byte> datagram,
                                                       QuicInitialState& state,
                                                       ClientHelloInfo& hello) {
  bool processed_initial = false;
  size_t offset = 0;
  // Coalesced packets (RFC 9000 section 12.2) follow each other until the datagram ends.
  // Anything after the last long header packet (a short header packet, or zeros some
  // clients pad with) cannot hold Initial data.
  while (offset < datagram.size()) {
    QuicLongHeader header;
    const QuicStatus header_status = ParseQuicLongHeader(datagram, offset, header);
    if (header_status != QuicStatus::kOk) {
      if (offset == 0) {
        return header_status;
      }
      break;
    }
    if (header.packet_type == QuicPacketType::kInitial) {
      const QuicStatus status = ProcessInitial(datagram, header, state);
      if (status != QuicStatus::kOk) {
        return status;
      }
      processed_initial = true;
    }
    offset = header.packet_end;
  }
  if (!processed_initial) {
    return QuicStatus::kNotInitial;
  }
  return ParseBufferedClientHello(state, hello);
}

}  // namespace sensor::dp
