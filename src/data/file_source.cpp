#include "data/file_source.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "data/stream_decoder.h"

namespace trainyard::data {
namespace {

std::string os_reason() {
  return std::strerror(errno);
}

// A file opened for reading, with its size when it is a regular file.
class FileInput final : public detail::RawInput {
 public:
  explicit FileInput(const std::string& path) : path_(path) {
    file_ = std::fopen(path_.c_str(), "rb");
    if (file_ == nullptr) throw IOError(path_ + ": cannot open: " + os_reason());
    struct stat info {};
    if (fstat(fileno(file_), &info) == 0) {
      if (S_ISDIR(info.st_mode)) {
        std::fclose(file_);
        throw IOError(path_ + ": cannot read: it is a directory");
      }
      if (S_ISREG(info.st_mode)) size_ = static_cast<uint64_t>(info.st_size);
    }
  }
  ~FileInput() override { std::fclose(file_); }
  FileInput(const FileInput&) = delete;
  FileInput& operator=(const FileInput&) = delete;

  size_t read(void* destination, size_t size) override {
    size_t count = std::fread(destination, 1, size, file_);
    if (count == 0 && std::ferror(file_)) throw IOError(path_ + ": read failed: " + os_reason());
    return count;
  }
  std::optional<uint64_t> total_bytes() const override { return size_; }

 private:
  const std::string& path_;
  std::FILE* file_ = nullptr;
  std::optional<uint64_t> size_;
};

}  // namespace

FileSource::FileSource(std::string path)
    : path_(std::move(path)),
      file_(std::make_unique<FileInput>(path_)),
      decoder_(std::make_unique<detail::StreamDecoder>(*file_, path_)) {}

FileSource::~FileSource() = default;

size_t FileSource::read_some(void* destination, size_t size) {
  return decoder_->read_some(destination, size);
}

std::optional<uint64_t> FileSource::remaining_bytes() const {
  return decoder_->remaining_bytes();
}

bool FileSource::compressed() const {
  return decoder_->compressed();
}

}  // namespace trainyard::data
