// Fuzz target for QUIC version 1 client Initial processing.
//
// The first input byte chooses how the rest is used. Even: the rest is one UDP payload as
// received, so the fuzzer reaches the long header parser and key derivation, but rarely
// gets past the AEAD tag. Odd: the rest describes up to four Initial packets whose frames
// the fuzzer chooses; each is protected here with the client Initial keys of the RFC 9001
// appendix A connection ID, so the decryptor authenticates them and the fuzzer reaches
// the frame parser, CRYPTO reassembly and the ClientHello parser. Per packet: a 1-byte
// packet number, a 2-byte frames length (modulo 1500), then the frames.
#include <fuzzer/FuzzedDataProvider.h>
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dataplane/proto/quic_initial.h"
#include "dataplane/proto/tls_client_hello.h"

namespace {

using sensor::dp::QuicInitialKeys;
using sensor::dp::QuicStatus;

constexpr std::array<uint8_t, 8> kConnectionId = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
constexpr size_t kMaxFramesLength = 1500;
constexpr int kMaxPackets = 4;
constexpr size_t kPacketNumberLength = 1;
// Header protection samples 16 bytes starting 4 bytes after the packet number offset.
constexpr size_t kMinPayloadLength = 4 + 16 - kPacketNumberLength;
constexpr size_t kTagLength = 16;

struct Context {
  std::unique_ptr<sensor::dp::QuicInitialDecryptor> decryptor;
  QuicInitialKeys keys;
  EVP_CIPHER_CTX* aead = nullptr;
  EVP_CIPHER_CTX* ecb = nullptr;
};

Context& GetContext() {
  static Context* context = [] {
    auto* created = new Context;
    created->decryptor = sensor::dp::QuicInitialDecryptor::Create();
    if (created->decryptor == nullptr) __builtin_trap();
    const auto* id = reinterpret_cast<const std::byte*>(kConnectionId.data());
    if (!created->decryptor->DeriveClientKeys(std::span(id, kConnectionId.size()), created->keys)) {
      __builtin_trap();
    }
    created->aead = EVP_CIPHER_CTX_new();
    created->ecb = EVP_CIPHER_CTX_new();
    return created;
  }();
  return *context;
}

// Protects one Initial as a client does (RFC 9001 sections 5.3 and 5.4): AES-128-GCM over
// the payload with the header as associated data, then the header protection mask.
std::vector<uint8_t> Protect(Context& context, uint8_t packet_number,
                             std::vector<uint8_t> payload) {
  if (payload.size() < kMinPayloadLength) payload.resize(kMinPayloadLength, 0x00);  // PADDING
  std::vector<uint8_t> packet = {static_cast<uint8_t>(0xC0 | (kPacketNumberLength - 1)), 0, 0, 0,
                                 1};
  packet.push_back(static_cast<uint8_t>(kConnectionId.size()));
  packet.insert(packet.end(), kConnectionId.begin(), kConnectionId.end());
  packet.push_back(0);  // Source Connection ID length.
  packet.push_back(0);  // Token length.
  const size_t length = kPacketNumberLength + payload.size() + kTagLength;
  packet.push_back(static_cast<uint8_t>(0x40 | length >> 8));
  packet.push_back(static_cast<uint8_t>(length));
  const size_t packet_number_offset = packet.size();
  packet.push_back(packet_number);
  const size_t header_length = packet.size();

  std::array<uint8_t, 12> nonce = context.keys.iv;
  nonce[11] ^= packet_number;
  packet.resize(header_length + payload.size() + kTagLength);
  int out = 0;
  if (EVP_EncryptInit_ex(context.aead, EVP_aes_128_gcm(), nullptr, context.keys.key.data(),
                         nonce.data()) != 1 ||
      EVP_EncryptUpdate(context.aead, nullptr, &out, packet.data(),
                        static_cast<int>(header_length)) != 1 ||
      EVP_EncryptUpdate(context.aead, packet.data() + header_length, &out, payload.data(),
                        static_cast<int>(payload.size())) != 1 ||
      EVP_EncryptFinal_ex(context.aead, packet.data() + header_length + out, &out) != 1 ||
      EVP_CIPHER_CTX_ctrl(context.aead, EVP_CTRL_AEAD_GET_TAG, kTagLength,
                          packet.data() + header_length + payload.size()) != 1) {
    __builtin_trap();
  }

  std::array<uint8_t, 32> mask{};
  if (EVP_EncryptInit_ex(context.ecb, EVP_aes_128_ecb(), nullptr, context.keys.hp.data(),
                         nullptr) != 1 ||
      EVP_EncryptUpdate(context.ecb, mask.data(), &out, packet.data() + packet_number_offset + 4,
                        16) != 1) {
    __builtin_trap();
  }
  packet[0] ^= mask[0] & 0x0F;
  packet[packet_number_offset] ^= mask[1];
  return packet;
}

void CheckHello(QuicStatus status, const sensor::dp::ClientHelloInfo& hello) {
  if (sensor::dp::QuicStatusName(status).empty()) __builtin_trap();
  if (hello.server_name_length > sensor::dp::kMaxServerNameLength) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Context& context = GetContext();
  // About 4.6 KiB, value-initialised per flow as the session table does.
  static sensor::dp::QuicInitialState state;
  state = sensor::dp::QuicInitialState{};
  sensor::dp::ClientHelloInfo hello;

  if ((data[0] & 1) == 0) {
    const std::span<const std::byte> datagram(reinterpret_cast<const std::byte*>(data + 1),
                                              size - 1);
    sensor::dp::QuicLongHeader header;
    static_cast<void>(sensor::dp::ParseQuicLongHeader(datagram, 0, header));
    CheckHello(context.decryptor->ProcessClientDatagram(datagram, state, hello), hello);
    return 0;
  }

  FuzzedDataProvider input(data + 1, size - 1);
  for (int i = 0; i < kMaxPackets && input.remaining_bytes() > 0; ++i) {
    const auto packet_number = input.ConsumeIntegral<uint8_t>();
    const size_t length = input.ConsumeIntegral<uint16_t>() % kMaxFramesLength;
    const std::vector<uint8_t> packet =
        Protect(context, packet_number, input.ConsumeBytes<uint8_t>(length));
    const QuicStatus status = context.decryptor->ProcessClientDatagram(
        std::span(reinterpret_cast<const std::byte*>(packet.data()), packet.size()), state, hello);
    CheckHello(status, hello);
    if (status != QuicStatus::kNeedMorePackets) break;
  }
  return 0;
}
