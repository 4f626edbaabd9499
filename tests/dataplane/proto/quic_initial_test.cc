// Tests for QUIC version 1 Initial decryption. The key derivation is checked against the
// literal values of RFC 9001 appendix A.1. Decryption is checked against the protected
// packets of appendices A.2 and A.3 and against a public capture (see
// tests/data/pcap/SOURCES.md), whose expected values are tshark 4.0's dissection, named by
// field and frame number. Crafted Initials are protected by a small encryptor in this
// file, which is itself checked by reproducing the packet of appendix A.2 byte for byte.
#include "dataplane/proto/quic_initial.h"

#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <set>
#include <span>
#include <string_view>
#include <vector>

#include "dataplane/proto/tls_client_hello.h"
#include "tests/dataplane/proto/capture_payloads.h"

namespace sensor::dp {

// GoogleTest finds these printers by argument-dependent lookup.
void PrintTo(QuicStatus status, std::ostream* out) { *out << QuicStatusName(status); }
void PrintTo(TlsStatus status, std::ostream* out) { *out << TlsStatusName(status); }

namespace {

using testing::BytesFromHex;
using testing::PayloadOf;
using testing::ReadCapture;

// OpenSSL allocations in this process, counted through CRYPTO_set_mem_functions. OpenSSL
// accepts the functions only before its first allocation, so they are installed during
// static initialisation.
std::atomic<long> openssl_allocations{0};

void* CountingMalloc(size_t size, const char* /*file*/, int /*line*/) {
  ++openssl_allocations;
  return std::malloc(size);
}

void* CountingRealloc(void* pointer, size_t size, const char* /*file*/, int /*line*/) {
  ++openssl_allocations;
  return std::realloc(pointer, size);
}

void CountingFree(void* pointer, const char* /*file*/, int /*line*/) { std::free(pointer); }

const bool allocation_counting_installed =
    CRYPTO_set_mem_functions(CountingMalloc, CountingRealloc, CountingFree) == 1;

// RFC 9001 appendix A: the client's Destination Connection ID.
constexpr std::string_view kRfcConnectionId = "8394c8f03e515708";

// RFC 9001 appendix A.2: the CRYPTO frame of the client Initial (offset 0, length 241).
constexpr std::string_view kRfcCryptoFrame =
    "060040f1010000ed0303ebf8fa56f129 39b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c000004130113 02010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a 00080006001d00170018001000070005"
    "04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce1 5d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408 050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff050480 00ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806 048000ffff";

// RFC 9001 appendix A.2: the protected client Initial, 1200 bytes.
constexpr std::string_view kRfcClientInitial =
    "c000000001088394c8f03e5157080000 449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c 0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a12 82a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba1 7c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89 eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae81215 4682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf3 62c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e 610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5 eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d8 2df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7 961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4 faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d874 3eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7 fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a 33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a22 9a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf 330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f0 5796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576 f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff2 8f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f 6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37 252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accd d5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4 dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c 4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a07 1b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b4381303 68cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e5 66d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499d bd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433 bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885 c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723 c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd8 04a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356f bf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905dd f3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be 0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b 8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934";

// RFC 9001 appendix A.3: the protected server Initial.
constexpr std::string_view kRfcServerInitial =
    "cf000000010008f067a5502a4262b500 4075c0d95a482cd0991cd25b0aac406a"
    "5816b6394100f37a1c69797554780bb3 8cc5a99f5ede4cf73c3ec2493a1839b3"
    "dbcba3f6ea46c5b7684df3548e7ddeb9 c3bf9c73cc3f3bded74b562bfb19fb84"
    "022f8ef4cdd93795d77d06edbb7aaf2f 58891850abbdca3d20398c276456cbc4"
    "2158407dd074ee";

std::vector<uint8_t> HexToValues(std::string_view hex) {
  std::vector<uint8_t> values;
  for (std::byte byte : BytesFromHex(hex)) {
    values.push_back(static_cast<uint8_t>(byte));
  }
  return values;
}

std::vector<std::byte> ToBytes(const std::vector<uint8_t>& values) {
  std::vector<std::byte> bytes;
  for (uint8_t value : values) {
    bytes.push_back(static_cast<std::byte>(value));
  }
  return bytes;
}

std::string Hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  for (uint8_t byte : bytes) {
    text += kDigits[byte >> 4];
    text += kDigits[byte & 0x0F];
  }
  return text;
}

std::string Hex(std::span<const std::byte> bytes) {
  return Hex(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

// Appends a QUIC variable-length integer (RFC 9000 section 16) in its shortest form.
void AppendVarint(std::vector<uint8_t>& bytes, uint64_t value) {
  if (value < 0x40) {
    bytes.push_back(static_cast<uint8_t>(value));
  } else if (value < 0x4000) {
    bytes.push_back(static_cast<uint8_t>(0x40 | value >> 8));
    bytes.push_back(static_cast<uint8_t>(value));
  } else {
    bytes.push_back(static_cast<uint8_t>(0x80 | value >> 24));
    bytes.push_back(static_cast<uint8_t>(value >> 16));
    bytes.push_back(static_cast<uint8_t>(value >> 8));
    bytes.push_back(static_cast<uint8_t>(value));
  }
}

std::vector<uint8_t> CryptoFrame(uint64_t offset, std::span<const uint8_t> data) {
  std::vector<uint8_t> frame = {0x06};
  AppendVarint(frame, offset);
  AppendVarint(frame, data.size());
  frame.insert(frame.end(), data.begin(), data.end());
  return frame;
}

struct InitialPacket {
  std::vector<uint8_t> destination_connection_id;
  std::vector<uint8_t> source_connection_id;
  std::vector<uint8_t> token;
  uint64_t packet_number = 0;
  size_t packet_number_length = 4;
  uint8_t reserved_bits = 0;  // Placed in bits 0x0C of the first byte.
  std::vector<uint8_t> frames;
  size_t payload_length = 1162;  // Frames are padded with PADDING frames to this length.
};

// Protects an Initial the way a client does (RFC 9001 sections 5.3 and 5.4): AES-128-GCM
// over the payload with the header as associated data, then the header protection mask.
std::vector<std::byte> Protect(const QuicInitialKeys& keys, const InitialPacket& packet) {
  std::vector<uint8_t> payload = packet.frames;
  if (payload.size() < packet.payload_length) {
    payload.resize(packet.payload_length, 0x00);
  }
  std::vector<uint8_t> header = {
      static_cast<uint8_t>(0xC0 | packet.reserved_bits << 2 | (packet.packet_number_length - 1)),
      0, 0, 0, 1};
  header.push_back(static_cast<uint8_t>(packet.destination_connection_id.size()));
  header.insert(header.end(), packet.destination_connection_id.begin(),
                packet.destination_connection_id.end());
  header.push_back(static_cast<uint8_t>(packet.source_connection_id.size()));
  header.insert(header.end(), packet.source_connection_id.begin(),
                packet.source_connection_id.end());
  AppendVarint(header, packet.token.size());
  header.insert(header.end(), packet.token.begin(), packet.token.end());
  const size_t length = packet.packet_number_length + payload.size() + 16;
  header.push_back(static_cast<uint8_t>(0x40 | length >> 8));
  header.push_back(static_cast<uint8_t>(length));
  const size_t pn_offset = header.size();
  for (size_t i = packet.packet_number_length; i > 0; --i) {
    header.push_back(static_cast<uint8_t>(packet.packet_number >> (8 * (i - 1))));
  }

  std::array<uint8_t, 12> nonce = keys.iv;
  for (size_t i = 0; i < 8; ++i) {
    nonce[11 - i] ^= static_cast<uint8_t>(packet.packet_number >> (8 * i));
  }
  std::vector<uint8_t> protected_packet = header;
  protected_packet.resize(header.size() + payload.size() + 16);
  EVP_CIPHER_CTX* aead = EVP_CIPHER_CTX_new();
  int out_length = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(aead, EVP_aes_128_gcm(), nullptr, keys.key.data(), nonce.data()),
            1);
  EXPECT_EQ(EVP_EncryptUpdate(aead, nullptr, &out_length, header.data(),
                              static_cast<int>(header.size())),
            1);
  EXPECT_EQ(EVP_EncryptUpdate(aead, protected_packet.data() + header.size(), &out_length,
                              payload.data(), static_cast<int>(payload.size())),
            1);
  EXPECT_EQ(EVP_EncryptFinal_ex(aead, protected_packet.data() + header.size() + out_length,
                                &out_length),
            1);
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(aead, EVP_CTRL_AEAD_GET_TAG, 16,
                                protected_packet.data() + header.size() + payload.size()),
            1);
  EVP_CIPHER_CTX_free(aead);

  std::array<uint8_t, 16> mask{};
  EVP_CIPHER_CTX* ecb = EVP_CIPHER_CTX_new();
  EXPECT_EQ(EVP_EncryptInit_ex(ecb, EVP_aes_128_ecb(), nullptr, keys.hp.data(), nullptr), 1);
  EXPECT_EQ(EVP_EncryptUpdate(ecb, mask.data(), &out_length,
                              protected_packet.data() + pn_offset + 4, 16),
            1);
  EVP_CIPHER_CTX_free(ecb);
  protected_packet[0] ^= mask[0] & 0x0F;
  for (size_t i = 0; i < packet.packet_number_length; ++i) {
    protected_packet[pn_offset + i] ^= mask[1 + i];
  }
  return ToBytes(protected_packet);
}

class QuicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    decryptor_ = QuicInitialDecryptor::Create();
    ASSERT_NE(decryptor_, nullptr);
    ASSERT_TRUE(decryptor_->DeriveClientKeys(BytesFromHex(kRfcConnectionId), rfc_keys_));
  }

  QuicStatus Process(const std::vector<std::byte>& datagram) {
    return decryptor_->ProcessClientDatagram(datagram, *state_, hello_);
  }

  // The ClientHello of RFC 9001 appendix A.2 (241 bytes, SNI "example.com").
  static std::vector<uint8_t> RfcClientHello() {
    const std::vector<uint8_t> frame = HexToValues(kRfcCryptoFrame);
    return std::vector<uint8_t>(frame.begin() + 4, frame.end());
  }

  InitialPacket RfcPacket(uint64_t packet_number, std::vector<uint8_t> frames) const {
    InitialPacket packet;
    packet.destination_connection_id = HexToValues(kRfcConnectionId);
    packet.packet_number = packet_number;
    packet.frames = std::move(frames);
    return packet;
  }

  std::unique_ptr<QuicInitialDecryptor> decryptor_;
  std::unique_ptr<QuicInitialState> state_ = std::make_unique<QuicInitialState>();
  ClientHelloInfo hello_;
  QuicInitialKeys rfc_keys_;
};

