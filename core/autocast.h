#pragma once
// Mixed precision in the style of torch.autocast: inside an Autocast scope
// with Precision::bf16, every matrix product of f32 operands (ops::matmul,
// ops::matmul_out, and so their backward passes) rounds its operands to
// bfloat16 and accumulates the products in f32; its result stays f32.
// Everything else (layer norm, softmax, attention, losses, the optimizer)
// runs in f32, and parameters, gradients and optimizer state are f32 master
// copies: only the GEMMs, where tensor cores give bf16 its speed, change.
//
// The state is per thread. A training step enters the scope around its
// forward and backward (train.precision: bf16); f64 never changes, so
// gradient checks are unaffected.
#include <cstdint>
#include <optional>
#include <string_view>

namespace strata {

enum class Precision : uint8_t { f32, bf16 };

const char* precision_name(Precision precision);  // "f32" | "bf16"
std::optional<Precision> parse_precision(std::string_view text);

// The precision of f32 matrix products on this thread (f32 outside any scope).
Precision autocast_precision();

// Sets this thread's precision for its lifetime, then restores the previous one.
class Autocast {
 public:
  explicit Autocast(Precision precision);
  ~Autocast();
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  Precision previous_;
};

}  // namespace strata
