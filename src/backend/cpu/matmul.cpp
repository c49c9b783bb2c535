// Matrix products: OpenBLAS sgemm/dgemm, split by trainyard across the compute pool along
// the larger output dimension.
#include <cblas.h>

#include <algorithm>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_common.h"

namespace trainyard::backend {
namespace {

// Below this many multiply-adds one thread is faster than two.
constexpr int64_t kParallelMultiplyAdds = 1 << 17;
// Split points are multiples of this so each thread's block stays vector-aligned.
constexpr int64_t kSplitAlignment = 16;

struct MatrixView {
  int64_t rows;
  int64_t columns;
};

MatrixView as_matrix(const Tensor& tensor) {
  return {cpu::row_count(tensor), cpu::last_dim(tensor)};
}

template <typename T>
void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, T alpha,
          const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  auto trans_a = transpose_a ? CblasTrans : CblasNoTrans;
  auto trans_b = transpose_b ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, trans_a, trans_b, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb),
                beta, c, static_cast<int>(ldc));
  } else {
    cblas_dgemm(CblasRowMajor, trans_a, trans_b, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb),
                beta, c, static_cast<int>(ldc));
  }
}

int64_t split_point(int64_t total, int64_t chunk, int64_t chunks) {
  if (chunk == chunks) return total;
  int64_t point = total * chunk / chunks;
  return std::min(total, (point + kSplitAlignment / 2) / kSplitAlignment * kSplitAlignment);
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
                     " by " + b.to_string() + (transpose_b ? "^T" : "") + " into " +
                     c.to_string());
  }
  cpu::dispatch_float(c.dtype(), "matmul", [&](auto zero) {
    using T = decltype(zero);
    const T* a_data = a.data<T>();
    const T* b_data = b.data<T>();
    T* c_data = c.data<T>();
    if (m == 0 || n == 0) return;
    if (k == 0) {
      for (int64_t i = 0; i < m * n; ++i) c_data[i] = static_cast<T>(beta) * c_data[i];
      return;
    }
    int64_t chunks = std::min<int64_t>(num_threads(), m * n * k / kParallelMultiplyAdds);
    bool split_rows = m >= n;
    chunks = std::min(chunks, (split_rows ? m : n) / kSplitAlignment);
    auto run_block = [&](int64_t begin, int64_t end) {
      if (begin >= end) return;
      if (split_rows) {
        // Rows [begin, end) of op(a): row offset, or column offset when transposed.
        const T* a_block = a_data + (transpose_a ? begin : begin * a_view.columns);
        gemm<T>(transpose_a, transpose_b, end - begin, n, k, static_cast<T>(alpha), a_block,
                a_view.columns, b_data, b_view.columns, static_cast<T>(beta),
                c_data + begin * n, n);
      } else {
        // Columns [begin, end) of op(b): row offset when transposed, else column offset.
        const T* b_block = b_data + (transpose_b ? begin * b_view.columns : begin);
        gemm<T>(transpose_a, transpose_b, m, end - begin, k, static_cast<T>(alpha), a_data,
                a_view.columns, b_block, b_view.columns, static_cast<T>(beta), c_data + begin,
                n);
      }
    };
    if (chunks < 2) {
      run_block(0, split_rows ? m : n);
      return;
    }
    int64_t extent = split_rows ? m : n;
    compute_pool().parallel_for(chunks, [&](int64_t chunk) {
      run_block(split_point(extent, chunk, chunks), split_point(extent, chunk + 1, chunks));
    });
  });
}

}  // namespace trainyard::backend