// RFC 9001 appendix A.1: key, iv and hp for the client Initial of DCID 0x8394c8f03e515708.
TEST_F(QuicTest, Rfc9001ClientInitialKeys) {
  EXPECT_EQ(Hex(rfc_keys_.key), "1f369613dd76d5467730efcbe3b1a22d");
  EXPECT_EQ(Hex(rfc_keys_.iv), "fa044b2f42a3fd3b46fb255c");
  EXPECT_EQ(Hex(rfc_keys_.hp), "9f50449e04a0e810283a1e9933adedd2");
}

// The test encryptor reproduces the protected packet of RFC 9001 appendix A.2 from its
// unprotected header (packet number 2, 4 bytes) and payload.
TEST_F(QuicTest, EncryptorReproducesRfc9001Packet) {
  InitialPacket packet = RfcPacket(2, HexToValues(kRfcCryptoFrame));
  EXPECT_EQ(Hex(Protect(rfc_keys_, packet)), Hex(BytesFromHex(kRfcClientInitial)));
}

TEST_F(QuicTest, Rfc9001LongHeaderFields) {
  const std::vector<std::byte> datagram = BytesFromHex(kRfcClientInitial);
  ASSERT_EQ(datagram.size(), 1200u);
  QuicLongHeader header;
  ASSERT_EQ(ParseQuicLongHeader(datagram, 0, header), QuicStatus::kOk);
  EXPECT_EQ(header.version, kQuicVersion1);
  EXPECT_EQ(header.packet_type, QuicPacketType::kInitial);
  EXPECT_EQ(Hex(header.destination_connection_id), kRfcConnectionId);
  EXPECT_TRUE(header.source_connection_id.empty());
  EXPECT_TRUE(header.token.empty());
  EXPECT_EQ(header.length, 1182u);
  EXPECT_EQ(header.packet_number_offset, 18u);
  EXPECT_EQ(header.packet_end, 1200u);
}

