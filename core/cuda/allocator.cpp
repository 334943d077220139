// The caching device allocator: freed blocks go to a free list per size
// class (allocator_size_class, as on the CPU, rounded to 512 bytes) and are
// handed out again, so a training step that repeats its shapes calls
// cudaMalloc only during its first iterations. Blocks are never split or
// merged: simple, and the size classes bound the waste to 25%.
//
// Safe without events because the backend runs everything on one stream:
// a block freed by the host is reused only by work queued later on that
// stream. When cudaMalloc fails, every cached block is released and the
// allocation tried once more before reporting out of memory.
//
// Pinned host memory (TensorOptions::pinned) has a cache of its own with
// the CPU's size classes. A pinned block can be freed while a copy from it
// is still queued; the backend holds such sources until their copy ends
// (CudaBackend::hold_until_copied), so the cache never hands one out early.
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/cuda/cuda_api.h"
#include "core/cuda/cuda_backend.h"
#include "core/cuda/kernels.h"

namespace strata::cuda {

namespace {

constexpr size_t kDeviceAlignment = 512;

size_t device_size_class(size_t nbytes) {
  size_t size = allocator_size_class(nbytes);
  return (size + kDeviceAlignment - 1) / kDeviceAlignment * kDeviceAlignment;
}

class CachingCudaAllocator final : public CachingAllocator {
 public:
  explicit CachingCudaAllocator(int device) : device_(device) {}

 protected:
  size_t size_class(size_t nbytes) const override { return device_size_class(nbytes); }

  // cudaMalloc on this allocator's device; on failure, frees the cache and retries once.
  void* system_allocate(size_t size) override {
    int previous = -1;
    STRATA_CUDA_CHECK(cudaGetDevice(&previous));
    if (previous != device_) STRATA_CUDA_CHECK(cudaSetDevice(device_));
    void* ptr = nullptr;
    cudaError_t status = cudaMalloc(&ptr, size);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      release_cached();
      status = cudaMalloc(&ptr, size);
    }
    if (previous != device_) cudaSetDevice(previous);
    if (status != cudaSuccess) {
      cudaGetLastError();
      throw Error(fmt::format("cuda allocator: cannot allocate {} bytes on cuda:{} ({} reserved, {} in use): {}", size,
                              device_, stats_locked().bytes_reserved, stats_locked().bytes_in_use,
                              cudaGetErrorString(status)));
    }
    return ptr;
  }

  // On the block's own device, which cudaFree synchronises: no queued kernel
  // still uses a block it frees. (empty_cache() may run while another GPU
  // is current.) A failure here is left for nobody: clear it, so that the
  // next launch check does not report it against an unrelated kernel.
  void system_free(void* ptr, size_t /*size*/) override {
    int previous = -1;
    cudaGetDevice(&previous);
    if (previous != device_) cudaSetDevice(device_);
    cudaFree(ptr);
    if (previous != device_ && previous >= 0) cudaSetDevice(previous);
    cudaGetLastError();
  }

 private:
  int device_;
};

class CachingPinnedAllocator final : public CachingAllocator {
 protected:
  size_t size_class(size_t nbytes) const override { return allocator_size_class(nbytes); }

  void* system_allocate(size_t size) override {
    void* ptr = nullptr;
    cudaError_t status = cudaHostAlloc(&ptr, size, cudaHostAllocDefault);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      release_cached();
      status = cudaHostAlloc(&ptr, size, cudaHostAllocDefault);
    }
    if (status != cudaSuccess) {
      cudaGetLastError();
      throw Error(fmt::format("cuda allocator: cannot pin {} bytes of host memory ({} reserved, {} in use): {}", size,
                              stats_locked().bytes_reserved, stats_locked().bytes_in_use, cudaGetErrorString(status)));
    }
    return ptr;
  }

  void system_free(void* ptr, size_t /*size*/) override { cudaFreeHost(ptr); }
};

}  // namespace

Allocator& pinned_allocator() {
  static auto* allocator = new CachingPinnedAllocator();  // never destroyed, like the others
  return *allocator;
}

Allocator& device_allocator(int device) {
  static std::mutex mutex;
  // Never destroyed, like cpu_allocator(): storages may outlive main().
  static auto* allocators = new std::vector<std::unique_ptr<CachingCudaAllocator>>();
  std::lock_guard<std::mutex> lock(mutex);
  if (allocators->size() <= size_t(device)) allocators->resize(size_t(device) + 1);
  auto& slot = (*allocators)[size_t(device)];
  if (!slot) slot = std::make_unique<CachingCudaAllocator>(device);
  return *slot;
}

}  // namespace strata::cuda
