// Elementwise kernels: copy/cast, fill, random fills, unary and binary ops.
#include <cmath>
#include <type_traits>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/strided_loop.h"
#include "core/cpu/vector_math.h"

namespace strata::cpu {

namespace {

// Conversion through float/double for the cast in copy(); bf16 goes via f32.
template <typename To, typename From>
To convert(From value) {
  if constexpr (std::is_same_v<From, bf16>) {
    return convert<To>(bf16_to_float(value));
  } else if constexpr (std::is_same_v<To, bf16>) {
    return float_to_bf16(float(value));
  } else {
    return To(value);
  }
}

template <typename F>
void dispatch_any(DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32: f(float{}); return;
    case DType::f64: f(double{}); return;
    case DType::bf16: f(bf16{}); return;
    case DType::i32: f(int32_t{}); return;
    case DType::i64: f(int64_t{}); return;
    case DType::u8: f(uint8_t{}); return;
  }
}

// y = f(x) over same-shaped tensors with any strides.
template <typename T, typename F>
void map1(const Tensor& x, const Tensor& y, F f) {
  const T* px = static_cast<const T*>(x.raw_data());
  T* py = static_cast<T*>(y.raw_data());
  for_each_row<2>(y.shape(), {&y.strides(), &x.strides()}, [&](auto off, auto st, int64_t n) {
    T* o = py + off[0];
    const T* a = px + off[1];
    if (st[0] == 1 && st[1] == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * st[0]] = f(a[i * st[1]]);
    }
  });
}

// out = f(a, b) over same-shaped tensors with any strides (b often broadcast).
template <typename T, typename F>
void map2(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  T* po = static_cast<T*>(out.raw_data());
  for_each_row<3>(out.shape(), {&out.strides(), &a.strides(), &b.strides()}, [&](auto off, auto st, int64_t n) {
    T* o = po + off[0];
    const T* x = pa + off[1];
    const T* y = pb + off[2];
    if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
    } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
      const T yv = y[0];
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
    } else if (st[0] == 1 && st[1] == 0 && st[2] == 1) {
      const T xv = x[0];
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * st[0]] = f(x[i * st[1]], y[i * st[2]]);
    }
  });
}

constexpr double kSqrt2OverPi = 0.7978845608028654;  // sqrt(2/pi)
constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kInvSqrt2Pi = 0.3989422804014327;   // 1/sqrt(2 pi)

template <typename T>
T sigmoid(T x) { return T(1) / (T(1) + std::exp(-x)); }

// Calls body(f) with the functor computing op on one element.
template <typename T, typename Body>
void with_unary(UnaryOp op, T s, Body body) {
  switch (op) {
    case UnaryOp::neg: return body([](T x) { return -x; });
    case UnaryOp::exp: return body([](T x) { return std::exp(x); });
    case UnaryOp::log: return body([](T x) { return std::log(x); });
    case UnaryOp::sqrt: return body([](T x) { return std::sqrt(x); });
    case UnaryOp::rsqrt: return body([](T x) { return T(1) / std::sqrt(x); });
    case UnaryOp::tanh: return body([](T x) { return std::tanh(x); });
    case UnaryOp::sigmoid: return body([](T x) { return sigmoid(x); });
    case UnaryOp::relu: return body([](T x) { return x > T(0) ? x : T(0); });
    case UnaryOp::silu: return body([](T x) { return x * sigmoid(x); });
    case UnaryOp::gelu_erf:
      return body([](T x) { return T(0.5) * x * (T(1) + std::erf(x * T(kInvSqrt2))); });
    case UnaryOp::gelu_tanh:
      return body([](T x) {
        return T(0.5) * x * (T(1) + std::tanh(T(kSqrt2OverPi) * (x + T(0.044715) * x * x * x)));
      });
    case UnaryOp::pow_scalar: return body([s](T x) { return std::pow(x, s); });
    case UnaryOp::add_scalar: return body([s](T x) { return x + s; });
    case UnaryOp::mul_scalar: return body([s](T x) { return x * s; });
    case UnaryOp::abs: return body([](T x) { return std::abs(x); });
  }
}

