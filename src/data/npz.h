// Reading NumPy's .npz archives (numpy.savez / savez_compressed): a zip file whose members
// are .npy arrays, stored or deflated. The zip is read through libarchive.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "core/tensor.h"

namespace trainyard::data {

// Default ceiling on the total bytes of array data one archive may declare (16 GiB).
inline constexpr uint64_t kDefaultNpzByteLimit = uint64_t{16} << 30;

// Reads every member of the .npz at `path` into a map from the array's name (the member
// name without ".npy", as numpy.load reports it) to a CPU tensor (dtypes as in read_npy).
// Zip bombs are bounded: no member is decompressed past the size its .npy header declares,
// memory grows only as data arrives, and the declared sizes together must stay within
// `max_total_bytes`. Throws IOError when the file cannot be opened and DataError naming the
// path and member for a non-zip file, a member name with path tricks (absolute, "..", ".",
// empty components, backslashes), a member that is not a regular .npy file, duplicate names,
// encrypted members, a zip size that disagrees with the .npy header, or any read_npy fault.
std::map<std::string, Tensor> read_npz(const std::string& path,
                                       uint64_t max_total_bytes = kDefaultNpzByteLimit);

// The same for an archive already in memory; `name` stands for the path in errors. The
// bytes must stay alive and unchanged during the call.
std::map<std::string, Tensor> read_npz(std::span<const unsigned char> bytes,
                                       const std::string& name,
                                       uint64_t max_total_bytes = kDefaultNpzByteLimit);

}  // namespace trainyard::data
