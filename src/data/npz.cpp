#include "data/npz.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

#include "core/error.h"
#include "data/message_text.h"
#include "data/npy_header.h"
#include "data/payload.h"

namespace trainyard::data {
namespace {

struct ArchiveDeleter {
  void operator()(archive* handle) const { archive_read_free(handle); }
};
using ArchivePointer = std::unique_ptr<archive, ArchiveDeleter>;

std::string archive_message(archive* handle) {
  const char* message = archive_error_string(handle);
  return message != nullptr ? message : "unknown libarchive error";
}

// The data of the archive's current member as a ByteSource.
class MemberSource final : public ByteSource {
 public:
  MemberSource(archive* handle, std::string name) : handle_(handle), name_(std::move(name)) {}

  size_t read_some(void* destination, size_t size) override {
    la_ssize_t count = archive_read_data(handle_, destination, size);
    if (count < 0) throw DataError(name_ + ": cannot decompress: " + archive_message(handle_));
    consumed_ += static_cast<uint64_t>(count);
    return static_cast<size_t>(count);
  }
  const std::string& name() const override { return name_; }
  uint64_t consumed() const { return consumed_; }

 private:
  archive* handle_;
  std::string name_;
  uint64_t consumed_ = 0;
};

// Why a member name is unsafe or unusable, or "" when it is fine.
std::string name_fault(std::string_view name) {
  if (name.empty()) return "an empty name";
  if (name.front() == '/') return "an absolute path";
  if (name.find('\\') != std::string_view::npos) return "a backslash";
  if (name.find('\0') != std::string_view::npos) return "a NUL byte";
  if (name.size() >= 2 && name[1] == ':') return "a drive letter";
  size_t begin = 0;
  while (begin <= name.size()) {
    size_t end = name.find('/', begin);
    if (end == std::string_view::npos) end = name.size();
    std::string_view component = name.substr(begin, end - begin);
    if (component.empty()) return "an empty path component";
    if (component == "." || component == "..")
      return "a '" + std::string(component) + "' component";
    begin = end + 1;
  }
  return "";
}

// The members of an opened archive; `path` names it in errors. Shared by both read_npz
// overloads, so a buffer is checked exactly as a file is.
std::map<std::string, Tensor> read_members(archive* handle, const std::string& path,
                                           uint64_t max_total_bytes) {
  std::map<std::string, Tensor> arrays;
  uint64_t total_bytes = 0;
  for (;;) {
    archive_entry* entry = nullptr;
    int status = archive_read_next_header(handle, &entry);
    if (status == ARCHIVE_EOF) break;
    if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
      throw DataError(path + ": not a readable .npz (zip) archive: " + archive_message(handle));
    }
    const char* raw_name = archive_entry_pathname(entry);
    std::string member = raw_name != nullptr ? raw_name : "";
    std::string where = path + ": member '" + detail::printable(member, 256) + "'";
    if (std::string fault = name_fault(member); !fault.empty()) {
      throw DataError(where + ": unsafe member name (" + fault + ")");
    }
    if (archive_entry_filetype(entry) != AE_IFREG) {
      throw DataError(where + ": not a regular file");
    }
    if (archive_entry_is_encrypted(entry))
      throw DataError(where + ": encrypted members are not supported");
    constexpr std::string_view kSuffix = ".npy";
    if (member.size() <= kSuffix.size() ||
        member.compare(member.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
      throw DataError(where + ": not a .npy array (an .npz holds only NAME.npy members)");
    }
    std::string key = member.substr(0, member.size() - kSuffix.size());
    if (arrays.count(key) != 0) throw DataError(where + ": the name appears twice");

    MemberSource source(handle, where);
    NpyHeader header = read_npy_header(source);
    uint64_t header_bytes = source.consumed();
    if (header.data_bytes > max_total_bytes - total_bytes) {
      throw DataError(where + ": the archive declares more than the limit of " +
                      std::to_string(max_total_bytes) + " bytes of array data");
    }
    total_bytes += header.data_bytes;
    if (archive_entry_size_is_set(entry) &&
        static_cast<uint64_t>(archive_entry_size(entry)) != header_bytes + header.data_bytes) {
      throw DataError(where + ": the zip directory gives " +
                      std::to_string(archive_entry_size(entry)) +
                      " bytes but its .npy header declares " +
                      std::to_string(header_bytes + header.data_bytes));
    }
    Tensor bytes = read_payload(source, header.data_bytes, describe_npy_payload(header));
    arrays.emplace(key, bytes.view(0, Shape(header.shape), header.dtype));
  }
  return arrays;
}

ArchivePointer new_zip_reader(const std::string& path) {
  ArchivePointer handle(archive_read_new());
  if (!handle) throw IOError(path + ": cannot start libarchive");
  // Seekable only: like numpy.load, trust the central directory at the end, so a zip cut
  // short (no end-of-central-directory record) is refused rather than read from its local
  // headers, which may disagree with the directory.
  archive_read_support_format_zip_seekable(handle.get());
  return handle;
}

// Why an archive would not open. libarchive's seekable reader does not recognise an empty
// zip (a lone end-of-central-directory record at offset 0), so that case is named here.
[[noreturn]] void throw_unreadable(archive* handle, const std::string& path,
                                   std::span<const unsigned char> first_bytes) {
  constexpr unsigned char kEmptyZip[] = {'P', 'K', 5, 6};
  if (first_bytes.size() >= 4 && std::memcmp(first_bytes.data(), kEmptyZip, 4) == 0) {
    throw DataError(path + ": an empty .npz (zip) archive: it holds no arrays");
  }
  throw DataError(path + ": not a readable .npz (zip) archive: " + archive_message(handle));
}

}  // namespace

std::map<std::string, Tensor> read_npz(const std::string& path, uint64_t max_total_bytes) {
  // Open once ourselves so a missing file is an IOError with the OS's reason.
  std::array<unsigned char, 4> first_bytes{};
  size_t first_count = 0;
  if (std::FILE* probe = std::fopen(path.c_str(), "rb")) {
    first_count = std::fread(first_bytes.data(), 1, first_bytes.size(), probe);
    std::fclose(probe);
  } else {
    throw IOError(path + ": cannot open: " + std::strerror(errno));
  }
  ArchivePointer handle = new_zip_reader(path);
  if (archive_read_open_filename(handle.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw_unreadable(handle.get(), path, std::span(first_bytes.data(), first_count));
  }
  return read_members(handle.get(), path, max_total_bytes);
}

std::map<std::string, Tensor> read_npz(std::span<const unsigned char> bytes,
                                       const std::string& name, uint64_t max_total_bytes) {
  ArchivePointer handle = new_zip_reader(name);
  if (archive_read_open_memory(handle.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    throw_unreadable(handle.get(), name, bytes.first(std::min<size_t>(bytes.size(), 4)));
  }
  return read_members(handle.get(), name, max_total_bytes);
}

}  // namespace trainyard::data
