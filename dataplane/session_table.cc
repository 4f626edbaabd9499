#include "dataplane/session_table.h"

#include <algorithm>
#include <cstring>

#include "dataplane/flow_table.h"

namespace sensor::dp {

SessionTable::SessionTable(uint32_t capacity) : capacity_(capacity), sessions_(capacity) {
  free_.reserve(capacity);
  for (uint32_t i = capacity; i > 0; --i) free_.push_back(i - 1);
}

Session* SessionTable::Acquire(Flow& flow) {
  if (free_.empty()) return nullptr;
  const uint32_t index = free_.back();
  free_.pop_back();
  Session& session = sessions_[index];
  session.flow = &flow;
  session.streams[0] = session.streams[1] = nullptr;
  session.next_seq[0] = session.next_seq[1] = 0;
  session.scanned[0] = session.scanned[1] = 0;
  session.seq_known[0] = session.seq_known[1] = false;
  session.stream_done[0] = session.stream_done[1] = false;
  session.handshake_done = false;
  session.handshake_base_known = false;
  session.segments_without_start = 0;
  session.handshake_base_seq = 0;
  session.range_count = 0;
  session.quic_done = false;
  session.quic = QuicInitialState{};
  flow.session = index + 1;
  return &session;
}

Session* SessionTable::Get(const Flow& flow) {
  if (flow.session == 0) return nullptr;
  return &sessions_[flow.session - 1];
}

bool Session::StoreHandshakeSegment(uint32_t seq, const std::byte* data, uint32_t length) {
  if (length == 0) return true;
  if (!handshake_base_known) {
    handshake_base_known = true;
    handshake_base_seq = seq;
  }
  int64_t offset = static_cast<int32_t>(seq - handshake_base_seq);
  if (offset < 0) {
    // A segment from before the first one seen: move what is stored up to make room.
    const uint32_t shift = static_cast<uint32_t>(-offset);
    uint32_t stored_end = 0;
    for (int i = 0; i < range_count; ++i) stored_end = std::max(stored_end, ranges[i].end);
    if (static_cast<uint64_t>(shift) + stored_end > kReassemblyBytes) return false;
    std::memmove(handshake + shift, handshake, stored_end);
    for (int i = 0; i < range_count; ++i) {
      ranges[i].begin += shift;
      ranges[i].end += shift;
    }
    handshake_base_seq = seq;
    offset = 0;
  }
  if (static_cast<uint64_t>(offset) + length > kReassemblyBytes) return false;
  if (range_count == kMaxRanges) return false;
  std::memcpy(handshake + offset, data, length);
  ranges[range_count++] = {static_cast<uint32_t>(offset), static_cast<uint32_t>(offset + length)};
  return true;
}

uint32_t Session::ContiguousHandshakeBytes() const {
  uint32_t end = 0;
  // Few ranges: repeat passes until no range extends the covered prefix.
  for (bool grew = true; grew;) {
    grew = false;
    for (int i = 0; i < range_count; ++i) {
      if (ranges[i].begin <= end && ranges[i].end > end) {
        end = ranges[i].end;
        grew = true;
      }
    }
  }
  return end;
}

void SessionTable::Release(Flow& flow) {
  if (flow.session == 0) return;
  sessions_[flow.session - 1].flow = nullptr;
  free_.push_back(flow.session - 1);
  flow.session = 0;
}

}  // namespace sensor::dp
