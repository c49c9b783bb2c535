#include "keras/saving/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace trainyard::keras::saving {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

// Flushes the file or directory at `path` to disk.
void sync_path(const std::string& path, bool directory, const std::string& target) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw IOError("cannot open '" + path + "' to sync '" + target + "': " + errno_text());
  int status = ::fsync(fd);
  int saved_errno = errno;
  ::close(fd);
  if (status != 0) {
    throw IOError("cannot sync '" + path + "' for '" + target + "': " + std::strerror(saved_errno));
  }
}

// A name next to `path` no other writer picks: hidden, with the process id and a counter.
std::string temporary_name(const std::filesystem::path& path) {
  static std::atomic<uint64_t> counter{0};
  std::string name = "." + path.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                     std::to_string(counter.fetch_add(1));
  return (path.parent_path() / name).string();
}

}  // namespace

void write_file_atomically(const std::string& path,
                           const std::function<void(const std::string& temporary_path)>& write) {
  std::filesystem::path target(path);
  if (target.filename().empty()) throw IOError("cannot write '" + path + "': not a file name");
  std::string temporary = temporary_name(target);
  try {
    write(temporary);
    sync_path(temporary, false, path);
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
      throw IOError("cannot move the new '" + path + "' into place: " + errno_text());
    }
  } catch (...) {
    ::unlink(temporary.c_str());
    throw;
  }
  std::filesystem::path directory = target.parent_path();
  sync_path(directory.empty() ? "." : directory.string(), true, path);
}

void write_text_file_atomically(const std::string& path, const std::string& contents) {
  write_file_atomically(path, [&](const std::string& temporary) {
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw IOError("cannot create '" + temporary + "': " + errno_text());
    size_t written = 0;
    while (written < contents.size()) {
      ssize_t count = ::write(fd, contents.data() + written, contents.size() - written);
      if (count < 0 && errno == EINTR) continue;
      if (count <= 0) {
        int saved_errno = errno;
        ::close(fd);
        throw IOError("cannot write '" + path + "': " + std::strerror(saved_errno));
      }
      written += static_cast<size_t>(count);
    }
    if (::close(fd) != 0) throw IOError("cannot write '" + path + "': " + errno_text());
  });
}

std::string read_small_file(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IOError("cannot open '" + path + "': " + errno_text());
  std::string contents;
  char buffer[4096];
  while (true) {
    ssize_t count = ::read(fd, buffer, sizeof(buffer));
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) {
      int saved_errno = errno;
      ::close(fd);
      throw IOError("cannot read '" + path + "': " + std::strerror(saved_errno));
    }
    if (count == 0) break;
    contents.append(buffer, static_cast<size_t>(count));
    if (contents.size() > max_bytes) {
      ::close(fd);
      throw IOError("'" + path + "' is larger than " + std::to_string(max_bytes) +
                    " bytes; it is not a file trainyard wrote");
    }
  }
  ::close(fd);
  return contents;
}

}  // namespace trainyard::keras::saving
