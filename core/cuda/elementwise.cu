// Elementwise kernels: copy/cast, fill, unary ops and their derivatives,
// binary ops, where.
//
// Shapes: every operand has the output's shape (broadcast inputs have stride
// 0); the geometry (Strided, kernels.h) carries the merged shape and each
// operand's strides. One thread per output element in a grid-stride loop;
// when every operand is dense the element index is the offset directly.
// The math mirrors core/cpu/elementwise.cpp formula by formula.
#include "core/cuda/common.cuh"

namespace strata::cuda {

namespace {

// The offset of operand k for element i.
__device__ inline int64_t offset_of(const Strided& g, int k, int64_t i) {
  return g.all_contiguous ? i : strided_offset(g, k, i);
}

#define STRATA_GRID_STRIDE_LOOP(i, n) \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); i += int64_t(gridDim.x) * blockDim.x)

constexpr double kSqrt2OverPi = 0.7978845608028654;  // sqrt(2/pi)
constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kInvSqrt2Pi = 0.3989422804014327;   // 1/sqrt(2 pi)

template <typename T>
__device__ inline T sigmoid(T x) { return T(1) / (T(1) + exp(-x)); }

// op(x); s is the scalar of pow_scalar / add_scalar / mul_scalar.
template <typename T>
__device__ inline T unary_value(Unary op, T s, T x) {
  switch (op) {
    case Unary::neg: return -x;
    case Unary::exp: return exp(x);
    case Unary::log: return log(x);
    case Unary::sqrt: return sqrt(x);
    case Unary::rsqrt: return T(1) / sqrt(x);
    case Unary::tanh: return tanh(x);
    case Unary::sigmoid: return sigmoid(x);
    case Unary::relu: return x > T(0) ? x : T(0);
    case Unary::silu: return x * sigmoid(x);
    case Unary::gelu_erf: return T(0.5) * x * (T(1) + erf(x * T(kInvSqrt2)));
    case Unary::gelu_tanh: return T(0.5) * x * (T(1) + tanh(T(kSqrt2OverPi) * (x + T(0.044715) * x * x * x)));
    case Unary::pow_scalar: return pow(x, s);
    case Unary::add_scalar: return x + s;
    case Unary::mul_scalar: return x * s;
    case Unary::abs: return abs(x);
  }
  return x;
}

// dy * op'(x).
template <typename T>
__device__ inline T unary_derivative(Unary op, T s, T x, T dy) {
  switch (op) {
    case Unary::neg: return -dy;
    case Unary::exp: return dy * exp(x);
    case Unary::log: return dy / x;
    case Unary::sqrt: return dy * T(0.5) / sqrt(x);
    case Unary::rsqrt: return dy * T(-0.5) / (x * sqrt(x));
    case Unary::tanh: {
      T t = tanh(x);
      return dy * (T(1) - t * t);
    }
    case Unary::sigmoid: {
      T g = sigmoid(x);
      return dy * g * (T(1) - g);
    }
    case Unary::relu: return x > T(0) ? dy : T(0);
    case Unary::silu: {
      T g = sigmoid(x);
      return dy * g * (T(1) + x * (T(1) - g));
    }
    case Unary::gelu_erf: {
      T cdf = T(0.5) * (T(1) + erf(x * T(kInvSqrt2)));
      T pdf = T(kInvSqrt2Pi) * exp(T(-0.5) * x * x);
      return dy * (cdf + x * pdf);
    }
    case Unary::gelu_tanh: {
      T inner = T(kSqrt2OverPi) * (x + T(0.044715) * x * x * x);
      T t = tanh(inner);
      T dinner = T(kSqrt2OverPi) * (T(1) + T(3 * 0.044715) * x * x);
      return dy * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * dinner);
    }
    case Unary::pow_scalar: return dy * s * pow(x, s - T(1));
    case Unary::add_scalar: return dy;
    case Unary::mul_scalar: return dy * s;
    case Unary::abs: return x > T(0) ? dy : (x < T(0) ? -dy : T(0));
  }
  return dy;
}

template <typename T>
__device__ inline T binary_value(Binary op, T a, T b) {
  switch (op) {
    case Binary::add: return a + b;
    case Binary::sub: return a - b;
    case Binary::mul: return a * b;
    case Binary::div: return a / b;
  }
  return a;
}

// ---- kernels ---------------------------------------------------------------------

template <typename S, typename D>
__global__ void copy_kernel(const S* src, D* dst, Strided g) {
  STRATA_GRID_STRIDE_LOOP(i, g.numel) { dst[offset_of(g, 0, i)] = convert<D>(src[offset_of(g, 1, i)]); }
}

template <typename T>
__global__ void fill_kernel(T* dst, T value, Strided g) {
  STRATA_GRID_STRIDE_LOOP(i, g.numel) { dst[offset_of(g, 0, i)] = value; }
}

template <typename T>
__global__ void unary_kernel(Unary op, T s, const T* x, T* y, Strided g) {
  // Read before write: y may be the very same view as x (in-place ops).
  STRATA_GRID_STRIDE_LOOP(i, g.numel) {
    const T value = unary_value(op, s, x[offset_of(g, 1, i)]);
    y[offset_of(g, 0, i)] = value;
  }
}

template <typename T>
__global__ void unary_backward_kernel(Unary op, T s, const T* x, const T* dy, T* dx, Strided g) {
  STRATA_GRID_STRIDE_LOOP(i, g.numel) {
    const T value = unary_derivative(op, s, x[offset_of(g, 1, i)], dy[offset_of(g, 2, i)]);
    dx[offset_of(g, 0, i)] = value;
  }
}

template <typename T>
__global__ void binary_kernel(Binary op, const T* a, const T* b, T* out, Strided g) {
  STRATA_GRID_STRIDE_LOOP(i, g.numel) {
    const T value = binary_value(op, a[offset_of(g, 1, i)], b[offset_of(g, 2, i)]);
    out[offset_of(g, 0, i)] = value;
  }
}

template <typename T>
__global__ void where_kernel(const uint8_t* cond, const T* a, const T* b, T* out, Strided g) {
  STRATA_GRID_STRIDE_LOOP(i, g.numel) {
    const T value = cond[offset_of(g, 1, i)] ? a[offset_of(g, 2, i)] : b[offset_of(g, 3, i)];
    out[offset_of(g, 0, i)] = value;
  }
}

}  // namespace

