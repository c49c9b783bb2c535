// Deterministic sums over rows. The rows are cut into a number of chunks that depends only
// on the shape, never on the thread count; each chunk sums into its own slot of a partial
// buffer, and the slots are added in chunk order at the end. The result is therefore the
// same bits on one thread or many, run after run, while the chunks still run in parallel.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/function_ref.h"
#include "core/thread_pool.h"

namespace trainyard::backend::cpu {

// At most this many chunks: bounds the partial buffer at kMaxRowChunks * width doubles.
constexpr int64_t kMaxRowChunks = 32;
// A chunk covers at least this many elements, so small inputs stay on one thread.
constexpr int64_t kRowChunkElements = 8192;

struct RowChunks {
  int64_t count = 1;           // in [1, kMaxRowChunks]
  int64_t rows_per_chunk = 0;  // the last chunk may be shorter
};

// The chunking of `rows` rows of `columns` values each.
inline RowChunks row_chunks(int64_t rows, int64_t columns) {
  int64_t minimum_rows = std::max<int64_t>(1, kRowChunkElements / std::max<int64_t>(columns, 1));
  int64_t count = std::clamp<int64_t>((rows + minimum_rows - 1) / minimum_rows, 1, kMaxRowChunks);
  return {count, (rows + count - 1) / count};
}

// sums[0, width) = the sum over chunks, in chunk order, of what add_rows(begin, end, slot)
// adds into a zeroed slot of `width` doubles for the chunk's rows [begin, end).
// REQUIRES: partial holds row_chunks(rows, columns).count * width doubles.
inline void reduce_rows(int64_t rows, int64_t columns, int64_t width, double* partial, double* sums,
                        FunctionRef<void(int64_t begin, int64_t end, double* slot)> add_rows) {
  RowChunks chunks = row_chunks(rows, columns);
  std::fill(partial, partial + chunks.count * width, 0.0);
  parallel_range(chunks.count, 1, [&](int64_t first, int64_t last) {
    for (int64_t chunk = first; chunk < last; ++chunk) {
      int64_t begin = std::min(rows, chunk * chunks.rows_per_chunk);
      int64_t end = std::min(rows, begin + chunks.rows_per_chunk);
      if (begin < end) add_rows(begin, end, partial + chunk * width);
    }
  });
  std::fill(sums, sums + width, 0.0);
  for (int64_t chunk = 0; chunk < chunks.count; ++chunk) {
    const double* slot = partial + chunk * width;
    for (int64_t j = 0; j < width; ++j) sums[j] += slot[j];
  }
}

}  // namespace trainyard::backend::cpu
