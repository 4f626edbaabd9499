// Fixed pool of Hyperscan stream-state blocks for one worker, so that opening a stream
// per TCP flow direction never calls malloc on the fast path.
//
// Hyperscan takes one process-wide stream allocator; InstallStreamAllocator() points it
// at the pool bound to the calling thread (BindToThisThread), and falls back to malloc
// on threads without a pool (the control thread, tests). A pool is used by one worker
// only and takes no locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace sensor::dp {

class StreamStatePool {
 public:
  // `block_bytes` must hold a stream's state for every database the worker will use;
  // a larger request fails and is counted in oversized().
  StreamStatePool(size_t block_bytes, uint32_t blocks);

  void* Allocate(size_t bytes);
  // Returns false if `pointer` does not belong to this pool.
  bool Free(void* pointer);

  uint64_t exhausted() const { return exhausted_; }
  uint64_t oversized() const { return oversized_; }
  uint32_t in_use() const { return in_use_; }
  size_t block_bytes() const { return block_bytes_; }

  static void BindToThisThread(StreamStatePool* pool);
  // Installs the dispatching allocator into Hyperscan; call once at startup.
  static void InstallStreamAllocator();

 private:
  size_t block_bytes_;
  uint32_t blocks_;
  std::vector<std::byte> storage_;
  std::byte* arena_ = nullptr;  // First aligned byte of storage_.
  std::vector<uint32_t> free_;
  uint32_t in_use_ = 0;
  uint64_t exhausted_ = 0;
  uint64_t oversized_ = 0;
};

}  // namespace sensor::dp
