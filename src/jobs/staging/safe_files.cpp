#include "jobs/staging/safe_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <system_error>

#include "core/error.h"

namespace trainyard::jobs::detail {
namespace {

std::string errno_text(int error) {
  return std::generic_category().message(error);
}

[[noreturn]] void throw_io(const std::string& what, const std::filesystem::path& path, int error) {
  throw IOError(what + " " + path.string() + ": " + errno_text(error));
}

constexpr size_t kMaxComponentBytes = 255;  // NAME_MAX on Linux filesystems

}  // namespace

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}

int FileDescriptor::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

std::string path_component_problem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name == "." || name == "..") return "is '" + std::string(name) + "'";
  if (name.find('/') != std::string_view::npos) return "contains '/'";
  if (name.find('\0') != std::string_view::npos) return "contains a NUL character";
  if (name.size() > kMaxComponentBytes) {
    return "is " + std::to_string(name.size()) + " bytes long (at most 255)";
  }
  return {};
}

std::vector<std::string> split_relative_path(std::string_view path, std::string_view what) {
  if (path.empty()) throw ValueError(std::string(what) + " is empty");
  if (path.front() == '/') throw ValueError(std::string(what) + " is an absolute path");
  std::vector<std::string> components;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view component = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    std::string problem = path_component_problem(component);
    if (!problem.empty()) {
      throw ValueError(std::string(what) + " has a path component that " + problem);
    }
    components.emplace_back(component);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return components;
}

FileDescriptor open_directory(const std::filesystem::path& path, bool follow_symlink) {
  int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow_symlink ? 0 : O_NOFOLLOW);
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    int error = errno;
    struct stat info {};
    if (error == ELOOP ||
        (error == ENOTDIR && ::lstat(path.c_str(), &info) == 0 && S_ISLNK(info.st_mode))) {
      throw IOError("refusing to use " + path.string() + ": it is a symlink");
    }
    throw_io("cannot open directory", path, error);
  }
  return FileDescriptor(fd);
}

FileDescriptor open_child_directory(int parent, const std::string& name, bool create,
                                    const std::filesystem::path& shown) {
  std::string problem = path_component_problem(name);
  if (!problem.empty()) throw ValueError("directory name '" + name + "' " + problem);
  if (create && ::mkdirat(parent, name.c_str(), 0777) != 0 && errno != EEXIST) {
    throw_io("cannot create directory", shown, errno);
  }
  int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    struct stat info {};
    if (error == ELOOP ||
        (error == ENOTDIR && ::fstatat(parent, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISLNK(info.st_mode))) {
      throw IOError("refusing to use " + shown.string() + ": it is a symlink");
    }
    if (error == ENOTDIR) {
      throw IOError("cannot use " + shown.string() + " as a directory: it is a file");
    }
    throw_io("cannot open directory", shown, error);
  }
  return FileDescriptor(fd);
}

FileDescriptor open_directory_chain(int parent, const std::vector<std::string>& components,
                                    bool create, const std::filesystem::path& shown_parent) {
  FileDescriptor current(::fcntl(parent, F_DUPFD_CLOEXEC, 0));
  if (!current.valid()) throw_io("cannot duplicate the descriptor of", shown_parent, errno);
  std::filesystem::path shown = shown_parent;
  for (const std::string& component : components) {
    shown /= component;
    current = open_child_directory(current.get(), component, create, shown);
  }
  return current;
}

TemporaryFile create_temporary_file(int directory, std::string_view stem,
                                    const std::filesystem::path& shown_directory, mode_t mode) {
  // Keep the whole name within NAME_MAX: the stem only helps a reader guess what it was.
  std::string base(1, '.');
  base.append(stem.substr(0, 200)).append(kTemporaryMarker);
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device device;
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string name = base;
    uint64_t bits = (static_cast<uint64_t>(device()) << 32) | device();
    for (int i = 0; i < 8; ++i) {
      name.push_back(kAlphabet[bits % 36]);
      bits /= 36;
    }
    int fd = ::openat(directory, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      mode);
    if (fd >= 0) return {FileDescriptor(fd), name};
    if (errno != EEXIST) throw_io("cannot create a temporary file in", shown_directory, errno);
  }
  throw IOError("cannot create a temporary file in " + shown_directory.string() +
                ": 100 names in a row were taken");
}

