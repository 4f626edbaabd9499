// Fuzz target for the client-handshake reassembly of a TCP flow. Segments with arbitrary
// sequence numbers go into a Session (StoreHandshakeSegment) in the order the input gives
// them. After each one, the contiguous bytes are parsed as Worker::InspectClientStream
// parses them: as a TLS ClientHello, and otherwise as an HTTP request head.
//
// Input: 4 bytes of initial sequence number, then per segment a 2-byte signed offset from
// it, a 2-byte length (modulo 1600) and that many payload bytes.
//
// A byte map of every stored segment, later segments overwriting earlier ones as in the
// session, checks that the bytes the session reports as contiguous are those sent.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "dataplane/flow_table.h"
#include "dataplane/proto/http_request.h"
#include "dataplane/proto/tls_client_hello.h"
#include "dataplane/session_table.h"

namespace {

using sensor::dp::Session;

constexpr uint32_t kMaxSegmentLength = 1600;

// Parses the contiguous prefix as the worker does; returns true once the handshake is
// decided (complete, or given up).
bool ParsePrefix(std::span<const std::byte> stream) {
  const auto first = std::to_integer<uint8_t>(stream[0]);
  if (first != 0x16 && !(first >= 'A' && first <= 'Z')) return false;
  sensor::dp::ClientHelloInfo hello;
  const sensor::dp::TlsStatus tls = sensor::dp::ParseClientHelloRecords(stream, hello);
  if (tls == sensor::dp::TlsStatus::kNeedMoreBytes) return false;
  if (tls == sensor::dp::TlsStatus::kOk) return true;
  sensor::dp::HttpRequestInfo request;
  return sensor::dp::ParseHttpRequest(stream, request) != sensor::dp::HttpStatus::kNeedMoreBytes;
}

// Every byte sent, by its offset from the initial sequence number plus 32768, so that the
// whole int16 range of segment offsets and one segment past its end fit.
struct SentBytes {
  static constexpr size_t kSize = 65536 + kMaxSegmentLength;
  std::array<uint8_t, kSize> bytes{};
  std::array<bool, kSize> known{};
  size_t low = kSize;  // Range of `known` entries set since the last Clear().
  size_t high = 0;

  void Store(size_t index, const std::vector<uint8_t>& payload) {
    std::copy(payload.begin(), payload.end(), bytes.begin() + index);
    std::fill_n(known.begin() + index, payload.size(), true);
    low = std::min(low, index);
    high = std::max(high, index + payload.size());
  }
  void Clear() {
    if (low < high) std::fill(known.begin() + low, known.begin() + high, false);
    low = kSize;
    high = 0;
  }
};

SentBytes sent;

size_t IndexOf(uint32_t seq, uint32_t initial_seq) {
  return static_cast<size_t>(static_cast<int32_t>(seq - initial_seq) + 32768);
}

void CheckAgainstModel(const Session& session, uint32_t initial_seq) {
  const uint32_t contiguous = session.ContiguousHandshakeBytes();
  if (contiguous > sensor::dp::kReassemblyBytes) __builtin_trap();
  // Empty segments are not stored and set no base.
  if (!session.handshake_base_known) return;
  const size_t base = IndexOf(session.handshake_base_seq, initial_seq);
  if (base + contiguous > SentBytes::kSize) __builtin_trap();
  const auto* known = sent.known.begin() + base;
  if (std::find(known, known + contiguous, false) != known + contiguous) __builtin_trap();
  if (std::memcmp(session.handshake, sent.bytes.data() + base, contiguous) != 0) {
    __builtin_trap();
  }
  // Every stored segment is a range of the session, so the prefix ends at the first gap in
  // what was sent.
  if (base + contiguous < SentBytes::kSize && sent.known[base + contiguous]) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static sensor::dp::SessionTable table(1);
  sensor::dp::Flow flow{};
  Session* session = table.Acquire(flow);
  if (session == nullptr) __builtin_trap();

  FuzzedDataProvider input(data, size);
  const uint32_t initial_seq = input.ConsumeIntegral<uint32_t>();
  sent.Clear();
  while (input.remaining_bytes() > 0) {
    const auto offset = input.ConsumeIntegral<int16_t>();
    const uint32_t length = input.ConsumeIntegral<uint16_t>() % kMaxSegmentLength;
    const std::vector<uint8_t> payload = input.ConsumeBytes<uint8_t>(length);
    const uint32_t seq = initial_seq + static_cast<uint32_t>(static_cast<int32_t>(offset));
    if (!session->StoreHandshakeSegment(seq, reinterpret_cast<const std::byte*>(payload.data()),
                                        static_cast<uint32_t>(payload.size()))) {
      break;  // The worker gives up on the handshake here.
    }
    sent.Store(IndexOf(seq, initial_seq), payload);
    CheckAgainstModel(*session, initial_seq);
    const uint32_t contiguous = session->ContiguousHandshakeBytes();
    if (contiguous == 0) continue;
    if (ParsePrefix(std::span<const std::byte>(session->handshake, contiguous))) break;
  }
  table.Release(flow);
  return 0;
}
