#include "keras/saving/zip_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "core/error.h"

namespace trainyard::keras::saving {
namespace {

constexpr size_t kBlockBytes = 1 << 16;

std::string archive_reason(struct archive* archive) {
  const char* text = archive ? archive_error_string(archive) : nullptr;
  return text ? text : "libarchive gave no reason";
}

using EntryPtr = std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)>;

}  // namespace

// ---------------------------------------------------------------------------------------
// Writing.

ZipWriter::ZipWriter(const std::string& path) : path_(path), archive_(archive_write_new()) {
  if (!archive_) throw IOError("cannot write '" + path + "': out of memory");
  if (archive_write_set_format_zip(archive_) != ARCHIVE_OK ||
      archive_write_zip_set_compression_store(archive_) != ARCHIVE_OK ||
      archive_write_open_filename(archive_, path.c_str()) != ARCHIVE_OK) {
    std::string reason = archive_reason(archive_);
    archive_write_free(archive_);
    archive_ = nullptr;
    throw IOError("cannot write '" + path + "': " + reason);
  }
}

ZipWriter::~ZipWriter() {
  if (archive_) archive_write_free(archive_);  // after a failure; the caller drops the file
}

void ZipWriter::write_header(const std::string& name, int64_t size) {
  EntryPtr entry(archive_entry_new(), &archive_entry_free);
  if (!entry) throw IOError("cannot write '" + path_ + "' entry '" + name + "': out of memory");
  archive_entry_set_pathname(entry.get(), name.c_str());
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_perm(entry.get(), 0644);
  archive_entry_set_size(entry.get(), size);
  archive_entry_set_mtime(entry.get(), std::time(nullptr), 0);
  if (archive_write_header(archive_, entry.get()) != ARCHIVE_OK) {
    throw IOError("cannot write '" + path_ + "' entry '" + name + "': " + archive_reason(archive_));
  }
}

void ZipWriter::write_data(const std::string& name, const char* data, size_t size) {
  while (size > 0) {
    la_ssize_t written = archive_write_data(archive_, data, size);
    if (written <= 0) {
      throw IOError("cannot write '" + path_ + "' entry '" + name +
                    "': " + archive_reason(archive_));
    }
    data += written;
    size -= static_cast<size_t>(written);
  }
}

void ZipWriter::add(const std::string& name, const std::string& contents) {
  write_header(name, static_cast<int64_t>(contents.size()));
  write_data(name, contents.data(), contents.size());
}

void ZipWriter::add_file(const std::string& name, const std::string& source) {
  std::error_code error;
  uintmax_t size = std::filesystem::file_size(source, error);
  std::ifstream in(source, std::ios::binary);
  if (error || !in) {
    throw IOError("cannot write '" + path_ + "' entry '" + name + "': cannot read '" + source +
                  "'" + (error ? ": " + error.message() : ""));
  }
  write_header(name, static_cast<int64_t>(size));
  std::vector<char> block(kBlockBytes);
  uintmax_t remaining = size;
  while (remaining > 0) {
    size_t want = static_cast<size_t>(std::min<uintmax_t>(remaining, block.size()));
    if (!in.read(block.data(), static_cast<std::streamsize>(want))) {
      throw IOError("cannot write '" + path_ + "' entry '" + name + "': '" + source +
                    "' ended early");
    }
    write_data(name, block.data(), want);
    remaining -= want;
  }
}

void ZipWriter::close() {
  if (!archive_) return;
  int status = archive_write_close(archive_);
  std::string reason = archive_reason(archive_);
  archive_write_free(archive_);
  archive_ = nullptr;
  if (status != ARCHIVE_OK) throw IOError("cannot finish writing '" + path_ + "': " + reason);
}

// ---------------------------------------------------------------------------------------
// Reading.

ZipReader::ZipReader(const std::string& path) : path_(path), archive_(archive_read_new()) {
  if (!archive_) throw IOError("cannot read '" + path + "': out of memory");
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    archive_read_free(archive_);
    archive_ = nullptr;
    throw IOError("cannot open '" + path + "': " +
                  (std::filesystem::exists(path, error) ? "not a regular file" : "no such file"));
  }
  archive_read_support_format_zip(archive_);
  if (archive_read_open_filename(archive_, path.c_str(), kBlockBytes) != ARCHIVE_OK) {
    std::string reason = archive_reason(archive_);
    archive_read_free(archive_);
    archive_ = nullptr;
    throw DataError("'" + path + "' is not a zip archive: " + reason);
  }
}

ZipReader::~ZipReader() {
  if (archive_) archive_read_free(archive_);
}

std::optional<ZipEntryInfo> ZipReader::next() {
  struct archive_entry* entry = nullptr;
  int status = archive_read_next_header(archive_, &entry);
  if (status == ARCHIVE_EOF) return std::nullopt;
  if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
    throw DataError("'" + path_ + "' is not a readable zip archive: " + archive_reason(archive_));
  }
  ZipEntryInfo info;
  const char* name = archive_entry_pathname(entry);
  info.name = name ? name : "";
  info.regular_file = archive_entry_filetype(entry) == AE_IFREG;
  if (archive_entry_size_is_set(entry)) info.stated_size = archive_entry_size(entry);
  entry_name_ = info.name;
  return info;
}

template <typename Sink>
void ZipReader::stream(uint64_t max_bytes, Sink&& sink) {
  std::vector<char> block(kBlockBytes);
  uint64_t total = 0;
  while (true) {
    la_ssize_t count = archive_read_data(archive_, block.data(), block.size());
    if (count == 0) return;
    if (count < 0) {
      throw DataError("'" + path_ + "' entry '" + entry_name_ +
                      "' cannot be read: " + archive_reason(archive_));
    }
    total += static_cast<uint64_t>(count);
    if (total > max_bytes) {
      throw DataError("'" + path_ + "' entry '" + entry_name_ + "' holds more than " +
                      std::to_string(max_bytes) + " bytes, more than such an entry may");
    }
    sink(block.data(), static_cast<size_t>(count));
  }
}

std::string ZipReader::read(size_t max_bytes) {
  std::string contents;
  stream(max_bytes, [&](const char* data, size_t size) { contents.append(data, size); });
  return contents;
}

void ZipReader::extract(const std::string& destination, uint64_t max_bytes) {
  int fd = ::open(destination.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw IOError("cannot extract '" + path_ + "' entry '" + entry_name_ + "' to '" + destination +
                  "': " + std::strerror(errno));
  }
  try {
    stream(max_bytes, [&](const char* data, size_t size) {
      while (size > 0) {
        ssize_t written = ::write(fd, data, size);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) {
          throw IOError("cannot extract '" + path_ + "' entry '" + entry_name_ + "' to '" +
                        destination + "': " + std::strerror(errno));
        }
        data += written;
        size -= static_cast<size_t>(written);
      }
    });
    if (::close(fd) != 0) {
      fd = -1;
      throw IOError("cannot extract '" + path_ + "' entry '" + entry_name_ + "' to '" +
                    destination + "': " + std::strerror(errno));
    }
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(destination.c_str());
    throw;
  }
}

}  // namespace trainyard::keras::saving
