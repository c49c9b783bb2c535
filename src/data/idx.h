// The IDX format of MNIST and Fashion-MNIST: a 4-byte magic (two zero bytes, a type byte,
// the rank), one big-endian int32 per dimension, then the elements big-endian in C order.
// Files may be gzip-compressed; compression is detected from the content, not the name.
#pragma once

#include <string>

#include "core/tensor.h"
#include "data/byte_source.h"

namespace trainyard::data {

// Largest element count read_idx accepts (2^31): anything above is a corrupt header.
inline constexpr int64_t kMaxIdxElements = int64_t{1} << 31;

// Reads an IDX file into a CPU tensor of the header's shape. Element types: 0x08 uint8 ->
// uint8; 0x09 int8 and 0x0B int16 -> int32 (sign-extended); 0x0C int32; 0x0D float32;
// 0x0E float64. Throws IOError when the file cannot be opened or read, and DataError naming
// the path and the fault for a bad magic, unknown type, rank 0 or above 8, a negative or
// absurd size, truncated data, trailing bytes or a corrupt gzip stream.
Tensor read_idx(const std::string& path);

// The same from any byte stream (a MemorySource for bytes already in memory); errors name
// source.name(). The stream must end with the data.
Tensor read_idx(ByteSource& source);

}  // namespace trainyard::data
