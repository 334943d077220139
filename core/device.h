#pragma once
// Where a tensor's bytes live: the CPU or one CUDA device. backend_for()
// (core/backend.h) finds each device's Backend; the CUDA one exists in
// builds with STRATA_HAS_CUDA (CMake option STRATA_CUDA) and throws
// "no CUDA device: ..." when used on a machine without a GPU.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata {

enum class DeviceType : uint8_t { cpu, cuda };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  static Device cpu() { return {DeviceType::cpu, 0}; }
  static Device cuda(int index = 0) { return {DeviceType::cuda, index}; }
  bool operator==(const Device&) const = default;
  std::string str() const {
    return type == DeviceType::cpu ? "cpu" : "cuda:" + std::to_string(index);
  }
};

// "cpu", "cuda" (device 0) or "cuda:N", as str() writes them; nullopt for
// anything else, so that a config reader can name the file, line and key.
inline std::optional<Device> parse_device(std::string_view text) {
  if (text == "cpu") return Device::cpu();
  if (text == "cuda") return Device::cuda(0);
  if (text.substr(0, 5) != "cuda:" || text.size() == 5 || text.size() > 8) return std::nullopt;
  int index = 0;
  for (char c : text.substr(5)) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + (c - '0');
  }
  return Device::cuda(index);
}

}  // namespace strata