TEST_F(QuicTest, Rfc9001ClientInitialYieldsServerName) {
  ASSERT_EQ(Process(BytesFromHex(kRfcClientInitial)), QuicStatus::kOk);
  EXPECT_EQ(state_->largest_packet_number, 2);
  EXPECT_EQ(state_->contiguous_length, 241u);
  EXPECT_EQ(Hex(std::span(state_->connection_id.data(), state_->connection_id_length)),
            kRfcConnectionId);
  EXPECT_EQ(state_->tls_status, TlsStatus::kOk);
  EXPECT_EQ(hello_.server_name_view(), "example.com");
  ASSERT_EQ(hello_.supported_version_count, 1);
  EXPECT_EQ(hello_.supported_versions[0], kTlsVersion13);
  EXPECT_EQ(hello_.record_version, 0);
}

// The server Initial of appendix A.3 does not authenticate under client keys.
TEST_F(QuicTest, Rfc9001ServerInitialFailsWithClientKeys) {
  EXPECT_EQ(Process(BytesFromHex(kRfcServerInitial)), QuicStatus::kDecryptionFailed);
  EXPECT_EQ(state_->contiguous_length, 0u);
  EXPECT_EQ(state_->largest_packet_number, -1);
}

// quic-v1-sni-cirrus-ci.pcap frame 1: Chromium 115's first Initial, whose nine CRYPTO
// frames arrive out of order (quic.crypto.offset 549, 346, 330, 0, 319, 277, 535, 566, 540).
TEST_F(QuicTest, ChromiumInitialFromCapture) {
  const auto frames = ReadCapture("quic-v1-sni-cirrus-ci.pcap");
  const std::vector<std::byte> datagram = PayloadOf(frames, 1);
  ASSERT_EQ(datagram.size(), 1250u);  // quic.packet_length

  QuicLongHeader header;
  ASSERT_EQ(ParseQuicLongHeader(datagram, 0, header), QuicStatus::kOk);
  EXPECT_EQ(header.version, kQuicVersion1);                             // quic.version
  EXPECT_EQ(Hex(header.destination_connection_id), "95412c47018cdfe8");  // quic.dcid
  EXPECT_TRUE(header.source_connection_id.empty());                     // quic.scil 0
  EXPECT_EQ(header.token.size(), 70u);                                  // quic.token_length
  EXPECT_EQ(header.length, 1161u);                                      // quic.length

  ASSERT_EQ(Process(datagram), QuicStatus::kOk);
  EXPECT_EQ(state_->largest_packet_number, 1);  // quic.packet_number
  // tls.handshake.extensions_server_name
  EXPECT_EQ(hello_.server_name_view(), "api.cirrus-ci.com");
  EXPECT_EQ(hello_.handshake_length, 570u);  // tls.handshake.length
  EXPECT_EQ(hello_.legacy_version, 0x0303);  // tls.handshake.version
  // tls.handshake.extensions.supported_version: 0x0304.
  ASSERT_EQ(hello_.supported_version_count, 1);
  EXPECT_EQ(hello_.supported_versions[0], kTlsVersion13);
  EXPECT_EQ(state_->contiguous_length, 574u);
}

