#include "data/file_source.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace trainyard::data {
namespace {

constexpr size_t kInputChunk = size_t{1} << 16;

std::string os_reason() {
  return std::strerror(errno);
}

}  // namespace

struct FileSource::State {
  std::FILE* file = nullptr;
  // Bytes read from the file but not yet consumed: the magic-byte probe in raw mode, the
  // compressed input in gzip mode.
  std::vector<unsigned char> input = std::vector<unsigned char>(kInputChunk);
  size_t input_begin = 0;
  size_t input_end = 0;
  bool file_at_end = false;
  bool gzip = false;
  // Raw mode: bytes handed out so far and the file's size when it is a regular file.
  uint64_t consumed = 0;
  std::optional<uint64_t> file_size;
  // Gzip mode.
  z_stream stream{};
  bool inflater_ready = false;
  bool in_member = false;  // inside a gzip member that has not reached its end yet
  bool finished = false;   // every member ended and the file has no more bytes

  ~State() {
    if (inflater_ready) inflateEnd(&stream);
    if (file != nullptr) std::fclose(file);
  }

  size_t buffered() const { return input_end - input_begin; }

  // Tops up the input buffer so it holds at least `wanted` bytes unless the file ends first.
  void fill(const std::string& path, size_t wanted) {
    if (buffered() >= wanted || file_at_end) return;
    if (input_begin > 0) {
      std::memmove(input.data(), input.data() + input_begin, buffered());
      input_end = buffered();
      input_begin = 0;
    }
    while (input_end < wanted && !file_at_end) {
      size_t count = std::fread(input.data() + input_end, 1, input.size() - input_end, file);
      if (count == 0) {
        if (std::ferror(file)) throw IOError(path + ": read failed: " + os_reason());
        file_at_end = true;
      }
      input_end += count;
    }
  }
};

FileSource::FileSource(std::string path) : path_(std::move(path)), state_(new State) {
  state_->file = std::fopen(path_.c_str(), "rb");
  if (state_->file == nullptr) throw IOError(path_ + ": cannot open: " + os_reason());
  struct stat info {};
  if (fstat(fileno(state_->file), &info) == 0) {
    if (S_ISDIR(info.st_mode)) throw IOError(path_ + ": cannot read: it is a directory");
    if (S_ISREG(info.st_mode)) state_->file_size = static_cast<uint64_t>(info.st_size);
  }
  state_->fill(path_, 2);
  state_->gzip = state_->buffered() >= 2 && state_->input[0] == 0x1f && state_->input[1] == 0x8b;
  if (state_->gzip) {
    // 16 + MAX_WBITS: expect a gzip wrapper and check its CRC-32 and length trailer.
    if (inflateInit2(&state_->stream, 16 + MAX_WBITS) != Z_OK) {
      throw IOError(path_ + ": cannot start the gzip decoder");
    }
    state_->inflater_ready = true;
    state_->in_member = true;
  }
}

FileSource::~FileSource() = default;

bool FileSource::compressed() const {
  return state_->gzip;
}

std::optional<uint64_t> FileSource::remaining_bytes() const {
  if (state_->gzip || !state_->file_size) return std::nullopt;
  return *state_->file_size - std::min(*state_->file_size, state_->consumed);
}

size_t FileSource::read_some(void* destination, size_t size) {
  State& state = *state_;
  if (size == 0) return 0;
  if (!state.gzip) {
    size_t count = 0;
    if (state.buffered() > 0) {
      count = std::min(size, state.buffered());
      std::memcpy(destination, state.input.data() + state.input_begin, count);
      state.input_begin += count;
    } else if (!state.file_at_end) {
      count = std::fread(destination, 1, size, state.file);
      if (count == 0) {
        if (std::ferror(state.file)) throw IOError(path_ + ": read failed: " + os_reason());
        state.file_at_end = true;
      }
    }
    state.consumed += count;
    return count;
  }

  z_stream& stream = state.stream;
  size_t request = std::min<size_t>(size, UINT_MAX);
  stream.next_out = static_cast<Bytef*>(destination);
  stream.avail_out = static_cast<uInt>(request);
  while (!state.finished && stream.avail_out == request) {
    if (!state.in_member) {
      // Between members: the file must end here or hold another gzip member.
      state.fill(path_, 2);
      if (state.buffered() == 0) {
        state.finished = true;
        break;
      }
      const unsigned char* next = state.input.data() + state.input_begin;
      if (state.buffered() < 2 || next[0] != 0x1f || next[1] != 0x8b) {
        throw DataError(path_ + ": corrupt gzip: unexpected bytes after the end of the " +
                        "compressed stream");
      }
      inflateReset(&stream);
      state.in_member = true;
    }
    if (state.buffered() == 0) state.fill(path_, 1);
    if (state.buffered() == 0) {
      throw DataError(path_ + ": corrupt gzip: the compressed stream ends early (file truncated)");
    }
    stream.next_in = state.input.data() + state.input_begin;
    stream.avail_in = static_cast<uInt>(state.buffered());
    int result = inflate(&stream, Z_NO_FLUSH);
    state.input_begin = state.input_end - stream.avail_in;
    if (result == Z_STREAM_END) {
      state.in_member = false;
    } else if (result == Z_DATA_ERROR || result == Z_NEED_DICT) {
      throw DataError(path_ + ": corrupt gzip: " +
                      (stream.msg != nullptr ? stream.msg : "invalid compressed data"));
    } else if (result == Z_MEM_ERROR) {
      throw IOError(path_ + ": out of memory while decompressing");
    } else if (result != Z_OK && result != Z_BUF_ERROR) {
      throw DataError(path_ + ": corrupt gzip: zlib error " + std::to_string(result));
    }
  }
  return request - stream.avail_out;
}

}  // namespace trainyard::data
