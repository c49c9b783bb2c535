// MemorySource: bytes already in memory (a download, an archive member, a fuzzer's input)
// read exactly as FileSource reads a file: gunzipped on the fly when they start with the
// gzip magic 1f 8b, with the same errors. Every reader that takes a ByteSource reads
// buffers through it. Thread safety: one thread at a time.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "data/byte_source.h"

namespace trainyard::data {

namespace detail {
class RawInput;
class StreamDecoder;
}  // namespace detail

class MemorySource final : public ByteSource {
 public:
  // Reads `bytes`, which must stay alive and unchanged while this source is used. `name`
  // is what error messages call the buffer (a file name, "upload.npy").
  MemorySource(std::span<const unsigned char> bytes, std::string name);
  ~MemorySource() override;
  MemorySource(const MemorySource&) = delete;
  MemorySource& operator=(const MemorySource&) = delete;

  size_t read_some(void* destination, size_t size) override;
  // Known for uncompressed bytes; nullopt for gzip.
  std::optional<uint64_t> remaining_bytes() const override;
  const std::string& name() const override { return name_; }

  // True when the bytes are gzip-compressed.
  bool compressed() const;

 private:
  std::string name_;
  std::unique_ptr<detail::RawInput> buffer_;
  std::unique_ptr<detail::StreamDecoder> decoder_;
};

}  // namespace trainyard::data
