// Matrix products on raw row-major buffers: single-threaded OpenBLAS calls that trainyard
// splits across its compute pool. Shared by matmul and the convolutions. Internal to the
// CPU backend.
#pragma once

#include <cstdint>

#include "backend/cpu/scratch.h"

namespace trainyard::backend::cpu {

// c = alpha * op(a) @ op(b) + beta * c with op(a) [m, k], op(b) [k, n], c [m, n]; lda, ldb
// and ldc are the row strides of a, b and c as stored. `scratch` holds partial products
// when the split runs over k. T is float or double.
template <typename T>
void parallel_gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, T alpha,
                   const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc,
                   Scratch& scratch);

}  // namespace trainyard::backend::cpu
