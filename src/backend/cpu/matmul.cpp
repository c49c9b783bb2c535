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
  if (k != k_b || c_view.rows != m || c_view.columns != n || a.dtype() != b.dtype() ||
      a.dtype() != c.dtype()) {
    throw ShapeError("matmul: cannot multiply " + a.to_string() + (transpose_a ? "^T" : "") +
                     " by " + b.to_string() + (transpose_b ? "^T" : "") + " into " + c.to_string());
  }
  cpu::dispatch_float(c.dtype(), "matmul", [&](auto zero) {
    using T = decltype(zero);
    cpu::parallel_gemm<T>(transpose_a, transpose_b, m, n, k, static_cast<T>(alpha), a.data<T>(),
                          a_view.columns, b.data<T>(), b_view.columns, static_cast<T>(beta),
                          c.data<T>(), n, matmul_scratch_);
  });
}

}  // namespace trainyard::backend
