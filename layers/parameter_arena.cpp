#include "layers/parameter_arena.h"

#include <unordered_set>

#include "autograd/node.h"
#include "core/ops.h"

namespace strata {

bool default_decay(const std::string&, const Tensor& param) { return param.dim() >= 2; }

namespace {

std::vector<NamedTensor> trainable(const Module& module) {
  std::vector<NamedTensor> out;
  for (auto& [name, t] : module.named_parameters()) {
    if (t.requires_grad()) out.emplace_back(name, t);
  }
  return out;
}

// Points `param`'s impl at a contiguous slice of `arena` (same storage).
void rebind(const Tensor& param, const Tensor& arena, int64_t offset) {
  TensorImpl* impl = param.impl();
  impl->storage = arena.impl()->storage;
  impl->offset = arena.offset() + offset;
  impl->strides = contiguous_strides(impl->shape);
}

Tensor arena_view(const Tensor& arena, const Shape& shape, int64_t offset) {
  return as_strided(arena, shape, contiguous_strides(shape), arena.offset() + offset);
}

}  // namespace

ParameterArena::ParameterArena(const Module& module, DecayPredicate decay)
    : ParameterArena(trainable(module), std::move(decay)) {}

ParameterArena::ParameterArena(const std::vector<NamedTensor>& params, DecayPredicate decay) {
  std::unordered_set<const TensorImpl*> seen;
  std::vector<ParameterSegment> decayed, rest;
  for (const auto& [name, p] : params) {
    if (!p.defined()) fail("ParameterArena", "parameter '{}' is undefined", name);
    if (p.dtype() != DType::f32) {
      fail("ParameterArena", "parameter '{}' is {}; the arena holds f32 only", name, dtype_name(p.dtype()));
    }
    if (!p.is_leaf()) fail("ParameterArena", "parameter '{}' is not a leaf", name);
    if (p.device() != params[0].second.device()) {
      fail("ParameterArena", "parameter '{}' is on {}, others on {}", name, p.device().str(),
           params[0].second.device().str());
    }
    if (!seen.insert(p.impl()).second) fail("ParameterArena", "parameter '{}' is listed twice", name);
    bool d = decay(name, p);
    (d ? decayed : rest).push_back({name, p, 0, p.numel(), d});
  }
  decayed.insert(decayed.end(), rest.begin(), rest.end());
  build(std::move(decayed));
}

void ParameterArena::build(std::vector<ParameterSegment> segments) {
  int64_t total = 0;
  for (auto& s : segments) {
    s.offset = total;
    total += s.numel;
    if (s.decay) decay_numel_ = total;
  }
  TensorOptions options{DType::f32, segments.empty() ? Device::cpu() : segments[0].param.device()};
  params_ = empty({total}, options);
  grads_ = zeros({total}, options);

  NoGradGuard no_grad;
  for (const auto& s : segments) {
    const Shape& shape = s.param.shape();
    ops::copy_(arena_view(params_, shape, s.offset), s.param);
    Tensor grad = arena_view(grads_, shape, s.offset);
    if (Tensor old = s.param.grad(); old.defined()) ops::copy_(grad, old);  // keep pending grads
    rebind(s.param, params_, s.offset);
    s.param.set_grad(grad);
  }
  segments_ = std::move(segments);
}

void ParameterArena::zero_grad() { ops::fill_(grads_, 0.0); }

void ParameterArena::check_bound() const {
  for (const auto& s : segments_) {
    const TensorImpl* p = s.param.impl();
    if (p->storage != params_.impl()->storage || p->offset != params_.offset() + s.offset) {
      fail("ParameterArena", "parameter '{}' no longer lives in the arena", s.name);
    }
    const TensorImpl* g = p->grad.get();
    if (!g || g->storage != grads_.impl()->storage || g->offset != grads_.offset() + s.offset) {
      fail("ParameterArena", "the .grad of '{}' is no longer a view into the gradient arena "
           "(was it reset or replaced?)", s.name);
    }
  }
}

}  // namespace strata
