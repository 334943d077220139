#include "core/allocator.h"

#include <bit>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

// Under AddressSanitizer, cached blocks and the slack past each request are
// poisoned, so the cache hides no use-after-free or overflow from ASan.
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define STRATA_POISON(ptr, n) ASAN_POISON_MEMORY_REGION(ptr, n)
#define STRATA_UNPOISON(ptr, n) ASAN_UNPOISON_MEMORY_REGION(ptr, n)
#else
#define STRATA_POISON(ptr, n) ((void)(ptr), (void)(n))
#define STRATA_UNPOISON(ptr, n) ((void)(ptr), (void)(n))
#endif

namespace strata {

namespace {
constexpr size_t kAlignment = 64;
}

size_t allocator_size_class(size_t nbytes) {
  if (nbytes <= kAlignment) return kAlignment;
  size_t power = std::bit_floor(nbytes);
  size_t quarter = power / 4;
  size_t size = (nbytes + quarter - 1) / quarter * quarter;
  // aligned_alloc needs a multiple of the alignment.
  return (size + kAlignment - 1) / kAlignment * kAlignment;
}

void* CachingAllocator::allocate(size_t nbytes) {
  const size_t size = size_class(nbytes);
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.requests;
  void* ptr = nullptr;
  auto& bucket = free_blocks_[size];
  if (!bucket.empty()) {
    ptr = bucket.back();
    bucket.pop_back();
    ++stats_.cache_hits;
  } else {
    ptr = system_allocate(size);
    ++stats_.system_allocs;
    stats_.bytes_reserved += size;
  }
  on_hand_out(ptr, nbytes, size);
  stats_.bytes_in_use += size;
  if (stats_.bytes_in_use > stats_.peak_bytes_in_use) stats_.peak_bytes_in_use = stats_.bytes_in_use;
  return ptr;
}

void CachingAllocator::deallocate(void* ptr, size_t nbytes) {
  if (!ptr) return;
  const size_t size = size_class(nbytes);
  on_cache(ptr, size);
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.bytes_in_use -= size;
  free_blocks_[size].push_back(ptr);
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_bytes_in_use = stats_.bytes_in_use;
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_cached();
}

void CachingAllocator::release_cached() {
  for (auto& [size, blocks] : free_blocks_) {
    for (void* ptr : blocks) {
      system_free(ptr, size);
      ++stats_.system_frees;
      stats_.bytes_reserved -= size;
    }
    blocks.clear();
  }
}

namespace {

// Host memory from aligned_alloc. Under AddressSanitizer, cached blocks and
// the slack past each request are poisoned.
class CachingCpuAllocator final : public CachingAllocator {
 public:
  ~CachingCpuAllocator() override { empty_cache(); }

 protected:
  size_t size_class(size_t nbytes) const override { return allocator_size_class(nbytes); }

  void* system_allocate(size_t size) override {
    void* ptr = std::aligned_alloc(kAlignment, size);
    if (!ptr) throw std::bad_alloc();
    return ptr;
  }

  void system_free(void* ptr, size_t size) override {
    STRATA_UNPOISON(ptr, size);
    std::free(ptr);
  }

  void on_hand_out(void* ptr, size_t nbytes, size_t size) override {
    STRATA_UNPOISON(ptr, nbytes);
    STRATA_POISON(static_cast<char*>(ptr) + nbytes, size - nbytes);
  }

  void on_cache(void* ptr, size_t size) override { STRATA_POISON(ptr, size); }
};

}  // namespace

Allocator& cpu_allocator() {
  // Never destroyed: storages held by static objects may outlive main().
  static auto* allocator = new CachingCpuAllocator();
  return *allocator;
}

}  // namespace strata
