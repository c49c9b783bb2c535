// FileSource: the bytes of a file on disk, transparently decompressed when the file is
// gzip (recognised by its magic bytes 1f 8b, not by its name). Concatenated gzip members
// are read as one stream, as gzip(1) does; bytes after the last member that do not start
// another member are a DataError, as is a truncated or corrupt (CRC-failing) stream.
// Thread safety: one thread at a time.
#pragma once

#include <memory>
#include <string>

#include "data/byte_source.h"

namespace trainyard::data {

namespace detail {
class RawInput;
class StreamDecoder;
}  // namespace detail

class FileSource final : public ByteSource {
 public:
  // Opens `path`. Throws IOError naming the path and the OS reason when it cannot.
  explicit FileSource(std::string path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  size_t read_some(void* destination, size_t size) override;
  // Known for an uncompressed regular file; nullopt for gzip.
  std::optional<uint64_t> remaining_bytes() const override;
  const std::string& name() const override { return path_; }

  // True when the file is gzip-compressed.
  bool compressed() const;

 private:
  std::string path_;
  std::unique_ptr<detail::RawInput> file_;
  std::unique_ptr<detail::StreamDecoder> decoder_;
};

}  // namespace trainyard::data
