// StreamDecoder: the decoding core shared by FileSource and MemorySource. It reads a raw
// input (a file, a buffer) and hands out its bytes, gunzipped on the fly when they start
// with the gzip magic 1f 8b. Keeping one implementation means a buffer handed to a reader
// takes exactly the path a file on disk takes. Internal to the data layer.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace trainyard::data::detail {

// The undecoded bytes of a file or a buffer.
class RawInput {
 public:
  virtual ~RawInput() = default;
  // Reads up to `size` bytes into `destination`; 0 means the input has ended. Throws
  // IOError naming the input when the read fails.
  virtual size_t read(void* destination, size_t size) = 0;
  // The input's total size when it is known without reading (a regular file, a buffer).
  virtual std::optional<uint64_t> total_bytes() const = 0;
};

// Concatenated gzip members are read as one stream, as gzip(1) does; bytes after the last
// member that do not start another member, a truncated stream and a CRC failure are
// DataErrors naming `name`. Thread safety: one thread at a time.
class StreamDecoder {
 public:
  // Probes the first bytes of `input`, which must outlive the decoder. Throws IOError when
  // the input cannot be read or the gzip decoder cannot start.
  StreamDecoder(RawInput& input, const std::string& name);
  ~StreamDecoder();
  StreamDecoder(const StreamDecoder&) = delete;
  StreamDecoder& operator=(const StreamDecoder&) = delete;

  // ByteSource::read_some's contract.
  size_t read_some(void* destination, size_t size);
  // Bytes still to come when the input is uncompressed and its size is known; else nullopt.
  std::optional<uint64_t> remaining_bytes() const;
  bool compressed() const { return gzip_; }

 private:
  size_t buffered() const { return input_end_ - input_begin_; }
  // Tops up the input buffer so it holds at least `wanted` bytes unless the input ends first.
  void fill(size_t wanted);
  size_t read_gzip(void* destination, size_t size);

  RawInput& raw_;
  const std::string& name_;
  // Bytes read from the input but not yet consumed: the magic-byte probe in raw mode, the
  // compressed input in gzip mode.
  size_t input_capacity_;
  std::unique_ptr<unsigned char[]> input_;
  size_t input_begin_ = 0;
  size_t input_end_ = 0;
  bool input_at_end_ = false;
  bool gzip_ = false;
  // Raw mode: bytes handed out so far.
  uint64_t consumed_ = 0;
  // Gzip mode.
  z_stream stream_{};
  bool inflater_ready_ = false;
  bool in_member_ = false;  // inside a gzip member that has not reached its end yet
  bool finished_ = false;   // every member ended and the input has no more bytes
};

}  // namespace trainyard::data::detail
