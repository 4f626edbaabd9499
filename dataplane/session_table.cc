#include "dataplane/session_table.h"

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
  session.handshake_base_seq = 0;
  session.handshake_length = 0;
  session.handshake_seen = 0;
  flow.session = index + 1;
  return &session;
}

Session* SessionTable::Get(const Flow& flow) {
  if (flow.session == 0) return nullptr;
  return &sessions_[flow.session - 1];
}

void SessionTable::Release(Flow& flow) {
  if (flow.session == 0) return;
  sessions_[flow.session - 1].flow = nullptr;
  free_.push_back(flow.session - 1);
  flow.session = 0;
}

}  // namespace sensor::dp
