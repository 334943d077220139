#pragma once
// Element types. f32 trains, f64 checks gradients and references, bf16 is the
// mixed-precision storage type, i32/i64 hold indices and labels, u8 images.
#include <cstdint>
#include <cstring>
#include <string_view>

namespace strata {

enum class DType : uint8_t { f32, f64, bf16, i32, i64, u8 };

size_t dtype_size(DType dtype);
std::string_view dtype_name(DType dtype);
bool is_floating(DType dtype);  // f32, f64, bf16

// bfloat16: the top 16 bits of an IEEE f32. Conversion rounds to nearest even.
struct bf16 {
  uint16_t bits = 0;
};

inline float bf16_to_float(bf16 value) {
  uint32_t bits = uint32_t(value.bits) << 16;
  float result;
  std::memcpy(&result, &bits, sizeof(result));
  return result;
}

inline bf16 float_to_bf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu)) {
    return bf16{uint16_t((bits >> 16) | 0x40)};  // keep NaN a (quiet) NaN
  }
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return bf16{uint16_t((bits + rounding) >> 16)};
}

// The C++ type behind each dtype, for kernels templated on the element type.
template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<bf16>() { return DType::bf16; }
template <> constexpr DType dtype_of<int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::i64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::u8; }

}  // namespace strata
