// QUIC version 1 client Initial decryption for server name extraction (RFC 9000,
// RFC 9001). It parses the long header, derives the client Initial keys from the
// connection's Destination Connection ID, removes header and packet protection, reassembles
// the CRYPTO stream and runs the ClientHello parser on it.
//
// Called on worker lcores, never across threads. Each worker creates one
// QuicInitialDecryptor at startup, which owns the OpenSSL contexts and a 64 KiB plaintext
// buffer, and each QUIC flow keeps a QuicInitialState (4.6 KiB) until its ClientHello is
// complete. Decrypting a packet allocates nothing. Deriving a connection's keys, once on
// its first Initial, makes OpenSSL's HKDF allocate and free small buffers: 63 per
// connection with OpenSSL 3.0.22 (Debian 12), as quic_initial_test records. No locks and
// no exceptions.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "dataplane/proto/tls_client_hello.h"

namespace sensor::dp {

inline constexpr uint32_t kQuicVersion1 = 0x00000001;
inline constexpr size_t kMaxQuicConnectionIdLength = 20;  // RFC 9000 section 17.2
// CRYPTO stream bytes kept per flow. This leaves room for a ClientHello that carries a
// 1216-byte X25519Kyber768 key share besides its usual extensions.
inline constexpr size_t kQuicCryptoBufferLength = 4096;
// Largest UDP payload: 65535 minus the 8-byte UDP header.
inline constexpr size_t kMaxQuicDatagramLength = 65527;

// Long header packet types of QUIC version 1 (RFC 9000 section 17.2).
enum class QuicPacketType : uint8_t {
  kInitial = 0,
  kZeroRtt = 1,
  kHandshake = 2,
  kRetry = 3,
};

// Result of parsing or processing a client datagram. kOk and kNeedMorePackets are
// progress, kNotQuicLongHeader, kUnsupportedVersion and kNotInitial are normal non-matches,
// and the rest are malformed, undecryptable or unsupported input. Every value is a named
// counter (see QuicStatusName).
enum class QuicStatus : uint8_t {
  kOk = 0,             // The ClientHello is complete and parsed.
  kNeedMorePackets,    // Initial packets were processed, but the ClientHello is incomplete.
  kNotQuicLongHeader,  // A short header packet, or a long header with the fixed bit clear.
  kUnsupportedVersion,  // A version other than 1, including Version Negotiation (0).
  kNotInitial,          // Only 0-RTT, Handshake or Retry packets.
  kTruncatedHeader,
  kBadConnectionIdLength,  // Longer than 20 bytes, which version 1 forbids.
  kBadPacketLength,    // The Length field runs past the datagram, or the packet is too
                       // short for the header protection sample and the AEAD tag.
  kDecryptionFailed,   // The AEAD tag did not verify, so not a client Initial of this flow.
  kBadReservedBits,    // Reserved header bits set after protection was removed.
  kMalformedFrame,
  kForbiddenFrame,     // A frame type that RFC 9000 section 17.2.2 does not allow in
                       // Initial packets.
  kClientHelloTooLarge,  // The ClientHello exceeds kQuicCryptoBufferLength.
  kClientHelloError,     // The ClientHello parser failed with QuicInitialState::tls_status.
  kCryptoLibraryError,   // OpenSSL failed, for example out of memory.
  kCount,
};

inline constexpr int kQuicStatusCount = static_cast<int>(QuicStatus::kCount);

// Stable snake_case name of a status, used as the counter name in stats and metrics.
std::string_view QuicStatusName(QuicStatus status);

// The long header fields of one packet. Offsets are from the start of the datagram.
struct QuicLongHeader {
  size_t packet_start = 0;
  uint8_t first_byte = 0;  // As received, so its low four bits are still protected.
  QuicPacketType packet_type = QuicPacketType::kInitial;
  uint32_t version = 0;
  std::span<const std::byte> destination_connection_id;
  std::span<const std::byte> source_connection_id;
  std::span<const std::byte> token;  // Initial packets only.
  uint64_t length = 0;  // The Length field: packet number plus protected payload.
  size_t packet_number_offset = 0;
  size_t packet_end = 0;  // Offset of the next coalesced packet, if any.
};

// Parses the long header of the packet at `offset` of `datagram`. For version 1 it reads
// up to the protected packet number. For other versions it reads only up to the Source
// Connection ID and returns kUnsupportedVersion with those fields set.
QuicStatus ParseQuicLongHeader(std::span<const std::byte> datagram, size_t offset,
                               QuicLongHeader& header);

// Client Initial packet protection keys (RFC 9001 section 5.1): AEAD_AES_128_GCM key and
// IV, and the AES-128 header protection key.
struct QuicInitialKeys {
  std::array<uint8_t, 16> key{};
  std::array<uint8_t, 12> iv{};
  std::array<uint8_t, 16> hp{};
};

// Per-flow keys and CRYPTO reassembly, kept between client datagrams. Value-initialise it
// for a new flow.
struct QuicInitialState {
  bool has_keys = false;
  // The Destination Connection ID the keys derive from: that of the client's first Initial
  // (RFC 9001 section 5.2), or the one that replaced it after a Retry.
  uint8_t connection_id_length = 0;
  std::array<std::byte, kMaxQuicConnectionIdLength> connection_id{};
  QuicInitialKeys keys;
  // Key derivations attempted for a new Destination Connection ID after a decryption
  // failure, bounded so that forged packets cannot make every packet derive keys.
  uint8_t rederive_count = 0;
  int64_t largest_packet_number = -1;  // -1 until a packet was decrypted.
  TlsStatus tls_status = TlsStatus::kNeedMoreBytes;  // Of the last ClientHello parse.
  size_t contiguous_length = 0;  // CRYPTO bytes received without a gap from offset 0.
  std::array<uint64_t, kQuicCryptoBufferLength / 64> received{};  // One bit per byte.
  std::array<std::byte, kQuicCryptoBufferLength> crypto{};
};

// Per-worker decryption context. It is not thread-safe, so each worker lcore has its own.
class QuicInitialDecryptor {
 public:
  // Creates the OpenSSL contexts and derives one set of keys, so that OpenSSL's lazy
  // loading of algorithms happens here at startup and not on the first packet. Returns
  // null when OpenSSL cannot provide HKDF, AES-128-ECB or AES-128-GCM.
  static std::unique_ptr<QuicInitialDecryptor> Create();

