#include "dataplane/pattern/stream_pool.h"

#include <hs/hs.h>

#include <cstdlib>

namespace sensor::dp {
namespace {

thread_local StreamStatePool* t_pool = nullptr;

void* AllocateStream(size_t bytes) {
  if (t_pool != nullptr) return t_pool->Allocate(bytes);
  return std::malloc(bytes);
}

void FreeStream(void* pointer) {
  if (pointer == nullptr) return;
  if (t_pool != nullptr && t_pool->Free(pointer)) return;
  std::free(pointer);
}

constexpr size_t kAlignment = 64;

}  // namespace

StreamStatePool::StreamStatePool(size_t block_bytes, uint32_t blocks)
    : block_bytes_((block_bytes + kAlignment - 1) / kAlignment * kAlignment),
      blocks_(blocks),
      storage_(block_bytes_ * blocks + kAlignment) {
  const auto base = reinterpret_cast<uintptr_t>(storage_.data());
  arena_ = storage_.data() + (kAlignment - base % kAlignment) % kAlignment;
  free_.reserve(blocks);
  for (uint32_t i = blocks; i > 0; --i) free_.push_back(i - 1);
}

void* StreamStatePool::Allocate(size_t bytes) {
  if (bytes > block_bytes_) {
    ++oversized_;
    return nullptr;
  }
  if (free_.empty()) {
    ++exhausted_;
    return nullptr;
  }
  const uint32_t index = free_.back();
  free_.pop_back();
  ++in_use_;
  return arena_ + static_cast<size_t>(index) * block_bytes_;
}

bool StreamStatePool::Free(void* pointer) {
  auto* byte = static_cast<std::byte*>(pointer);
  if (byte < arena_ || byte >= arena_ + block_bytes_ * blocks_) return false;
  free_.push_back(static_cast<uint32_t>((byte - arena_) / block_bytes_));
  --in_use_;
  return true;
}

void StreamStatePool::BindToThisThread(StreamStatePool* pool) { t_pool = pool; }

void StreamStatePool::InstallStreamAllocator() {
  hs_set_stream_allocator(AllocateStream, FreeStream);
}

}  // namespace sensor::dp
