#include "jobs/runners/log_follower.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "core/error.h"

namespace trainyard::jobs {
namespace {

std::string error_text(int error) {
  return std::system_category().message(error);
}

}  // namespace

LogFollower::LogFollower(std::filesystem::path path, uint64_t offset, LogFollowerOptions options)
    : path_(std::move(path)), options_(options), offset_(offset) {
  if (options_.max_read_bytes == 0) options_.max_read_bytes = 1;
}

LogChunk LogFollower::read() {
  LogChunk chunk;
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return chunk;
    throw IOError("cannot open log " + path_.string() + ": " + error_text(errno));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    throw IOError("cannot read log " + path_.string() + ": " + error_text(error));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    throw IOError("cannot read log " + path_.string() + ": not a regular file");
  }
  const uint64_t size = static_cast<uint64_t>(info.st_size);
  if (size < offset_) {
    // Truncated or replaced: what was read is gone, so start over.
    offset_ = 0;
    pending_.clear();
    pending_bytes_ = 0;
    after_carriage_return_ = false;
  }
  if (!checked_previous_byte_ && offset_ > 0) {
    // Following from just after a '\r': a '\n' here completes that break, not a new line.
    char previous = 0;
    after_carriage_return_ =
        ::pread(fd, &previous, 1, static_cast<off_t>(offset_ - 1)) == 1 && previous == '\r';
  }
  checked_previous_byte_ = true;
  const size_t wanted =
      static_cast<size_t>(std::min<uint64_t>(size - offset_, options_.max_read_bytes));
  chunk.bytes.resize(wanted);
  size_t filled = 0;
  while (filled < wanted) {
    const ssize_t count = ::pread(fd, chunk.bytes.data() + filled, wanted - filled,
                                  static_cast<off_t>(offset_ + filled));
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) {
      const int error = errno;
      ::close(fd);
      throw IOError("cannot read log " + path_.string() + ": " + error_text(error));
    }
    if (count == 0) break;  // shrank while we read; the next read() notices
    filled += static_cast<size_t>(count);
  }
  ::close(fd);
  chunk.bytes.resize(filled);
  offset_ += filled;
  for (const char byte : chunk.bytes) add_byte(byte, chunk.lines);
  return chunk;
}

void LogFollower::add_byte(char byte, std::vector<std::string>& lines) {
  if (byte == '\n' && after_carriage_return_) {
    // The second half of "\r\n": the line already ended at '\r'.
    after_carriage_return_ = false;
    return;
  }
  after_carriage_return_ = byte == '\r';
  if (byte == '\n' || byte == '\r') {
    end_line(lines);
    return;
  }
  ++pending_bytes_;
  if (pending_.size() < options_.max_line_bytes) pending_.push_back(byte);
}

void LogFollower::end_line(std::vector<std::string>& lines) {
  lines.push_back(std::move(pending_));
  pending_.clear();
  pending_bytes_ = 0;
}

std::optional<std::string> LogFollower::finish() {
  if (pending_bytes_ == 0) return std::nullopt;
  std::string line = std::move(pending_);
  pending_.clear();
  pending_bytes_ = 0;
  return line;
}

}  // namespace trainyard::jobs
