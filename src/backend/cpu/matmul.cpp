// matmul: tensors viewed as matrices [rows, last dim], multiplied by parallel_gemm.
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_common.h"
#include "backend/cpu/gemm.h"

namespace trainyard::backend {
namespace {

struct MatrixView {
  int64_t rows;
  int64_t columns;
};

MatrixView as_matrix(const Tensor& tensor) {
  return {cpu::row_count(tensor), cpu::last_dim(tensor)};
}

}  // namespace

void CpuBackend::matmul(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b,
                        const Tensor& c, double alpha, double beta) {
  MatrixView a_view = as_matrix(a), b_view = as_matrix(b), c_view = as_matrix(c);
  int64_t m = transpose_a ? a_view.columns : a_view.rows;
  int64_t k = transpose_a ? a_view.rows : a_view.columns;
  int64_t k_b = transpose_b ? b_view.columns : b_view.rows;
  int64_t n = transpose_b ? b_view.rows : b_view.columns;
  const bool bfloat16_into_float32 = a.dtype() == DType::kBFloat16 && c.dtype() == DType::kFloat32;
  if (k != k_b || c_view.rows != m || c_view.columns != n || a.dtype() != b.dtype() ||
      (a.dtype() != c.dtype() && !bfloat16_into_float32)) {
    throw ShapeError("matmul: cannot multiply " + a.to_string() + (transpose_a ? "^T" : "") +
                     " by " + b.to_string() + (transpose_b ? "^T" : "") + " into " + c.to_string());
  }
  if (bfloat16_into_float32) {
    bfloat16_staging_.reserve(a.num_elements() + b.num_elements());
    Tensor a32 = bfloat16_staging_.take("matmul", a, true);
    Tensor b32 = bfloat16_staging_.take("matmul", b, true);
    matmul(a32, transpose_a, b32, transpose_b, c, alpha, beta);
    return;
  }
  if (c.dtype() == DType::kBFloat16) {
    // OpenBLAS here has no bfloat16 GEMM: multiply float32 copies, accumulating in float32.
    bfloat16_staging_.reserve(a.num_elements() + b.num_elements() + c.num_elements());
    Tensor a32 = bfloat16_staging_.take("matmul", a, true);
    Tensor b32 = bfloat16_staging_.take("matmul", b, true);
    Tensor c32 = bfloat16_staging_.take("matmul", c, beta != 0.0);
    matmul(a32, transpose_a, b32, transpose_b, c32, alpha, beta);
    cpu::narrow_to_bfloat16(c32, c);
    return;
  }
  cpu::dispatch_float(c.dtype(), "matmul", [&](auto zero) {
    using T = decltype(zero);
    cpu::parallel_gemm<T>(transpose_a, transpose_b, m, n, k, static_cast<T>(alpha), a.data<T>(),
                          a_view.columns, b.data<T>(), b_view.columns, static_cast<T>(beta),
                          c.data<T>(), n, matmul_scratch_);
  });
}

}  // namespace trainyard::backend
