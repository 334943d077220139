#pragma once
// Vectorised exp, log, tanh and erf for the elementwise and row kernels.
//
// glibc's libmvec ships SIMD versions of these (AVX-512: _ZGVeN16v_expf and
// friends, at most 4 ulp from the correctly rounded result), but math.h only
// declares them under -ffast-math, which we do not want elsewhere. Declaring
// the functions again with GCC's `simd` attribute lets the vectoriser call
// the SIMD versions in `#pragma omp simd` loops, so std::exp over a row runs
// 16 floats at a time. Include this header before any such loop; the
// library links libmvec.
#include <cmath>

#if defined(__x86_64__) && defined(__GLIBC__) && defined(__GNUC__) && !defined(__clang__)
extern "C" {
__attribute__((__simd__("notinbranch"))) float expf(float);
__attribute__((__simd__("notinbranch"))) float logf(float);
__attribute__((__simd__("notinbranch"))) float tanhf(float);
__attribute__((__simd__("notinbranch"))) float erff(float);
__attribute__((__simd__("notinbranch"))) double exp(double) noexcept;
__attribute__((__simd__("notinbranch"))) double log(double) noexcept;
__attribute__((__simd__("notinbranch"))) double tanh(double) noexcept;
__attribute__((__simd__("notinbranch"))) double erf(double) noexcept;
}
#endif