// quic-v1-sni-cirrus-ci.pcap frames 2 to 4 are not client Initials: the server's Initial
// and Handshake (frame 2), the client's Handshake packets (frame 3) and a short header
// packet (frame 4).
TEST_F(QuicTest, OtherPacketsOfCapture) {
  const auto frames = ReadCapture("quic-v1-sni-cirrus-ci.pcap");
  ASSERT_EQ(Process(PayloadOf(frames, 1)), QuicStatus::kOk);
  EXPECT_EQ(Process(PayloadOf(frames, 2)), QuicStatus::kDecryptionFailed);
  EXPECT_EQ(Process(PayloadOf(frames, 3)), QuicStatus::kNotInitial);
  EXPECT_EQ(Process(PayloadOf(frames, 4)), QuicStatus::kNotQuicLongHeader);
  EXPECT_EQ(Hex(std::span(state_->connection_id.data(), state_->connection_id_length)),
            "95412c47018cdfe8");
}

// A ClientHello split over two Initials that arrive second half first.
TEST_F(QuicTest, ClientHelloOverTwoInitials) {
  const std::vector<uint8_t> hello = RfcClientHello();
  for (size_t split : {1u, 3u, 4u, 5u, 100u, 240u}) {
    SCOPED_TRACE(::testing::Message() << "split at " << split);
    state_ = std::make_unique<QuicInitialState>();
    const std::span<const uint8_t> bytes(hello);
    const auto second = Protect(rfc_keys_, RfcPacket(0, CryptoFrame(split, bytes.subspan(split))));
    const auto first = Protect(rfc_keys_, RfcPacket(1, CryptoFrame(0, bytes.first(split))));
    ASSERT_EQ(Process(second), QuicStatus::kNeedMorePackets);
    EXPECT_EQ(state_->contiguous_length, 0u);
    ASSERT_EQ(Process(first), QuicStatus::kOk);
    EXPECT_EQ(hello_.server_name_view(), "example.com");
    EXPECT_EQ(state_->largest_packet_number, 1);
  }
}

