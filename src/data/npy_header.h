// The header of NumPy's .npy format: magic "\x93NUMPY", version 1.0, 2.0 or 3.0, a little-endian
// header length (2 bytes in 1.0, 4 in 2.0 and 3.0), then a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces to a
// multiple of 64 bytes and ended by a newline.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "data/byte_source.h"

namespace trainyard::data {

// The largest header parse_npy_header accepts; NumPy itself refuses more than 10,000 bytes
// by default.
inline constexpr uint32_t kMaxNpyHeaderBytes = 1 << 20;

struct NpyHeader {
  std::string descr;            // as written: "<f4", "|u1", ...
  DType dtype = DType::kUInt8;  // what the elements are read as ('|b1' becomes uint8 0/1)
  std::vector<int64_t> shape;   // () for a scalar
  uint64_t data_bytes = 0;      // product of shape times the element size
};

// Reads the magic, version and dict from `source`, leaving it at the first data byte.
// Accepts descr '<f4', '<f8', '<i4', '<i8', '|u1' and '|b1' as NumPy spells them. Throws DataError
// naming the source for a bad magic, an unknown version, a malformed dict, an unsupported or
// big-endian descr, a negative or overflowing shape, and for fortran_order True (transpose to C
// order in NumPy first).
NpyHeader read_npy_header(ByteSource& source);

// "header declares shape (2, 3) of '<f4' = 24 bytes": how payload errors quote the header.
std::string describe_npy_payload(const NpyHeader& header);

// The complete version 1.0 header (magic to newline) for a C-order array, padded like
// NumPy so that the data starts at a multiple of 64 bytes. Throws ValueError for a dtype
// .npy cannot hold here (bfloat16, float16).
std::string format_npy_header(DType dtype, const std::vector<int64_t>& shape);

}  // namespace trainyard::data
