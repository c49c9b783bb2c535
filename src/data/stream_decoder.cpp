#include "data/stream_decoder.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "core/error.h"

namespace trainyard::data::detail {
namespace {

constexpr size_t kInputChunk = size_t{1} << 16;

// The input buffer: one chunk, or less for an input known to be smaller (a short buffer
// then costs a short allocation); at least the two bytes of the magic probe.
size_t input_capacity(const RawInput& input) {
  std::optional<uint64_t> total = input.total_bytes();
  if (!total) return kInputChunk;
  return static_cast<size_t>(std::clamp<uint64_t>(*total, 2, kInputChunk));
}

}  // namespace

StreamDecoder::StreamDecoder(RawInput& input, const std::string& name)
    : raw_(input),
      name_(name),
      input_capacity_(input_capacity(input)),
      input_(std::make_unique_for_overwrite<unsigned char[]>(input_capacity_)) {
  fill(2);
  gzip_ = buffered() >= 2 && input_[0] == 0x1f && input_[1] == 0x8b;
  if (gzip_) {
    // 16 + MAX_WBITS: expect a gzip wrapper and check its CRC-32 and length trailer.
    if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) {
      throw IOError(name_ + ": cannot start the gzip decoder");
    }
    inflater_ready_ = true;
    in_member_ = true;
  }
}

StreamDecoder::~StreamDecoder() {
  if (inflater_ready_) inflateEnd(&stream_);
}

void StreamDecoder::fill(size_t wanted) {
  if (buffered() >= wanted || input_at_end_) return;
  if (input_begin_ > 0) {
    std::memmove(input_.get(), input_.get() + input_begin_, buffered());
    input_end_ = buffered();
    input_begin_ = 0;
  }
  while (input_end_ < wanted && !input_at_end_) {
    size_t count = raw_.read(input_.get() + input_end_, input_capacity_ - input_end_);
    if (count == 0) input_at_end_ = true;
    input_end_ += count;
  }
}

std::optional<uint64_t> StreamDecoder::remaining_bytes() const {
  std::optional<uint64_t> total = raw_.total_bytes();
  if (gzip_ || !total) return std::nullopt;
  return *total - std::min(*total, consumed_);
}

size_t StreamDecoder::read_some(void* destination, size_t size) {
  if (size == 0) return 0;
  if (gzip_) return read_gzip(destination, size);
  size_t count = 0;
  if (buffered() > 0) {
    count = std::min(size, buffered());
    std::memcpy(destination, input_.get() + input_begin_, count);
    input_begin_ += count;
  } else if (!input_at_end_) {
    count = raw_.read(destination, size);
    if (count == 0) input_at_end_ = true;
  }
  consumed_ += count;
  return count;
}

size_t StreamDecoder::read_gzip(void* destination, size_t size) {
  size_t request = std::min<size_t>(size, UINT_MAX);
  stream_.next_out = static_cast<Bytef*>(destination);
  stream_.avail_out = static_cast<uInt>(request);
  while (!finished_ && stream_.avail_out == request) {
    if (!in_member_) {
      // Between members: the input must end here or hold another gzip member.
      fill(2);
      if (buffered() == 0) {
        finished_ = true;
        break;
      }
      const unsigned char* next = input_.get() + input_begin_;
      if (buffered() < 2 || next[0] != 0x1f || next[1] != 0x8b) {
        throw DataError(name_ + ": corrupt gzip: unexpected bytes after the end of the " +
                        "compressed stream");
      }
      inflateReset(&stream_);
      in_member_ = true;
    }
    if (buffered() == 0) fill(1);
    if (buffered() == 0) {
      throw DataError(name_ + ": corrupt gzip: the compressed stream ends early (file truncated)");
    }
    stream_.next_in = input_.get() + input_begin_;
    stream_.avail_in = static_cast<uInt>(buffered());
    int result = inflate(&stream_, Z_NO_FLUSH);
    input_begin_ = input_end_ - stream_.avail_in;
    if (result == Z_STREAM_END) {
      in_member_ = false;
    } else if (result == Z_DATA_ERROR || result == Z_NEED_DICT) {
      throw DataError(name_ + ": corrupt gzip: " +
                      (stream_.msg != nullptr ? stream_.msg : "invalid compressed data"));
    } else if (result == Z_MEM_ERROR) {
      throw IOError(name_ + ": out of memory while decompressing");
    } else if (result != Z_OK && result != Z_BUF_ERROR) {
      throw DataError(name_ + ": corrupt gzip: zlib error " + std::to_string(result));
    }
  }
  return request - stream_.avail_out;
}

}  // namespace trainyard::data::detail