TEST_F(QuicTest, ClientHelloInOrderOverThreeInitials) {
  const std::vector<uint8_t> hello = RfcClientHello();
  const std::span<const uint8_t> bytes(hello);
  ASSERT_EQ(Process(Protect(rfc_keys_, RfcPacket(0, CryptoFrame(0, bytes.first(2))))),
            QuicStatus::kNeedMorePackets);
  ASSERT_EQ(Process(Protect(rfc_keys_, RfcPacket(1, CryptoFrame(2, bytes.subspan(2, 100))))),
            QuicStatus::kNeedMorePackets);
  EXPECT_EQ(state_->tls_status, TlsStatus::kNeedMoreBytes);
  ASSERT_EQ(Process(Protect(rfc_keys_, RfcPacket(2, CryptoFrame(102, bytes.subspan(102))))),
            QuicStatus::kOk);
  EXPECT_EQ(hello_.server_name_view(), "example.com");
}

// Overlapping CRYPTO frames in reverse order within one packet.
TEST_F(QuicTest, OverlappingFramesInOnePacket) {
  const std::vector<uint8_t> hello = RfcClientHello();
  const std::span<const uint8_t> bytes(hello);
  std::vector<uint8_t> frames = CryptoFrame(150, bytes.subspan(150));
  const std::vector<uint8_t> middle = CryptoFrame(50, bytes.subspan(50, 120));
  const std::vector<uint8_t> start = CryptoFrame(0, bytes.first(60));
  frames.insert(frames.end(), middle.begin(), middle.end());
  frames.push_back(0x01);  // PING
  frames.insert(frames.end(), start.begin(), start.end());
  ASSERT_EQ(Process(Protect(rfc_keys_, RfcPacket(0, frames))), QuicStatus::kOk);
  EXPECT_EQ(hello_.server_name_view(), "example.com");
}

// After the server's first Initial the client sends to the server's connection ID, but the
// Initial keys stay those of its first Destination Connection ID (RFC 9001 section 5.2).
TEST_F(QuicTest, NewConnectionIdKeepsFirstKeys) {
  const std::vector<uint8_t> hello = RfcClientHello();
  const std::span<const uint8_t> bytes(hello);
  ASSERT_EQ(Process(Protect(rfc_keys_, RfcPacket(0, CryptoFrame(0, bytes.first(100))))),
            QuicStatus::kNeedMorePackets);
  InitialPacket second = RfcPacket(1, CryptoFrame(100, bytes.subspan(100)));
  second.destination_connection_id = HexToValues("f067a5502a4262b5");
  ASSERT_EQ(Process(Protect(rfc_keys_, second)), QuicStatus::kOk);
  EXPECT_EQ(Hex(std::span(state_->connection_id.data(), state_->connection_id_length)),
            kRfcConnectionId);
  EXPECT_EQ(state_->rederive_count, 0);
}

