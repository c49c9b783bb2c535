#include "jobs/builtin/output_files.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "core/error.h"
#include "data/npy_header.h"

namespace trainyard::jobs::builtin {
namespace {

// A fixed member time (1980-01-01, the earliest a zip can record) so the same weights give
// the same archive bytes.
constexpr time_t kMemberTime = 315532800;

std::string errno_text() {
  return std::strerror(errno);
}

// Runs `write` on a new temporary file beside `path`, then flushes and renames it over
// `path`. On any failure the temporary is removed and IOError names `path`.
void replace_atomically(const std::filesystem::path& path,
                        const std::function<void(int descriptor)>& write) {
  std::filesystem::path directory = path.parent_path().empty() ? "." : path.parent_path();
  // A hidden sibling, so the rename stays within one filesystem. (Built with append: GCC 12
  // warns falsely about "." + std::string under -O3.)
  std::string name = path.filename().string();
  name.insert(0, 1, '.');
  name.append(".tmp-XXXXXX");
  std::string temporary = (directory / name).string();
  int descriptor = mkstemp(temporary.data());
  if (descriptor < 0) {
    throw IOError(path.string() + ": cannot create a temporary file in " + directory.string() +
                  ": " + errno_text());
  }
  try {
    write(descriptor);
    if (::fsync(descriptor) != 0) throw IOError(path.string() + ": fsync failed: " + errno_text());
    if (::close(descriptor) != 0) {
      descriptor = -1;
      throw IOError(path.string() + ": close failed: " + errno_text());
    }
    descriptor = -1;
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
      throw IOError(path.string() +
                    ": cannot rename the temporary file into place: " + errno_text());
    }
  } catch (...) {
    if (descriptor >= 0) ::close(descriptor);
    ::unlink(temporary.c_str());
    throw;
  }
  // Make the rename itself durable.
  int directory_descriptor = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (directory_descriptor >= 0) {
    ::fsync(directory_descriptor);
    ::close(directory_descriptor);
  }
}

void write_all(int descriptor, const void* data, size_t size, const std::filesystem::path& path) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t written = ::write(descriptor, bytes, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw IOError(path.string() + ": write failed: " + errno_text());
    }
    bytes += written;
    size -= static_cast<size_t>(written);
  }
}

struct ArchiveDeleter {
  void operator()(archive* handle) const { archive_write_free(handle); }
};
struct EntryDeleter {
  void operator()(archive_entry* entry) const { archive_entry_free(entry); }
};

void check_archive(archive* handle, int status, const std::filesystem::path& path,
                   const std::string& what) {
  if (status == ARCHIVE_OK) return;
  const char* message = archive_error_string(handle);
  throw IOError(path.string() + ": " + what + ": " + (message ? message : "libarchive error"));
}

void write_member(archive* handle, const std::filesystem::path& path, const std::string& name,
                  const std::string& header, const Tensor& value) {
  std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
  archive_entry_set_pathname(entry.get(), name.c_str());
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_perm(entry.get(), 0644);
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(header.size() + value.nbytes()));
  archive_entry_set_mtime(entry.get(), kMemberTime, 0);
  check_archive(handle, archive_write_header(handle, entry.get()), path, "member " + name);
  auto put = [&](const void* data, size_t size) {
    if (size == 0) return;
    la_ssize_t written = archive_write_data(handle, data, size);
    if (written < 0 || static_cast<size_t>(written) != size) {
      check_archive(handle, ARCHIVE_FATAL, path, "member " + name);
    }
  };
  put(header.data(), header.size());
  put(value.raw_data(), value.nbytes());
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
  replace_atomically(
      path, [&](int descriptor) { write_all(descriptor, text.data(), text.size(), path); });
}

void write_weights_npz(const std::filesystem::path& path,
                       const std::vector<graph::VariablePtr>& variables) {
  // Check everything before the first byte is written.
  std::set<std::string> names;
  std::vector<std::string> headers;
  for (const auto& variable : variables) {
    if (!names.insert(variable->path).second) {
      throw ValueError(path.string() + ": two weights share the path '" + variable->path + "'");
    }
    if (!variable->value.defined() || !variable->value.device().is_cpu()) {
      throw ValueError(path.string() + ": weight '" + variable->path + "' is not on the CPU");
    }
    headers.push_back(
        data::format_npy_header(variable->value.dtype(), variable->value.shape().dims()));
  }
  replace_atomically(path, [&](int descriptor) {
    std::unique_ptr<archive, ArchiveDeleter> handle(archive_write_new());
    if (!handle) throw IOError(path.string() + ": cannot start a zip archive");
    check_archive(handle.get(), archive_write_set_format_zip(handle.get()), path, "zip format");
    check_archive(handle.get(), archive_write_set_options(handle.get(), "zip:compression=store"),
                  path, "zip options");
    // No padding after the central directory (libarchive pads to 10 KiB blocks by default).
    check_archive(handle.get(), archive_write_set_bytes_in_last_block(handle.get(), 1), path,
                  "block size");
    check_archive(handle.get(), archive_write_open_fd(handle.get(), descriptor), path, "open");
    for (size_t i = 0; i < variables.size(); ++i) {
      write_member(handle.get(), path, variables[i]->path + ".npy", headers[i],
                   variables[i]->value);
    }
    check_archive(handle.get(), archive_write_close(handle.get()), path, "finishing the zip");
  });
}

}  // namespace trainyard::jobs::builtin
