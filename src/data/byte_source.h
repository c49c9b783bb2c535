// ByteSource: a forward-only stream of bytes with a name for error messages. The file
// readers (IDX, NPY, NPZ, CSV) parse from it, so one parser serves a plain file, a gzip
// file and a member of a zip archive alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace trainyard::data {

class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // Reads up to `size` bytes into `destination` and returns how many it read; 0 means the
  // stream has ended. Throws IOError (read failed) or DataError (corrupt stream) naming the
  // source.
  virtual size_t read_some(void* destination, size_t size) = 0;

  // The exact number of bytes still to come when the source knows it without reading (an
  // uncompressed file); nullopt otherwise.
  virtual std::optional<uint64_t> remaining_bytes() const { return std::nullopt; }

  // What error messages call this source: a path, or "archive.npz: member x.npy".
  virtual const std::string& name() const = 0;
};

// Reads until `size` bytes have arrived or the stream ends; returns the count read.
size_t read_up_to(ByteSource& source, void* destination, size_t size);

}  // namespace trainyard::data