// After a Retry, Initials are protected with keys from the server-chosen connection ID.
TEST_F(QuicTest, RetryChangesKeys) {
  const std::vector<uint8_t> hello = RfcClientHello();
  const std::span<const uint8_t> bytes(hello);
  ASSERT_EQ(Process(Protect(rfc_keys_, RfcPacket(0, CryptoFrame(0, bytes.first(100))))),
            QuicStatus::kNeedMorePackets);

  const std::vector<uint8_t> retry_id = HexToValues("0011223344556677");
  QuicInitialKeys retry_keys;
  ASSERT_TRUE(decryptor_->DeriveClientKeys(ToBytes(retry_id), retry_keys));
  InitialPacket after_retry = RfcPacket(1, CryptoFrame(0, bytes));
  after_retry.destination_connection_id = retry_id;
  after_retry.token = {0xAA, 0xBB, 0xCC};
  ASSERT_EQ(Process(Protect(retry_keys, after_retry)), QuicStatus::kOk);
  EXPECT_EQ(hello_.server_name_view(), "example.com");
  EXPECT_EQ(Hex(std::span(state_->connection_id.data(), state_->connection_id_length)),
            "0011223344556677");
  EXPECT_EQ(state_->rederive_count, 1);
}

// Forged packets with ever new connection IDs make at most two extra key derivations.
TEST_F(QuicTest, RederivationIsBounded) {
  ASSERT_EQ(Process(BytesFromHex(kRfcClientInitial)), QuicStatus::kOk);
  for (uint8_t i = 0; i < 5; ++i) {
    InitialPacket forged = RfcPacket(3 + i, CryptoFrame(0, RfcClientHello()));
    forged.destination_connection_id = {1, 2, 3, 4, 5, 6, 7, i};
    EXPECT_EQ(Process(Protect(rfc_keys_, forged)), QuicStatus::kOk) << "own keys still work";
    std::vector<std::byte> tampered = Protect(rfc_keys_, forged);
    tampered[100] ^= std::byte{1};
    EXPECT_EQ(Process(tampered), QuicStatus::kDecryptionFailed);
  }
  EXPECT_EQ(state_->rederive_count, 2);
}

TEST_F(QuicTest, TamperedPacketFails) {
  std::vector<std::byte> datagram = BytesFromHex(kRfcClientInitial);
  datagram[500] ^= std::byte{0x01};
  EXPECT_EQ(Process(datagram), QuicStatus::kDecryptionFailed);
  EXPECT_EQ(state_->contiguous_length, 0u);
  std::vector<std::byte> tag_changed = BytesFromHex(kRfcClientInitial);
  tag_changed.back() ^= std::byte{0x80};
  EXPECT_EQ(Process(tag_changed), QuicStatus::kDecryptionFailed);
  EXPECT_EQ(Process(BytesFromHex(kRfcClientInitial)), QuicStatus::kOk);
}

TEST_F(QuicTest, ReservedBitsSet) {
  InitialPacket packet = RfcPacket(0, CryptoFrame(0, RfcClientHello()));
  packet.reserved_bits = 0x01;
  EXPECT_EQ(Process(Protect(rfc_keys_, packet)), QuicStatus::kBadReservedBits);
}

TEST_F(QuicTest, PacketNumberLengths) {
  const std::vector<uint8_t> hello = RfcClientHello();
  const std::span<const uint8_t> bytes(hello);
  InitialPacket first = RfcPacket(0x1234, CryptoFrame(0, bytes.first(10)));
  first.packet_number_length = 2;
  ASSERT_EQ(Process(Protect(rfc_keys_, first)), QuicStatus::kNeedMorePackets);
  EXPECT_EQ(state_->largest_packet_number, 0x1234);
  // One byte, 0x35, is decoded next to the largest packet number (RFC 9000 appendix A.3).
  InitialPacket second = RfcPacket(0x1235, CryptoFrame(10, bytes.subspan(10)));
  second.packet_number_length = 1;
  ASSERT_EQ(Process(Protect(rfc_keys_, second)), QuicStatus::kOk);
  EXPECT_EQ(state_->largest_packet_number, 0x1235);
}

