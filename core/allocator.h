#pragma once
// Allocators hand out the bytes behind every Storage. The CPU one caches
// freed blocks by size class, so that a training step that repeats the same
// shapes allocates nothing new from the system after its first iterations.
// Its counters are public: tests read them to prove exactly that.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace strata {

struct AllocatorStats {
  uint64_t requests = 0;        // allocate() calls
  uint64_t cache_hits = 0;      // requests served from the cache
  uint64_t system_allocs = 0;   // blocks taken from the system
  uint64_t system_frees = 0;    // blocks given back to the system
  size_t bytes_in_use = 0;      // rounded bytes held by live storages
  size_t peak_bytes_in_use = 0; // high-water mark of bytes_in_use
  size_t bytes_reserved = 0;    // bytes taken from the system, in use or cached
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* ptr, size_t nbytes) = 0;
  virtual AllocatorStats stats() const = 0;
  virtual void reset_peak() = 0;
  virtual void empty_cache() = 0;  // returns every cached block to the system
};

// The cache every device's allocator shares: a freed block goes to a free
// list per size class and the next request of that class takes it back, so
// a training step that repeats its shapes stops asking the system for
// memory after its first iterations. Blocks are never split or merged: the
// size classes bound the waste to 25%. A device supplies how it rounds
// sizes and how it gets and returns memory; the hooks let the CPU poison
// cached bytes under AddressSanitizer.
class CachingAllocator : public Allocator {
 public:
  void* allocate(size_t nbytes) final;
  void deallocate(void* ptr, size_t nbytes) final;
  AllocatorStats stats() const final;
  void reset_peak() final;
  void empty_cache() final;

 protected:
  virtual size_t size_class(size_t nbytes) const = 0;
  // Called with the cache's lock held; may call release_cached() and retry.
  virtual void* system_allocate(size_t size) = 0;
  virtual void system_free(void* ptr, size_t size) = 0;
  // A block leaves the cache for a request of nbytes (of its size class `size`) ...
  virtual void on_hand_out(void* /*ptr*/, size_t /*nbytes*/, size_t /*size*/) {}
  // ... and a block of `size` bytes enters it.
  virtual void on_cache(void* /*ptr*/, size_t /*size*/) {}

  // Returns every cached block to the system; the lock must be held.
  void release_cached();
  // The statistics while the lock is held (for error messages).
  const AllocatorStats& stats_locked() const { return stats_; }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_blocks_;
  AllocatorStats stats_;
};

// The process-wide caching allocator for host memory (64-byte aligned).
Allocator& cpu_allocator();

// Page-locked host memory: the CUDA backend's (cudaHostAlloc) when a GPU is
// present, else cpu_allocator() itself. pinned_memory_available() says which.
Allocator& pinned_host_allocator();
bool pinned_memory_available();

// Size classes: four per power of two (1, 1.25, 1.5, 1.75 x 2^k), at least
// 64 bytes, rounded up to a multiple of 64 (the alignment). Wastes at most
// 25% beyond that rounding and lets a slightly different size reuse a block.
size_t allocator_size_class(size_t nbytes);

}  // namespace strata
