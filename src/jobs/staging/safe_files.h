// File operations that cannot be steered outside their directory and never leave a
// half-written file under its final name: directories are walked one component at a time
// with openat(O_NOFOLLOW), and files are written under a temporary name, then renamed.
//
// Temporary names contain ".trainyard-tmp-" so that anything left by a killed process is
// recognisable as such. Every failure throws IOError (or ValueError for a bad name) naming
// the path. Functions here are thread-safe; file descriptors are owned by FileDescriptor.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace trainyard::jobs::detail {

// The marker in every temporary file name this folder creates.
inline constexpr std::string_view kTemporaryMarker = ".trainyard-tmp-";

// Owns one open file descriptor; closes it on destruction. Move-only.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();

 private:
  int fd_ = -1;
};

// Why `name` cannot be one path component (empty, ".", "..", contains '/' or NUL, longer
// than 255 bytes), or an empty string when it can.
std::string path_component_problem(std::string_view name);

// Splits a '/'-separated relative path into its components. Throws ValueError, starting
// with `what` (e.g. "key 'a/../b' of s3://b/x"), when the path is empty, absolute, or has an
// empty, ".", ".." or over-long component.
std::vector<std::string> split_relative_path(std::string_view path, std::string_view what);

// Opens the existing directory `path`. A symlink as its last component is refused unless
// `follow_symlink` (for roots the user chose, such as a data directory on another disk).
FileDescriptor open_directory(const std::filesystem::path& path, bool follow_symlink = false);

// Opens directory `name` inside `parent`, creating it (mode 0777 less umask) when `create`
// and it does not exist. A symlink or non-directory named `name` is refused. `shown` is
// the path used in messages.
FileDescriptor open_child_directory(int parent, const std::string& name, bool create,
                                    const std::filesystem::path& shown);

// Opens parent/components[0]/.../components[n-1] the same way, one component at a time.
FileDescriptor open_directory_chain(int parent, const std::vector<std::string>& components,
                                    bool create, const std::filesystem::path& shown_parent);

// A new, empty file in `directory`, named ".<stem>.trainyard-tmp-XXXXXXXX" (O_EXCL, `mode`
// less umask). The caller renames or removes it.
struct TemporaryFile {
  FileDescriptor fd;
  std::string name;
};
TemporaryFile create_temporary_file(int directory, std::string_view stem,
                                    const std::filesystem::path& shown_directory,
                                    mode_t mode = 0666);

// Writes all of `size` bytes at `data` to `fd`, retrying short writes.
void write_all(int fd, const void* data, size_t size, const std::filesystem::path& shown);

// Copies exactly `size` bytes from `from` (at its offset 0) to `to`. Throws IOError when the
// source ends early (it changed while being copied).
void copy_contents(int from, int to, uint64_t size, const std::filesystem::path& shown_from,
                   const std::filesystem::path& shown_to);

// fsync(fd), as an IOError on failure.
void sync_file(int fd, const std::filesystem::path& shown);

// Renames `temporary` inside `directory` to `final_name` (replacing a file of that name),
// then fsyncs the directory when `sync_directory`. Removes the temporary file if the rename
// fails.
void commit_temporary_file(int directory, const std::string& temporary,
                           const std::string& final_name, bool sync_directory,
                           const std::filesystem::path& shown_directory);

// Removes `name` from `directory` if it exists; never throws (used on error paths).
void remove_quietly(int directory, const std::string& name);

// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync,
// rename, fsync of the directory. The directory must exist; a symlink as the final
// component of `path` is replaced, not followed. The file is created with `mode` (less
// umask) from its first byte, so a secret is never readable by others even briefly.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes,
                           mode_t mode = 0666);

// True when `path` lies inside `root` (both absolute and already canonical), or equals it.
bool is_within(const std::filesystem::path& path, const std::filesystem::path& root);

}  // namespace trainyard::jobs::detail