TEST_F(QuicTest, AckAndConnectionCloseFramesSkipped) {
  std::vector<uint8_t> frames = {
      0x02, 0x05, 0x00, 0x01, 0x01, 0x00, 0x01,  // ACK: largest 5, one more range
      0x03, 0x05, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03,  // ACK with ECN counts
      0x1c, 0x00, 0x06, 0x03, 'b', 'y', 'e',  // CONNECTION_CLOSE with a reason
  };
  const std::vector<uint8_t> crypto = CryptoFrame(0, RfcClientHello());
  frames.insert(frames.end(), crypto.begin(), crypto.end());
  EXPECT_EQ(Process(Protect(rfc_keys_, RfcPacket(0, frames))), QuicStatus::kOk);
}

TEST_F(QuicTest, ForbiddenAndMalformedFrames) {
  // A STREAM frame (type 0x08) is not allowed in an Initial packet.
  EXPECT_EQ(Process(Protect(rfc_keys_, RfcPacket(0, {0x08, 0x00, 'x'}))),
            QuicStatus::kForbiddenFrame);
  // A CRYPTO frame whose length runs past the payload, which ends with the frame.
  InitialPacket overrun = RfcPacket(1, {0x06, 0x00, 0x44, 0x00, 'x'});
  overrun.payload_length = 0;
  EXPECT_EQ(Process(Protect(rfc_keys_, overrun)), QuicStatus::kMalformedFrame);
  // An ACK frame that claims more ranges than bytes remain.
  InitialPacket ranges = RfcPacket(2, {0x02, 0x00, 0x00, 0x3f, 0x00});
  ranges.payload_length = 0;
  EXPECT_EQ(Process(Protect(rfc_keys_, ranges)), QuicStatus::kMalformedFrame);
  // A CRYPTO offset at 2^62 - 1 with data beyond it.
  InitialPacket offset = RfcPacket(3, {0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                       0x01, 'x'});
  EXPECT_EQ(Process(Protect(rfc_keys_, offset)), QuicStatus::kMalformedFrame);
}

TEST_F(QuicTest, ClientHelloLargerThanBuffer) {
  // A ClientHello header announcing 5000 bytes.
  const std::vector<uint8_t> header = {0x01, 0x00, 0x13, 0x88};
  EXPECT_EQ(Process(Protect(rfc_keys_, RfcPacket(0, CryptoFrame(0, header)))),
            QuicStatus::kClientHelloTooLarge);
}

TEST_F(QuicTest, CryptoDataBeyondBufferIgnored) {
  const std::vector<uint8_t> far(100, 0x55);
  const InitialPacket straddling = RfcPacket(0, CryptoFrame(kQuicCryptoBufferLength - 50, far));
  ASSERT_EQ(Process(Protect(rfc_keys_, straddling)), QuicStatus::kNeedMorePackets);
  ASSERT_EQ(Process(Protect(rfc_keys_, RfcPacket(1, CryptoFrame(0, RfcClientHello())))),
            QuicStatus::kOk);
}

TEST_F(QuicTest, CryptoStreamThatIsNotClientHello) {
  // A ServerHello header (type 2).
  const std::vector<uint8_t> header = {0x02, 0x00, 0x00, 0x04};
  EXPECT_EQ(Process(Protect(rfc_keys_, RfcPacket(0, CryptoFrame(0, header)))),
            QuicStatus::kClientHelloError);
  EXPECT_EQ(state_->tls_status, TlsStatus::kNotClientHello);
}

TEST_F(QuicTest, CoalescedPackets) {
  const std::vector<std::byte> initial =
      Protect(rfc_keys_, RfcPacket(0, CryptoFrame(0, RfcClientHello())));
  // A Handshake packet (type 2) with a 20-byte Length, whose content is not read.
  std::vector<uint8_t> handshake = {0xE0, 0, 0, 0, 1, 0, 0, 20};
  handshake.resize(handshake.size() + 20, 0x77);

  std::vector<std::byte> datagram = ToBytes(handshake);
  datagram.insert(datagram.end(), initial.begin(), initial.end());
  datagram.insert(datagram.end(), 30, std::byte{0});  // Zero padding after the packets.
  ASSERT_EQ(Process(datagram), QuicStatus::kOk);
  EXPECT_EQ(hello_.server_name_view(), "example.com");

  state_ = std::make_unique<QuicInitialState>();
  EXPECT_EQ(Process(ToBytes(handshake)), QuicStatus::kNotInitial);
}

