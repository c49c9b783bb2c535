// matmul through cuBLAS. Tensors are row-major and cuBLAS is column-major, so a row-major C
// [M, N] is read by cuBLAS as C^T [N, M]; computing C^T = op(B)^T op(A)^T swaps the operands
// instead of transposing any data.
#include <climits>
#include <string>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "core/error.h"

namespace trainyard::backend::cuda {
namespace {

struct MatrixView {
  int64_t rows;
  int64_t columns;
};

MatrixView as_matrix(const Tensor& tensor) {
  const int64_t columns = tensor.shape().rank() == 0 ? 1 : tensor.shape()[-1];
  return {columns == 0 ? 0 : tensor.num_elements() / columns, columns};
}

// cuBLAS's classic API takes int sizes and leading dimensions.
int as_blas_int(int64_t value, const Tensor& a, const Tensor& b, const Tensor& c) {
  if (value > INT_MAX) {
    throw ValueError("matmul: multiplying " + a.to_string() + " by " + b.to_string() + " into " +
                     c.to_string() + " exceeds cuBLAS's 32-bit sizes");
  }
  return static_cast<int>(value);
}

}  // namespace

void CudaBackend::matmul(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b,
                         const Tensor& c, double alpha, double beta) {
  const MatrixView a_view = as_matrix(a), b_view = as_matrix(b), c_view = as_matrix(c);
  const int64_t m = transpose_a ? a_view.columns : a_view.rows;
  const int64_t k = transpose_a ? a_view.rows : a_view.columns;
  const int64_t k_b = transpose_b ? b_view.columns : b_view.rows;
  const int64_t n = transpose_b ? b_view.rows : b_view.columns;
  const bool bfloat16_into_float32 = a.dtype() == DType::kBFloat16 && c.dtype() == DType::kFloat32;
  if (k != k_b || c_view.rows != m || c_view.columns != n || a.dtype() != b.dtype() ||
      (a.dtype() != c.dtype() && !bfloat16_into_float32)) {
    throw ShapeError("matmul: cannot multiply " + a.to_string() + (transpose_a ? "^T" : "") +
                     " by " + b.to_string() + (transpose_b ? "^T" : "") + " into " + c.to_string());
  }
  if (c.dtype() != DType::kFloat32 && c.dtype() != DType::kFloat64 &&
      c.dtype() != DType::kBFloat16) {
    throw ValueError("matmul: the CUDA backend computes in float32, float64 or bfloat16, got " +
                     std::string(dtype_name(c.dtype())));
  }
  require_here("matmul", "a", a);
  require_here("matmul", "b", b);
  require_here("matmul", "c", c);
  activate();
  if (m == 0 || n == 0) return;
  const int blas_m = as_blas_int(m, a, b, c), blas_n = as_blas_int(n, a, b, c);
  const bool single = c.dtype() == DType::kFloat32 && !bfloat16_into_float32;
  const bool bfloat16 = c.dtype() == DType::kBFloat16;
  if (k == 0) {
    // An empty sum: c = beta * c, as the CPU does (cuBLAS would write zeros for beta = 0).
    const int count = as_blas_int(m * n, a, b, c);
    if (bfloat16) {
      const float scale = static_cast<float>(beta);
      TY_CUDA_CHECK(cublasScalEx(cublas_, count, &scale, CUDA_R_32F, c.raw_data(), CUDA_R_16BF, 1,
                                 CUDA_R_32F));
    } else if (single || bfloat16_into_float32) {
      const float scale = static_cast<float>(beta);
      TY_CUDA_CHECK(cublasSscal(cublas_, count, &scale, static_cast<float*>(c.raw_data()), 1));
    } else {
      TY_CUDA_CHECK(cublasDscal(cublas_, count, &beta, static_cast<double*>(c.raw_data()), 1));
    }
    return;
  }
  const int blas_k = as_blas_int(k, a, b, c);
  const int lda = as_blas_int(a_view.columns, a, b, c);
  const int ldb = as_blas_int(b_view.columns, a, b, c);
  // Column-major: B's storage is B^T with leading dimension b.columns, and likewise for A, so
  // op(B)^T needs no transpose exactly when op(B) = B.
  const cublasOperation_t op_b = transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (bfloat16 || bfloat16_into_float32) {
    // bfloat16 operands on the tensor cores, accumulated in float32; alpha and beta are float.
    const float alpha_f = static_cast<float>(alpha), beta_f = static_cast<float>(beta);
    const cudaDataType_t c_type = bfloat16 ? CUDA_R_16BF : CUDA_R_32F;
    TY_CUDA_CHECK(cublasGemmEx(cublas_, op_b, op_a, blas_n, blas_m, blas_k, &alpha_f, b.raw_data(),
                               CUDA_R_16BF, ldb, a.raw_data(), CUDA_R_16BF, lda, &beta_f,
                               c.raw_data(), c_type, blas_n, CUBLAS_COMPUTE_32F,
                               CUBLAS_GEMM_DEFAULT));
  } else if (single) {
    const float alpha_f = static_cast<float>(alpha), beta_f = static_cast<float>(beta);
    const cublasComputeType_t compute =
        allow_tf32_ ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    TY_CUDA_CHECK(cublasGemmEx(cublas_, op_b, op_a, blas_n, blas_m, blas_k, &alpha_f, b.raw_data(),
                               CUDA_R_32F, ldb, a.raw_data(), CUDA_R_32F, lda, &beta_f,
                               c.raw_data(), CUDA_R_32F, blas_n, compute, CUBLAS_GEMM_DEFAULT));
  } else {
    TY_CUDA_CHECK(cublasDgemm(cublas_, op_b, op_a, blas_n, blas_m, blas_k, &alpha,
                              static_cast<const double*>(b.raw_data()), ldb,
                              static_cast<const double*>(a.raw_data()), lda, &beta,
                              static_cast<double*>(c.raw_data()), blas_n));
  }
}

}  // namespace trainyard::backend::cuda
