#pragma once
// Allocators hand out the bytes behind every Storage. The CPU one caches
// freed blocks by size class, so that a training step that repeats the same
// shapes allocates nothing new from the system after its first iterations.
// Its counters are public: tests read them to prove exactly that.
#include <cstddef>
#include <cstdint>

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

// The process-wide caching allocator for host memory (64-byte aligned).
Allocator& cpu_allocator();

// Size classes: four per power of two (1, 1.25, 1.5, 1.75 x 2^k), at least
// 64 bytes, rounded up to a multiple of 64 (the alignment). Wastes at most
// 25% beyond that rounding and lets a slightly different size reuse a block.
size_t allocator_size_class(size_t nbytes);

}  // namespace strata
