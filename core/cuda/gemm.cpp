// GEMM and strided-batched GEMM on the GPU.
//
// Row-major C[b] = alpha op(A[b]) op(B[b]) + beta C[b] (core/backend.h
// GemmArgs). cuBLAS is column-major, and a row-major matrix with leading
// dimension ld is its transpose in column-major with the same ld. So we ask
// for the column-major product C^T = op(B)^T op(A)^T (n x m): B goes first,
// A second, and each keeps its own transpose flag.
//
// f32 and bf16 go through cuBLASLt with f32 accumulation (COMPUTE_32F:
// strict f32, no TF32, so results stay within ~1e-6 of the CPU); bf16
// inputs and output with f32 compute is the mixed-precision path. f64 (and
// any problem for which cuBLASLt's heuristic finds no algorithm) goes
// through classic cuBLAS strided-batched GEMM.
//
// Autocast (GemmArgs::bf16_operands, core/autocast.h): the operands are
// rounded into bf16 copies (the same round-to-nearest-even as the CPU) and
// multiplied as bf16 x bf16 -> f32 with f32 accumulation. Asking for
// CUBLAS_COMPUTE_32F_FAST_16BF instead would only *allow* cuBLAS to round
// (a kernel without tensor cores may keep f32 products), and the policy
// promises the rounding.
#include <climits>

#include "core/cuda/cuda_backend.h"
#include "core/cuda/kernels.h"

namespace strata::cuda {

namespace {

void check_lt(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw Error(fmt::format("cuda gemm: {} failed: {}", what, cublasGetStatusString(status)));
  }
}

int to_int(int64_t value, const char* what) {
  if (value < 0 || value > INT_MAX) fail("gemm", "{} = {} does not fit cuBLAS's int", what, value);
  return int(value);
}

// The largest power of two up to 256 dividing every byte offset the
// algorithm will see: cuBLASLt picks kernels by operand alignment.
uint32_t alignment_of(const void* ptr, int64_t ld, int64_t stride, size_t elem) {
  uint64_t bits = uint64_t(reinterpret_cast<uintptr_t>(ptr)) | (uint64_t(ld) * elem) | (uint64_t(stride) * elem) | 256;
  return uint32_t(bits & (~bits + 1));  // lowest set bit
}

// Owners of cuBLASLt descriptors, destroyed on every exit path.
struct MatmulDesc {
  cublasLtMatmulDesc_t desc = nullptr;
  ~MatmulDesc() { if (desc) cublasLtMatmulDescDestroy(desc); }
};
struct Layout {
  cublasLtMatrixLayout_t desc = nullptr;
  ~Layout() { if (desc) cublasLtMatrixLayoutDestroy(desc); }
};
struct Preference {
  cublasLtMatmulPreference_t desc = nullptr;
  ~Preference() { if (desc) cublasLtMatmulPreferenceDestroy(desc); }
};

// A column-major layout of rows x cols with leading dim ld, batched.
void make_layout(Layout& layout, cudaDataType_t type, int64_t rows, int64_t cols, int64_t ld, int64_t batch,
                 int64_t stride) {
  check_lt(cublasLtMatrixLayoutCreate(&layout.desc, type, uint64_t(rows), uint64_t(cols), ld),
           "cublasLtMatrixLayoutCreate");
  if (batch > 1) {
    const int32_t count = int32_t(batch);
    check_lt(cublasLtMatrixLayoutSetAttribute(layout.desc, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)),
             "set batch count");
    check_lt(cublasLtMatrixLayoutSetAttribute(layout.desc, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride,
                                              sizeof(stride)),
             "set batch stride");
  }
}

// A contiguous run of n elements, as the elementwise kernels take it.
Strided contiguous_run(int64_t n) {
  Strided g;
  g.rank = 1;
  g.numel = n;
  g.shape[0] = n;
  g.strides[0][0] = g.strides[1][0] = 1;
  g.all_contiguous = true;
  return g;
}

}  // namespace

CudaBackend::GemmTypes CudaBackend::gemm_types(DType dtype) {
  switch (dtype) {
    case DType::f32: return {CUDA_R_32F, CUDA_R_32F, 4, 4};
    case DType::bf16: return {CUDA_R_16BF, CUDA_R_16BF, 2, 2};
    default: fail("gemm", "the CUDA backend has no {} GEMM", dtype_name(dtype));
  }
}

void CudaBackend::gemm(const GemmArgs& g) {
  activate();
  to_int(g.m, "m");
  to_int(g.n, "n");
  to_int(g.k, "k");
  to_int(g.batch, "batch");
  if (g.bf16_operands) return gemm_bf16_operands(g);
  if (g.dtype == DType::f64) return gemm_classic(g, {});
  const GemmTypes types = gemm_types(g.dtype);
  if (!gemm_lt(g, types)) gemm_classic(g, types);
}

