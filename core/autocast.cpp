#include "core/autocast.h"

namespace strata {

namespace {
thread_local Precision current_precision = Precision::f32;
}  // namespace

const char* precision_name(Precision precision) { return precision == Precision::bf16 ? "bf16" : "f32"; }

std::optional<Precision> parse_precision(std::string_view text) {
  if (text == "f32") return Precision::f32;
  if (text == "bf16") return Precision::bf16;
  return std::nullopt;
}

Precision autocast_precision() { return current_precision; }

Autocast::Autocast(Precision precision) : previous_(current_precision) { current_precision = precision; }

Autocast::~Autocast() { current_precision = previous_; }

}  // namespace strata
