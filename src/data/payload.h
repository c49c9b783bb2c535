// Reading the data block that a file header declares, without trusting the header: memory
// grows only with the bytes that actually arrive, so a hostile header that declares
// gigabytes over a few bytes of data fails as "truncated" before any large allocation.
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "data/byte_source.h"

namespace trainyard::data {

// From a source of unknown length (gzip, a zip member), payloads up to this size are read
// straight into their final buffer; larger ones arrive in chunks first, which double from
// this size up to 16 MiB, so a hostile header over a short stream costs at most a chunk.
inline constexpr uint64_t kDirectReadLimit = uint64_t{1} << 20;

// Reads exactly `declared_bytes` bytes, which must be the rest of `source`, into a new
// uint8 tensor of shape [declared_bytes]. Throws DataError "<source>: truncated: <declaration>,
// file holds N" when fewer bytes remain and "<source>: trailing data: ..." when more do.
// `declaration` reads like "header declares 60000x28x28 = 47040000 bytes of uint8 data".
Tensor read_payload(ByteSource& source, uint64_t declared_bytes, const std::string& declaration);

// The same rule for a payload followed by nothing: throws the trailing-data DataError when
// `source` still holds bytes after `expected_bytes` bytes were read.
void expect_end_of_source(ByteSource& source, uint64_t expected_bytes,
                          const std::string& declaration);

}  // namespace trainyard::data
