// Per-flow state that only some flows need (payload streams, handshake reassembly),
// kept apart from the flow table so that a plain flow stays within two cache lines.
//
// Owned by one worker lcore; a fixed pool allocated at startup. When the pool is empty
// the flow goes without (counted by the caller), it never waits or allocates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dataplane/proto/quic_initial.h"

struct hs_stream;

namespace sensor::dp {

struct Flow;

// Bytes kept to reassemble a TLS ClientHello or an HTTP request header, which may span
// several TCP segments.
inline constexpr size_t kReassemblyBytes = 16 * 1024;

struct Session {
  Flow* flow = nullptr;
  hs_stream* streams[2] = {};  // Hyperscan stream per direction, null when closed.
  uint32_t next_seq[2] = {};   // Next expected TCP sequence number per direction.
  uint64_t scanned[2] = {};    // Stream bytes scanned per direction.
  bool seq_known[2] = {};
  bool stream_done[2] = {};  // Depth reached or stream could not be opened.
  // Client-to-server handshake reassembly (TLS ClientHello or HTTP request header):
  // segments are placed by sequence number, so they may arrive in any order.
  static constexpr int kMaxRanges = 8;
  struct Range {
    uint32_t begin = 0;  // Offsets into `handshake`.
    uint32_t end = 0;
  };
  bool handshake_done = false;
  bool handshake_base_known = false;
  // Client segments stored while the bytes at handshake[0] could not start a ClientHello
  // or a request, because an earlier segment may still arrive out of order.
  uint8_t segments_without_start = 0;
  uint32_t handshake_base_seq = 0;  // Sequence number of handshake[0].
  uint8_t range_count = 0;
  std::array<Range, kMaxRanges> ranges{};
  std::byte handshake[kReassemblyBytes];
  // QUIC: Initial packets of the client, until the ClientHello is read.
  bool quic_done = false;
  QuicInitialState quic;

  // Stores a client segment; returns false if it cannot be placed (too far out of order
  // or beyond kReassemblyBytes), after which the caller gives up on the handshake.
  bool StoreHandshakeSegment(uint32_t seq, const std::byte* data, uint32_t length);
  // Bytes available without a gap from handshake[0].
  uint32_t ContiguousHandshakeBytes() const;
};

class SessionTable {
 public:
  explicit SessionTable(uint32_t capacity);

  // Returns a fresh session bound to `flow` and sets flow's index, or null when full.
  Session* Acquire(Flow& flow);
  Session* Get(const Flow& flow);
  // Returns the flow's session to the pool; the caller closes its streams first.
  void Release(Flow& flow);

  uint32_t in_use() const { return capacity_ - static_cast<uint32_t>(free_.size()); }
  uint32_t capacity() const { return capacity_; }
  // Calls `visit(Session&)` for every session in use.
  template <typename Visit>
  void ForEach(Visit&& visit) {
    for (Session& session : sessions_) {
      if (session.flow != nullptr) visit(session);
    }
  }

 private:
  uint32_t capacity_;
  std::vector<Session> sessions_;
  std::vector<uint32_t> free_;
};

}  // namespace sensor::dp
