// The CUDA runtime side of the backend: error reporting, device discovery,
// one CudaBackend per device (created on first use), its stream and handles.
#include <memory>
#include <mutex>
#include <vector>

#include "core/cuda/cuda_api.h"
#include "core/cuda/cuda_backend.h"
#include "core/cuda/kernels.h"

namespace strata::cuda {

void fail_cuda(cudaError_t status, const char* what, const char* file, int line) {
  throw Error(fmt::format("cuda: {} failed: {} ({}:{})", what, cudaGetErrorString(status), file, line));
}

void fail_message(const char* message) { throw Error(fmt::format("cuda: {}", message)); }

namespace {

void check_blas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw Error(fmt::format("cuda: {} failed: {}", what, cublasGetStatusString(status)));
  }
}

constexpr size_t kLtWorkspaceBytes = size_t(32) << 20;  // cuBLASLt's recommendation for Hopper

}  // namespace

std::vector<DeviceInfo> list_devices(std::string* reason) {
  std::vector<DeviceInfo> devices;
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    if (reason) *reason = cudaGetErrorString(status);
    cudaGetLastError();  // clear the error so that later calls start clean
    return devices;
  }
  if (count == 0 && reason) *reason = "the CUDA runtime reports 0 devices";
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    devices.push_back({i, prop.name, prop.totalGlobalMem, prop.major, prop.minor, prop.multiProcessorCount});
  }
  return devices;
}

Backend& backend(int index) {
  static std::mutex mutex;
  // Never destroyed: tensors in static objects may outlive main(), and the
  // CUDA runtime may be torn down before static destructors run.
  static auto* backends = new std::vector<std::unique_ptr<CudaBackend>>();
  std::lock_guard<std::mutex> lock(mutex);
  if (index >= 0 && size_t(index) < backends->size() && (*backends)[size_t(index)]) return *(*backends)[size_t(index)];

  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    throw Error(fmt::format("no CUDA device: {}", cudaGetErrorString(status)));
  }
  if (index < 0 || index >= count) {
    throw Error(fmt::format("no CUDA device: cuda:{} requested, {} device{} present", index, count,
                            count == 1 ? "" : "s"));
  }
  if (backends->size() <= size_t(index)) backends->resize(size_t(index) + 1);
  (*backends)[size_t(index)] = std::make_unique<CudaBackend>(index);
  return *(*backends)[size_t(index)];
}

CudaBackend::CudaBackend(int device) : device_(device) {
  activate();
  STRATA_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  check_blas(cublasLtCreate(&lt_), "cublasLtCreate");
  check_blas(cublasCreate(&blas_), "cublasCreate");
  check_blas(cublasSetStream(blas_, stream_), "cublasSetStream");
  // Strict f32: no TF32 unless asked for, so results match the CPU to ~1e-6.
  check_blas(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
  workspace_bytes_ = kLtWorkspaceBytes;
  workspace_ = device_allocator(device_).allocate(workspace_bytes_);
}

CudaBackend::~CudaBackend() {
  // Only reached if a backend is ever destroyed before exit (it is not).
  device_allocator(device_).deallocate(workspace_, workspace_bytes_);
  cublasDestroy(blas_);
  cublasLtDestroy(lt_);
  cudaStreamDestroy(stream_);
}

void CudaBackend::activate() const {
  int current = -1;
  STRATA_CUDA_CHECK(cudaGetDevice(&current));
  if (current != device_) STRATA_CUDA_CHECK(cudaSetDevice(device_));
}

Allocator& CudaBackend::allocator() { return device_allocator(device_); }

}  // namespace strata::cuda
