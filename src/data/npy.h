// Reading and writing single arrays in NumPy's .npy format (see npy_header.h for the
// header). Little-endian, C-order data only; that covers what numpy.save writes on every
// common machine.
#pragma once

#include <string>

#include "core/tensor.h"
#include "data/byte_source.h"

namespace trainyard::data {

// Reads a .npy file (version 1.0, 2.0 or 3.0; gzip-compressed files are accepted too) into
// a CPU tensor: '<f4' float32, '<f8' float64, '<i4' int32, '<i8' int64, '|u1' uint8, '|b1'
// uint8 holding 0 or 1. Throws IOError when the file cannot be read and DataError naming the
// path for a bad header, Fortran order, truncated data or trailing bytes.
Tensor read_npy(const std::string& path);

// The same from any byte stream (read_npz passes each archive member through it). The
// stream must end with the array's data.
Tensor read_npy(ByteSource& source);

// Writes `tensor` (float32, float64, int32, int64 or uint8, on the CPU) as a version 1.0
// .npy file that numpy.load reads. Atomic: the bytes go to a temporary file in the same
// directory, which is flushed to disk and then renamed over `path`, so readers see the old
// file or the whole new one, never half. Throws ValueError for an unsupported dtype or an
// undefined tensor and IOError naming the path when writing fails (the temporary is removed).
void write_npy(const std::string& path, const Tensor& tensor);

}  // namespace trainyard::data