  ~QuicInitialDecryptor();
  QuicInitialDecryptor(const QuicInitialDecryptor&) = delete;
  QuicInitialDecryptor& operator=(const QuicInitialDecryptor&) = delete;

  // Derives the client Initial keys for `connection_id` (RFC 9001 section 5.2).
  bool DeriveClientKeys(std::span<const std::byte> connection_id, QuicInitialKeys& keys);

  // Processes one UDP payload sent by the client: every coalesced version 1 Initial
  // packet in it is decrypted and its CRYPTO data added to `state`. Once the CRYPTO
  // stream contains the whole ClientHello, it is parsed into `hello` and kOk is returned.
  // When a datagram fails, the CRYPTO data added before the failure stays in `state`.
  // NOTE: a flow whose first client Initial was missed usually stays undecryptable,
  // because later Initials may carry another connection ID than the one the keys use.
  QuicStatus ProcessClientDatagram(std::span<const std::byte> datagram,
                                   QuicInitialState& state, ClientHelloInfo& hello);

 private:
  QuicInitialDecryptor() = default;

  bool HkdfExtract(std::span<const uint8_t> salt, std::span<const std::byte> input_key,
                   std::span<uint8_t> secret);
  bool HkdfExpandLabel(std::span<const uint8_t> secret, std::string_view label,
                       std::span<uint8_t> output);
  QuicStatus ProcessInitial(std::span<const std::byte> datagram, const QuicLongHeader& header,
                            QuicInitialState& state);
  // Removes header protection and decrypts the packet into plaintext_. On kOk, `payload`
  // views the plaintext frames.
  QuicStatus DecryptPacket(std::span<const std::byte> datagram, const QuicLongHeader& header,
                           const QuicInitialKeys& keys, int64_t largest_packet_number,
                           std::span<const std::byte>& payload, uint64_t& packet_number);

  EVP_KDF_CTX* hkdf_ = nullptr;
  EVP_CIPHER* aes_128_ecb_ = nullptr;
  EVP_CIPHER* aes_128_gcm_ = nullptr;
  EVP_CIPHER_CTX* header_protection_ = nullptr;
  EVP_CIPHER_CTX* packet_protection_ = nullptr;
  std::array<std::byte, kMaxQuicDatagramLength> plaintext_;
};

}  // namespace sensor::dp