// ---- launchers ----------------------------------------------------------------------

void launch_copy(cudaStream_t stream, ElemType src_type, const void* src, ElemType dst_type, void* dst,
                 const Strided& g) {
  dispatch_any(src_type, [&](auto s) {
    using S = decltype(s);
    dispatch_any(dst_type, [&](auto d) {
      using D = decltype(d);
      copy_kernel<S, D><<<grid_for(g.numel), kThreads, 0, stream>>>(static_cast<const S*>(src),
                                                                   static_cast<D*>(dst), g);
    });
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

void launch_fill(cudaStream_t stream, ElemType type, void* dst, double value, const Strided& g) {
  dispatch_any(type, [&](auto zero) {
    using T = decltype(zero);
    const T v = [&] {
      if constexpr (std::is_same_v<T, bf16_t>) return float_to_bf16(float(value));
      else return T(value);
    }();
    fill_kernel<T><<<grid_for(g.numel), kThreads, 0, stream>>>(static_cast<T*>(dst), v, g);
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

void launch_unary(cudaStream_t stream, ElemType type, Unary op, double scalar, const void* x, void* y,
                  const Strided& g) {
  dispatch_floating(type, "unary: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    unary_kernel<T><<<grid_for(g.numel), kThreads, 0, stream>>>(op, T(scalar), static_cast<const T*>(x),
                                                                static_cast<T*>(y), g);
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

void launch_unary_backward(cudaStream_t stream, ElemType type, Unary op, double scalar, const void* x,
                           const void* dy, void* dx, const Strided& g) {
  dispatch_floating(type, "unary_backward: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    unary_backward_kernel<T><<<grid_for(g.numel), kThreads, 0, stream>>>(
        op, T(scalar), static_cast<const T*>(x), static_cast<const T*>(dy), static_cast<T*>(dx), g);
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

void launch_binary(cudaStream_t stream, ElemType type, Binary op, const void* a, const void* b, void* out,
                   const Strided& g) {
  dispatch_floating(type, "binary: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    binary_kernel<T><<<grid_for(g.numel), kThreads, 0, stream>>>(op, static_cast<const T*>(a),
                                                                 static_cast<const T*>(b), static_cast<T*>(out), g);
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

void launch_where(cudaStream_t stream, ElemType type, const uint8_t* cond, const void* a, const void* b, void* out,
                  const Strided& g) {
  dispatch_floating(type, "where: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    where_kernel<T><<<grid_for(g.numel), kThreads, 0, stream>>>(cond, static_cast<const T*>(a),
                                                                static_cast<const T*>(b), static_cast<T*>(out), g);
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

}  // namespace strata::cuda