void write_all(int fd, const void* data, size_t size, const std::filesystem::path& shown) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t written = ::write(fd, bytes, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot write", shown, errno);
    }
    bytes += written;
    size -= static_cast<size_t>(written);
  }
}

void copy_contents(int from, int to, uint64_t size, const std::filesystem::path& shown_from,
                   const std::filesystem::path& shown_to) {
  uint64_t remaining = size;
  // copy_file_range lets the kernel (or a reflink-capable filesystem) do the work; fall back
  // to read/write where it is not available for this pair of files.
  loff_t in_offset = 0;
  while (remaining > 0) {
    ssize_t copied = ::copy_file_range(from, &in_offset, to, nullptr, remaining, 0);
    if (copied < 0) {
      if (errno == EINTR) continue;
      if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP ||
          errno == EPERM) {
        break;
      }
      throw_io("cannot copy into", shown_to, errno);
    }
    if (copied == 0) {
      throw IOError("cannot copy " + shown_from.string() + ": it is shorter than its " +
                    std::to_string(size) + " bytes (it changed while being copied)");
    }
    remaining -= static_cast<uint64_t>(copied);
  }
  std::vector<char> buffer;
  while (remaining > 0) {
    if (buffer.empty()) buffer.resize(1 << 20);
    size_t want = static_cast<size_t>(std::min<uint64_t>(remaining, buffer.size()));
    ssize_t got = ::pread(from, buffer.data(), want, in_offset);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot read", shown_from, errno);
    }
    if (got == 0) {
      throw IOError("cannot copy " + shown_from.string() + ": it is shorter than its " +
                    std::to_string(size) + " bytes (it changed while being copied)");
    }
    write_all(to, buffer.data(), static_cast<size_t>(got), shown_to);
    in_offset += got;
    remaining -= static_cast<uint64_t>(got);
  }
}

void sync_file(int fd, const std::filesystem::path& shown) {
  if (::fsync(fd) != 0) throw_io("cannot fsync", shown, errno);
}

void commit_temporary_file(int directory, const std::string& temporary,
                           const std::string& final_name, bool sync_directory,
                           const std::filesystem::path& shown_directory) {
  if (::renameat(directory, temporary.c_str(), directory, final_name.c_str()) != 0) {
    int error = errno;
    remove_quietly(directory, temporary);
    throw_io("cannot rename a temporary file to", shown_directory / final_name, error);
  }
  if (sync_directory) sync_file(directory, shown_directory);
}

void remove_quietly(int directory, const std::string& name) {
  ::unlinkat(directory, name.c_str(), 0);
}

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes, mode_t mode) {
  const std::filesystem::path parent = path.parent_path().empty() ? "." : path.parent_path();
  const std::string name = path.filename().string();
  std::string problem = path_component_problem(name);
  if (!problem.empty()) throw ValueError("file name of " + path.string() + " " + problem);
  FileDescriptor directory = open_directory(parent);
  TemporaryFile temporary = create_temporary_file(directory.get(), name, parent, mode);
  try {
    write_all(temporary.fd.get(), bytes.data(), bytes.size(), path);
    sync_file(temporary.fd.get(), path);
    temporary.fd = FileDescriptor();
  } catch (...) {
    remove_quietly(directory.get(), temporary.name);
    throw;
  }
  commit_temporary_file(directory.get(), temporary.name, name, /*sync_directory=*/true, parent);
}

bool is_within(const std::filesystem::path& path, const std::filesystem::path& root) {
  std::filesystem::path base = root.lexically_normal();
  if (!base.has_filename() && base.has_parent_path() && base != base.root_path()) {
    base = base.parent_path();  // "/a/b/" -> "/a/b"
  }
  const std::filesystem::path relative = path.lexically_normal().lexically_relative(base);
  return !relative.empty() && *relative.begin() != "..";
}

}  // namespace trainyard::jobs::detail
