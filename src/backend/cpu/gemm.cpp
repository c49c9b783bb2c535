#include "backend/cpu/gemm.h"

#include <cblas.h>

#include <algorithm>
#include <type_traits>

#include "core/thread_pool.h"

namespace trainyard::backend::cpu {
namespace {

// Below this many multiply-adds one thread is faster than two.
constexpr int64_t kParallelMultiplyAdds = 32768;
// A dimension shorter than this is not split: the blocks would be too thin to pay for the
// second thread.
constexpr int64_t kMinimumSplitExtent = 128;
// Split points are multiples of this so each thread's block stays vector-aligned.
constexpr int64_t kSplitAlignment = 16;

template <typename T>
void blas_gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, T alpha,
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

template <typename T>
void parallel_gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, T alpha,
                   const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc,
                   Scratch& scratch) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t row = 0; row < m; ++row) {
      for (int64_t column = 0; column < n; ++column) c[row * ldc + column] *= beta;
    }
    return;
  }
  // Element offsets of row/column `index` of op(a) and op(b) in their storage.
  auto a_row = [&](int64_t row) { return transpose_a ? row : row * lda; };
  auto a_column = [&](int64_t column) { return transpose_a ? column * lda : column; };
  auto b_row = [&](int64_t row) { return transpose_b ? row : row * ldb; };
  auto b_column = [&](int64_t column) { return transpose_b ? column * ldb : column; };

  const int64_t threads = num_threads();
  switch (choose_split(m, n, k, threads)) {
    case Split::kNone:
      blas_gemm<T>(transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    case Split::kRows:
      compute_pool().parallel_for(threads, [&](int64_t chunk) {
        int64_t begin = split_point(m, chunk, threads), end = split_point(m, chunk + 1, threads);
        if (begin >= end) return;
        blas_gemm<T>(transpose_a, transpose_b, end - begin, n, k, alpha, a + a_row(begin), lda, b,
                     ldb, beta, c + begin * ldc, ldc);
      });
      return;
    case Split::kColumns:
      compute_pool().parallel_for(threads, [&](int64_t chunk) {
        int64_t begin = split_point(n, chunk, threads), end = split_point(n, chunk + 1, threads);
        if (begin >= end) return;
        blas_gemm<T>(transpose_a, transpose_b, m, end - begin, k, alpha, a, lda,
                     b + b_column(begin), ldb, beta, c + begin, ldc);
      });
      return;
    case Split::kDepth: {
      // Chunk 0 accumulates into C (with beta), the others into scratch, summed in chunk
      // order afterwards so the result does not depend on which thread ran what.
      const size_t partial = static_cast<size_t>(m * n);
      T* parts = scratch.get<T>(partial * static_cast<size_t>(threads - 1));
      compute_pool().parallel_for(threads, [&](int64_t chunk) {
        int64_t begin = split_point(k, chunk, threads), end = split_point(k, chunk + 1, threads);
        T* out = chunk == 0 ? c : parts + static_cast<size_t>(chunk - 1) * partial;
        int64_t out_stride = chunk == 0 ? ldc : n;
        if (begin >= end) {
          if (chunk != 0) std::fill(out, out + partial, T(0));
          return;
        }
        blas_gemm<T>(transpose_a, transpose_b, m, n, end - begin, alpha, a + a_column(begin), lda,
                     b + b_row(begin), ldb, chunk == 0 ? beta : T(0), out, out_stride);
      });
      for (int64_t chunk = 1; chunk < threads; ++chunk) {
        const T* part = parts + static_cast<size_t>(chunk - 1) * partial;
        for (int64_t row = 0; row < m; ++row) {
          for (int64_t column = 0; column < n; ++column) {
            c[row * ldc + column] += part[row * n + column];
          }
        }
      }
      return;
    }
  }
}

template void parallel_gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                                   int64_t, const float*, int64_t, float, float*, int64_t,
                                   Scratch&);
template void parallel_gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                    int64_t, const double*, int64_t, double, double*, int64_t,
                                    Scratch&);

}  // namespace trainyard::backend::cpu