TEST_F(QuicTest, HeaderErrors) {
  // A 1-RTT packet: header form bit clear.
  EXPECT_EQ(Process(ToBytes({0x40, 1, 2, 3})), QuicStatus::kNotQuicLongHeader);
  // Fixed bit clear.
  EXPECT_EQ(Process(ToBytes({0x80, 0, 0, 0, 1, 0, 0})), QuicStatus::kNotQuicLongHeader);
  // QUIC version 2 (0x6b3343cf) and Version Negotiation (version 0).
  EXPECT_EQ(Process(ToBytes({0xC0, 0x6b, 0x33, 0x43, 0xcf, 0, 0})),
            QuicStatus::kUnsupportedVersion);
  EXPECT_EQ(Process(ToBytes({0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})),
            QuicStatus::kUnsupportedVersion);
  // A 21-byte Destination Connection ID.
  std::vector<uint8_t> long_id = {0xC0, 0, 0, 0, 1, 21};
  long_id.resize(long_id.size() + 21, 0x01);
  long_id.push_back(0);
  EXPECT_EQ(Process(ToBytes(long_id)), QuicStatus::kBadConnectionIdLength);

  // A Length beyond the datagram, and a packet too short for the header protection sample.
  std::vector<std::byte> datagram = BytesFromHex(kRfcClientInitial);
  EXPECT_EQ(Process(std::vector<std::byte>(datagram.begin(), datagram.end() - 1)),
            QuicStatus::kBadPacketLength);
  std::vector<uint8_t> short_packet = {0xC0, 0, 0, 0, 1, 0, 0, 0, 19};
  short_packet.resize(short_packet.size() + 19, 0x00);
  EXPECT_EQ(Process(ToBytes(short_packet)), QuicStatus::kBadPacketLength);
  short_packet[8] = 20;
  short_packet.push_back(0);
  EXPECT_EQ(Process(ToBytes(short_packet)), QuicStatus::kDecryptionFailed);

  // Every cut inside the header of the appendix A.2 packet (18 bytes before the packet
  // number) is a truncated header.
  for (size_t cut = 1; cut < 18; ++cut) {
    QuicLongHeader header;
    EXPECT_EQ(ParseQuicLongHeader(std::span(datagram).first(cut), 0, header),
              QuicStatus::kTruncatedHeader)
        << cut;
  }
  EXPECT_EQ(state_->has_keys, true);
  EXPECT_EQ(state_->contiguous_length, 0u);
}

// Once a worker's decryptor exists and a flow has its keys, decrypting and parsing a
// client Initial makes no OpenSSL allocation. Key derivation does allocate, and its count
// is recorded as a test property.
TEST_F(QuicTest, DecryptionAllocatesNothing) {
  if (!allocation_counting_installed) {
    GTEST_SKIP() << "OpenSSL allocated before the counting functions could be installed";
  }
  const auto frames = ReadCapture("quic-v1-sni-cirrus-ci.pcap");
  const std::vector<std::byte> datagram = PayloadOf(frames, 1);

  const long before_derivation = openssl_allocations.load();
  ASSERT_EQ(Process(datagram), QuicStatus::kOk);
  const long derivation = openssl_allocations.load() - before_derivation;
  RecordProperty("openssl_allocations_first_initial", static_cast<int>(derivation));
  EXPECT_GT(derivation, 0);

  // A packet that fails authentication, with the same connection ID so that no new keys
  // are derived, takes the error path of the same calls.
  std::vector<std::byte> tampered = datagram;
  tampered[600] ^= std::byte{0x01};
  const long before = openssl_allocations.load();
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(Process(datagram), QuicStatus::kOk);
    ASSERT_EQ(Process(tampered), QuicStatus::kDecryptionFailed);
  }
  EXPECT_EQ(openssl_allocations.load() - before, 0);
}

TEST(QuicStatusNames, AreDistinct) {
  std::set<std::string_view> names;
  for (int i = 0; i < kQuicStatusCount; ++i) {
    const std::string_view name = QuicStatusName(static_cast<QuicStatus>(i));
    EXPECT_NE(name, "unknown") << i;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kQuicStatusCount));
}

}  // namespace
}  // namespace sensor::dp
