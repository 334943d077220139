#include "core/backend.h"

#include <array>

#include "core/cpu/cpu_backend.h"
#ifdef STRATA_HAS_CUDA
#include "core/cuda/cuda_api.h"
#endif

namespace strata {

namespace {

std::array<Backend*, 2>& registry() {
  static cpu::CpuBackend cpu_backend;
  static std::array<Backend*, 2> backends{&cpu_backend, nullptr};
  return backends;
}

}  // namespace

Backend& backend_for(Device device) {
  if (Backend* backend = registry()[size_t(device.type)]) return *backend;
#ifdef STRATA_HAS_CUDA
  // One backend per GPU, created on first use; throws "no CUDA device: ..."
  // when there is none.
  if (device.type == DeviceType::cuda) return cuda::backend(device.index);
#endif
  fail("backend", "no backend for device {} (built without CUDA)", device.str());
}

void register_backend(DeviceType type, Backend* backend) { registry()[size_t(type)] = backend; }

int64_t gemm_operand_extent(bool trans, int64_t rows, int64_t cols, int64_t ld, int64_t batch, int64_t stride) {
  const int64_t stored_rows = trans ? cols : rows, stored_cols = trans ? rows : cols;
  return (batch - 1) * stride + (stored_rows - 1) * ld + stored_cols;
}

Allocator& pinned_host_allocator() {
#ifdef STRATA_HAS_CUDA
  // Asking the driver once: without a GPU, page-locking buys nothing.
  static const bool have_gpu = !cuda::list_devices().empty();
  if (have_gpu) return cuda::pinned_allocator();
#endif
  return cpu_allocator();
}

bool pinned_memory_available() { return &pinned_host_allocator() != &cpu_allocator(); }

}  // namespace strata
