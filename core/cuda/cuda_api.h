#pragma once
// The CUDA backend's face to the rest of Strata (core/backend.cpp,
// tools/info.cpp). Plain C++: including it needs no CUDA headers. Exists
// only in builds with STRATA_HAS_CUDA (CMake option STRATA_CUDA).
#include <cstddef>
#include <string>
#include <vector>

namespace strata {
class Allocator;
class Backend;
}

namespace strata::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  size_t total_memory = 0;  // bytes
  int major = 0, minor = 0; // compute capability
  int multiprocessors = 0;
};

// The CUDA devices this process sees. Empty when there are none; then
// `reason` (when given) says why, from cudaGetErrorString.
std::vector<DeviceInfo> list_devices(std::string* reason = nullptr);

// The backend of device `index`, created on first use (a stream, cuBLASLt
// handles, a caching allocator). Throws strata::Error
// "no CUDA device: <reason>" when the device does not exist.
Backend& backend(int index);

// The caching allocator of page-locked host memory (cudaHostAlloc), for
// TensorOptions::pinned. Only called when a device exists.
Allocator& pinned_allocator();

}  // namespace strata::cuda
