// Moving sample rows from a dataset's arrays into a batch buffer, converting the element
// type on the way (uint8 pixels -> float32 * 1/255) so a batch costs one pass over memory.
// Internal to the data layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/dtype.h"

namespace trainyard::data::detail {

// Converts `count` elements from `source` to `target`, multiplying by `scale` (floating
// targets only; integer targets take scale 1).
using ConvertFunction = void (*)(const void* source, void* target, int64_t count, double scale);

// The conversion from `from` to `to` (callers copy bytes instead when the types match and the
// scale is 1). Throws ValueError when either is not float32, float64, int32, int64 or uint8.
ConvertFunction converter(DType from, DType to);

// How one array's rows reach the batch buffer.
struct ArrayGather {
  const unsigned char* source = nullptr;  // row 0 of the source array
  size_t source_row_bytes = 0;
  size_t target_row_bytes = 0;
  int64_t row_elements = 0;
  ConvertFunction convert = nullptr;  // nullptr: copy bytes unchanged
  double scale = 1.0;
};

// Writes source rows `rows[0]`, `rows[1]`, ... to consecutive rows of `target`. When
// `consecutive` is true the rows are known to be rows[0], rows[0] + 1, ..., and move as one
// block. `use_compute_pool` splits a large gather across trainyard's compute pool: shuffled
// rows are scattered through memory, so their cache misses overlap better on two cores.
// REQUIRES for use_compute_pool: the caller is the thread that drives the compute pool.
void gather_rows(const ArrayGather& gather, std::span<const int64_t> rows, bool consecutive,
                 void* target, bool use_compute_pool = false);

}  // namespace trainyard::data::detail