// Calls body(f) with the functor computing dy * op'(x).
template <typename T, typename Body>
void with_unary_derivative(UnaryOp op, T s, Body body) {
  switch (op) {
    case UnaryOp::neg: return body([](T, T dy) { return -dy; });
    case UnaryOp::exp: return body([](T x, T dy) { return dy * std::exp(x); });
    case UnaryOp::log: return body([](T x, T dy) { return dy / x; });
    case UnaryOp::sqrt: return body([](T x, T dy) { return dy * T(0.5) / std::sqrt(x); });
    case UnaryOp::rsqrt: return body([](T x, T dy) { return dy * T(-0.5) / (x * std::sqrt(x)); });
    case UnaryOp::tanh:
      return body([](T x, T dy) {
        T t = std::tanh(x);
        return dy * (T(1) - t * t);
      });
    case UnaryOp::sigmoid:
      return body([](T x, T dy) {
        T g = sigmoid(x);
        return dy * g * (T(1) - g);
      });
    case UnaryOp::relu: return body([](T x, T dy) { return x > T(0) ? dy : T(0); });
    case UnaryOp::silu:
      return body([](T x, T dy) {
        T g = sigmoid(x);
        return dy * g * (T(1) + x * (T(1) - g));
      });
    case UnaryOp::gelu_erf:
      return body([](T x, T dy) {
        T cdf = T(0.5) * (T(1) + std::erf(x * T(kInvSqrt2)));
        T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
        return dy * (cdf + x * pdf);
      });
    case UnaryOp::gelu_tanh:
      return body([](T x, T dy) {
        T inner = T(kSqrt2OverPi) * (x + T(0.044715) * x * x * x);
        T t = std::tanh(inner);
        T dinner = T(kSqrt2OverPi) * (T(1) + T(3 * 0.044715) * x * x);
        return dy * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * dinner);
      });
    case UnaryOp::pow_scalar: return body([s](T x, T dy) { return dy * s * std::pow(x, s - T(1)); });
    case UnaryOp::add_scalar: return body([](T, T dy) { return dy; });
    case UnaryOp::mul_scalar: return body([s](T, T dy) { return dy * s; });
    case UnaryOp::abs: return body([](T x, T dy) { return x > T(0) ? dy : (x < T(0) ? -dy : T(0)); });
  }
}

template <typename T, typename Body>
void with_binary(BinaryOp op, Body body) {
  switch (op) {
    case BinaryOp::add: return body([](T a, T b) { return a + b; });
    case BinaryOp::sub: return body([](T a, T b) { return a - b; });
    case BinaryOp::mul: return body([](T a, T b) { return a * b; });
    case BinaryOp::div: return body([](T a, T b) { return a / b; });
  }
}

// Fills a contiguous tensor from Philox blocks: element i takes lane i % 4 of
// block offset + i / 4, which is what makes it thread-count independent.
template <typename T, typename F>
void fill_from_philox(const Tensor& dst, PhiloxState rng, F value_of_block_lane) {
  T* p = static_cast<T*>(dst.raw_data());
  const int64_t n = dst.numel();
  const int64_t blocks = (n + 3) / 4;
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    std::array<uint32_t, 4> bits = philox4x32(rng.offset + uint64_t(blk), 0, rng.seed);
    for (int lane = 0; lane < 4 && blk * 4 + lane < n; ++lane) {
      p[blk * 4 + lane] = T(value_of_block_lane(bits, lane));
    }
  }
}

}  // namespace

Allocator& CpuBackend::allocator() { return cpu_allocator(); }

namespace {

// The iteration order for a copy. When the destination's innermost run is
// short (a permuted view such as Monarch's interleave), walking the source's
// contiguous dim innermost instead turns many tiny rows into long ones.
struct CopyOrder {
  Shape shape, dst_strides, src_strides;
};

CopyOrder copy_order(const Tensor& src, const Tensor& dst) {
  CopyOrder o{dst.shape(), dst.strides(), src.strides()};
  StridedLayout<2> layout = coalesce<2>(o.shape, {&o.dst_strides, &o.src_strides});
  constexpr int64_t kShortRun = 16;
  if (layout.shape.back() >= kShortRun) return o;
  // The longest dim along which the source is contiguous, moved last.
  int64_t best = -1;
  for (size_t d = 0; d < o.shape.size(); ++d) {
    if (o.src_strides[d] == 1 && o.shape[d] > (best < 0 ? kShortRun - 1 : o.shape[size_t(best)])) best = int64_t(d);
  }
  if (best < 0) return o;
  for (Shape* v : {&o.shape, &o.dst_strides, &o.src_strides}) {
    int64_t moved = (*v)[size_t(best)];
    v->erase(v->begin() + best);
    v->push_back(moved);
  }
  return o;
}

}  // namespace

