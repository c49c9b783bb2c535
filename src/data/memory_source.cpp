#include "data/memory_source.h"

#include <algorithm>
#include <cstring>

#include "data/stream_decoder.h"

namespace trainyard::data {
namespace {

class BufferInput final : public detail::RawInput {
 public:
  explicit BufferInput(std::span<const unsigned char> bytes) : bytes_(bytes) {}

  size_t read(void* destination, size_t size) override {
    size_t count = std::min(size, bytes_.size() - position_);
    if (count > 0) std::memcpy(destination, bytes_.data() + position_, count);
    position_ += count;
    return count;
  }
  std::optional<uint64_t> total_bytes() const override { return bytes_.size(); }

 private:
  std::span<const unsigned char> bytes_;
  size_t position_ = 0;
};

}  // namespace

MemorySource::MemorySource(std::span<const unsigned char> bytes, std::string name)
    : name_(std::move(name)),
      buffer_(std::make_unique<BufferInput>(bytes)),
      decoder_(std::make_unique<detail::StreamDecoder>(*buffer_, name_)) {}

MemorySource::~MemorySource() = default;

size_t MemorySource::read_some(void* destination, size_t size) {
  return decoder_->read_some(destination, size);
}

std::optional<uint64_t> MemorySource::remaining_bytes() const {
  return decoder_->remaining_bytes();
}

bool MemorySource::compressed() const {
  return decoder_->compressed();
}

}  // namespace trainyard::data
