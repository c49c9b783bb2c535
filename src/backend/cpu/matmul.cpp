// Matrix products: OpenBLAS sgemm/dgemm, split by trainyard across the compute pool along
// the larger output dimension.
#include <cblas.h>

#include <algorithm>
#include <cstdlib>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_common.h"

namespace trainyard::backend {
namespace {

// Below this many multiply-adds one thread is faster than two.
constexpr int64_t kParallelMultiplyAdds = 32768;
// A dimension shorter than this is not split: the blocks would be too thin to pay for the
// second thread.
constexpr int64_t kMinimumSplitExtent = 128;
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
void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
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

// How a product is divided between threads: not at all, by rows of C, by columns of C, or
// (when C has too few rows to share) by the inner dimension K, each thread producing a
// partial C that is then summed. The K split keeps each thread on the same rows of a
// [K, N] weight matrix that the optimizer's flat split gives it, so at batch 1 a layer's
// weights, gradients and optimizer slots stay in one core's cache.
enum class Split { kNone, kRows, kColumns, kDepth };

Split choose_split(int64_t m, int64_t n, int64_t k, int64_t threads) {
  if (threads < 2 || m * n * k < kParallelMultiplyAdds) return Split::kNone;
  if (m >= n && m >= kMinimumSplitExtent) return Split::kRows;
  if (n > m && n >= kMinimumSplitExtent && m >= kSplitAlignment) return Split::kColumns;
  if (m < kSplitAlignment && k >= 2 * kMinimumSplitExtent) return Split::kDepth;
  if (n >= kMinimumSplitExtent) return Split::kColumns;
  return Split::kNone;
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
    const T* a_data = a.data<T>();
    const T* b_data = b.data<T>();
    T* c_data = c.data<T>();
    const T alpha_t = static_cast<T>(alpha), beta_t = static_cast<T>(beta);
    if (m == 0 || n == 0) return;
    if (k == 0) {
      for (int64_t i = 0; i < m * n; ++i) c_data[i] = beta_t * c_data[i];
      return;
    }
    // Element offsets of row/column `index` of op(a) and op(b) in their storage.
    auto a_row = [&](int64_t row) { return transpose_a ? row : row * a_view.columns; };
    auto a_column = [&](int64_t column) { return transpose_a ? column * a_view.columns : column; };
    auto b_row = [&](int64_t row) { return transpose_b ? row : row * b_view.columns; };
    auto b_column = [&](int64_t column) { return transpose_b ? column * b_view.columns : column; };

    const int64_t threads = num_threads();
    switch (choose_split(m, n, k, threads)) {
      case Split::kNone:
        gemm<T>(transpose_a, transpose_b, m, n, k, alpha_t, a_data, a_view.columns, b_data,
                b_view.columns, beta_t, c_data, n);
        return;
      case Split::kRows:
        compute_pool().parallel_for(threads, [&](int64_t chunk) {
          int64_t begin = split_point(m, chunk, threads), end = split_point(m, chunk + 1, threads);
          if (begin >= end) return;
          gemm<T>(transpose_a, transpose_b, end - begin, n, k, alpha_t, a_data + a_row(begin),
                  a_view.columns, b_data, b_view.columns, beta_t, c_data + begin * n, n);
        });
        return;
      case Split::kColumns:
        compute_pool().parallel_for(threads, [&](int64_t chunk) {
          int64_t begin = split_point(n, chunk, threads), end = split_point(n, chunk + 1, threads);
          if (begin >= end) return;
          gemm<T>(transpose_a, transpose_b, m, end - begin, k, alpha_t, a_data, a_view.columns,
                  b_data + b_column(begin), b_view.columns, beta_t, c_data + begin, n);
        });
        return;
      case Split::kDepth: {
        // Chunk 0 accumulates into C (with beta), the others into scratch, summed in chunk
        // order afterwards so the result does not depend on which thread ran what.
        size_t partial = static_cast<size_t>(m * n);
        size_t bytes = partial * static_cast<size_t>(threads - 1) * sizeof(T);
        if (split_scratch_.size() < bytes) split_scratch_.resize(bytes);
        T* scratch = reinterpret_cast<T*>(split_scratch_.data());
        compute_pool().parallel_for(threads, [&](int64_t chunk) {
          int64_t begin = split_point(k, chunk, threads), end = split_point(k, chunk + 1, threads);
          T* out = chunk == 0 ? c_data : scratch + static_cast<size_t>(chunk - 1) * partial;
          if (begin >= end) {
            if (chunk != 0) std::fill(out, out + partial, T(0));
            return;
          }
          gemm<T>(transpose_a, transpose_b, m, n, end - begin, alpha_t, a_data + a_column(begin),
                  a_view.columns, b_data + b_row(begin), b_view.columns, chunk == 0 ? beta_t : T(0),
                  out, n);
        });
        for (int64_t chunk = 1; chunk < threads; ++chunk) {
          const T* part = scratch + static_cast<size_t>(chunk - 1) * partial;
          for (size_t i = 0; i < partial; ++i) c_data[i] += part[i];
        }
        return;
      }
    }
  });
}

}  // namespace trainyard::backend