void CpuBackend::copy(const Tensor& src, const Tensor& dst) {
  const CopyOrder order = copy_order(src, dst);
  dispatch_any(src.dtype(), [&](auto s) {
    using S = decltype(s);
    dispatch_any(dst.dtype(), [&](auto d) {
      using D = decltype(d);
      const S* ps = static_cast<const S*>(src.raw_data());
      D* pd = static_cast<D*>(dst.raw_data());
      for_each_row<2>(order.shape, {&order.dst_strides, &order.src_strides}, [&](auto off, auto st, int64_t n) {
        D* out = pd + off[0];
        const S* in = ps + off[1];
        if (st[0] == 1 && st[1] == 1) {
#pragma omp simd
          for (int64_t i = 0; i < n; ++i) out[i] = convert<D>(in[i]);
        } else {
          for (int64_t i = 0; i < n; ++i) out[i * st[0]] = convert<D>(in[i * st[1]]);
        }
      });
    });
  });
}

void CpuBackend::fill(const Tensor& dst, double value) {
  dispatch_any(dst.dtype(), [&](auto d) {
    using D = decltype(d);
    D v = convert<D>(value);
    D* p = static_cast<D*>(dst.raw_data());
    for_each_row<1>(dst.shape(), {&dst.strides()}, [&](auto off, auto st, int64_t n) {
      for (int64_t i = 0; i < n; ++i) p[off[0] + i * st[0]] = v;
    });
  });
}

void CpuBackend::uniform(const Tensor& dst, double low, double high, PhiloxState rng) {
  dispatch_floating(dst.dtype(), "uniform", [&](auto t) {
    using T = decltype(t);
    fill_from_philox<T>(dst, rng, [&](const std::array<uint32_t, 4>& bits, int lane) {
      return low + (high - low) * double(uint_to_unit_float(bits[lane]));
    });
  });
}

void CpuBackend::normal(const Tensor& dst, double mean, double std, PhiloxState rng) {
  // Box-Muller: lanes (0, 1) and (2, 3) of each block give two normals each.
  dispatch_floating(dst.dtype(), "normal", [&](auto t) {
    using T = decltype(t);
    fill_from_philox<T>(dst, rng, [&](const std::array<uint32_t, 4>& bits, int lane) {
      int pair = lane & ~1;
      double u1 = uint_to_unit_float(bits[pair]);
      double u2 = uint_to_unit_float(bits[pair + 1]);
      double radius = std::sqrt(-2.0 * std::log(u1));
      double angle = 2.0 * M_PI * u2;
      return mean + std * radius * ((lane & 1) ? std::sin(angle) : std::cos(angle));
    });
  });
}

void CpuBackend::bernoulli(const Tensor& dst, double p, double value, PhiloxState rng) {
  dispatch_floating(dst.dtype(), "bernoulli", [&](auto t) {
    using T = decltype(t);
    fill_from_philox<T>(dst, rng, [&](const std::array<uint32_t, 4>& bits, int lane) {
      return double(uint_to_unit_float(bits[lane])) <= p ? value : 0.0;
    });
  });
}

void CpuBackend::unary(UnaryOp op, double scalar, const Tensor& x, const Tensor& y) {
  dispatch_floating(x.dtype(), "unary", [&](auto t) {
    using T = decltype(t);
    with_unary<T>(op, T(scalar), [&](auto f) { map1<T>(x, y, f); });
  });
}

void CpuBackend::unary_backward(UnaryOp op, double scalar, const Tensor& x, const Tensor& dy, const Tensor& dx) {
  dispatch_floating(x.dtype(), "unary_backward", [&](auto t) {
    using T = decltype(t);
    with_unary_derivative<T>(op, T(scalar), [&](auto f) { map2<T>(x, dy, dx, f); });
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_floating(out.dtype(), "binary", [&](auto t) {
    using T = decltype(t);
    with_binary<T>(op, [&](auto f) { map2<T>(a, b, out, f); });
  });
}

void CpuBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_floating(out.dtype(), "where", [&](auto t) {
    using T = decltype(t);
    const uint8_t* pc = static_cast<const uint8_t*>(cond.raw_data());
    const T* pa = static_cast<const T*>(a.raw_data());
    const T* pb = static_cast<const T*>(b.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    for_each_row<4>(out.shape(), {&out.strides(), &cond.strides(), &a.strides(), &b.strides()},
                    [&](auto off, auto st, int64_t n) {
                      for (int64_t i = 0; i < n; ++i) {
                        po[off[0] + i * st[0]] =
                            pc[off[1] + i * st[1]] ? pa[off[2] + i * st[2]] : pb[off[3] + i * st[3]];
                      }
                    });
  });
}

}  // namespace strata::cpu
