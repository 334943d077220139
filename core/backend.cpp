#include "core/backend.h"

#include <array>

#include "core/cpu/cpu_backend.h"

namespace strata {

namespace {

std::array<Backend*, 2>& registry() {
  static cpu::CpuBackend cpu_backend;
  static std::array<Backend*, 2> backends{&cpu_backend, nullptr};
  return backends;
}

}  // namespace

Backend& backend_for(Device device) {
  Backend* backend = registry()[size_t(device.type)];
  if (!backend) fail("backend", "no backend for device {} (built without CUDA or no GPU present)", device.str());
  return *backend;
}

void register_backend(DeviceType type, Backend* backend) { registry()[size_t(type)] = backend; }

}  // namespace strata