void CudaBackend::gemm_bf16_operands(const GemmArgs& g) {
  if (g.dtype != DType::f32) fail("gemm", "bf16 operands need f32 tensors, got {}", dtype_name(g.dtype));
  const int64_t extent_a = gemm_operand_extent(g.trans_a, g.m, g.k, g.lda, g.batch, g.stride_a);
  const int64_t extent_b = gemm_operand_extent(g.trans_b, g.k, g.n, g.ldb, g.batch, g.stride_b);
  // Freed when this returns, before the GEMM runs: safe, since everything
  // on this device runs in order on one stream (cuda_backend.h).
  const Tensor a = scratch(extent_a, DType::bf16), b = scratch(extent_b, DType::bf16);
  launch_copy(stream_, ElemType::f32, g.a, ElemType::bf16, a.raw_data(), contiguous_run(extent_a));
  launch_copy(stream_, ElemType::f32, g.b, ElemType::bf16, b.raw_data(), contiguous_run(extent_b));
  GemmArgs rounded = g;
  rounded.bf16_operands = false;
  rounded.a = a.raw_data();
  rounded.b = b.raw_data();
  const GemmTypes mixed{CUDA_R_16BF, CUDA_R_32F, 2, 4};
  if (!gemm_lt(rounded, mixed)) gemm_classic(rounded, mixed);
}

bool CudaBackend::gemm_lt(const GemmArgs& g, const GemmTypes& types) {
  const cudaDataType_t type = types.operands;
  const size_t elem = types.operand_bytes;
  MatmulDesc op;
  check_lt(cublasLtMatmulDescCreate(&op.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
  const cublasOperation_t first_op = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;   // B comes first
  const cublasOperation_t second_op = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;  // then A
  check_lt(cublasLtMatmulDescSetAttribute(op.desc, CUBLASLT_MATMUL_DESC_TRANSA, &first_op, sizeof(first_op)),
           "set transa");
  check_lt(cublasLtMatmulDescSetAttribute(op.desc, CUBLASLT_MATMUL_DESC_TRANSB, &second_op, sizeof(second_op)),
           "set transb");

  // Stored (pre-transpose) column-major shapes: B^T is n x k, A^T is k x m, C^T is n x m.
  Layout first, second, out;
  make_layout(first, type, g.trans_b ? g.k : g.n, g.trans_b ? g.n : g.k, g.ldb, g.batch, g.stride_b);
  make_layout(second, type, g.trans_a ? g.m : g.k, g.trans_a ? g.k : g.m, g.lda, g.batch, g.stride_a);
  make_layout(out, types.output, g.n, g.m, g.ldc, g.batch, g.stride_c);

  Preference pref;
  check_lt(cublasLtMatmulPreferenceCreate(&pref.desc), "cublasLtMatmulPreferenceCreate");
  check_lt(cublasLtMatmulPreferenceSetAttribute(pref.desc, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                &workspace_bytes_, sizeof(workspace_bytes_)),
           "set workspace");
  const uint32_t align_first = alignment_of(g.b, g.ldb, g.stride_b, elem);
  const uint32_t align_second = alignment_of(g.a, g.lda, g.stride_a, elem);
  const uint32_t align_out = alignment_of(g.c, g.ldc, g.stride_c, types.output_bytes);
  check_lt(cublasLtMatmulPreferenceSetAttribute(pref.desc, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_first,
                                                sizeof(align_first)),
           "set alignment");
  check_lt(cublasLtMatmulPreferenceSetAttribute(pref.desc, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_second,
                                                sizeof(align_second)),
           "set alignment");
  check_lt(cublasLtMatmulPreferenceSetAttribute(pref.desc, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_out,
                                                sizeof(align_out)),
           "set alignment");
  check_lt(cublasLtMatmulPreferenceSetAttribute(pref.desc, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_out,
                                                sizeof(align_out)),
           "set alignment");

  cublasLtMatmulHeuristicResult_t heuristic{};
  int found = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(lt_, op.desc, first.desc, second.desc, out.desc,
                                                               out.desc, pref.desc, 1, &heuristic, &found);
  if (status != CUBLAS_STATUS_SUCCESS || found == 0) return false;

  const float alpha = float(g.alpha), beta = float(g.beta);
  check_lt(cublasLtMatmul(lt_, op.desc, &alpha, g.b, first.desc, g.a, second.desc, &beta, g.c, out.desc, g.c,
                          out.desc, &heuristic.algo, workspace_, workspace_bytes_, stream_),
           "cublasLtMatmul");
  return true;
}

void CudaBackend::gemm_classic(const GemmArgs& g, const GemmTypes& types) {
  const cublasOperation_t first_op = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t second_op = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int m = int(g.n), n = int(g.m), k = int(g.k);  // of the column-major product C^T
  const int ldb = to_int(g.ldb, "ldb"), lda = to_int(g.lda, "lda"), ldc = to_int(g.ldc, "ldc");
  const int batch = int(g.batch);
  if (g.dtype == DType::f64) {
    const double alpha = g.alpha, beta = g.beta;
    check_lt(cublasDgemmStridedBatched(blas_, first_op, second_op, m, n, k, &alpha, static_cast<const double*>(g.b),
                                       ldb, g.stride_b, static_cast<const double*>(g.a), lda, g.stride_a, &beta,
                                       static_cast<double*>(g.c), ldc, g.stride_c, batch),
             "cublasDgemmStridedBatched");
    return;
  }
  const float alpha = float(g.alpha), beta = float(g.beta);
  check_lt(cublasGemmStridedBatchedEx(blas_, first_op, second_op, m, n, k, &alpha, g.b, types.operands, ldb,
                                      g.stride_b, g.a, types.operands, lda, g.stride_a, &beta, g.c, types.output, ldc,
                                      g.stride_c, batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
           "cublasGemmStridedBatchedEx");
}

}  // namespace strata::cuda
