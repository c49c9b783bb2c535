// Zip files as Keras's .keras archives use them, over libarchive. ZipWriter writes stored
// (not deflated) entries, as Python's zipfile does by default. ZipReader walks entries one
// by one and never hands out more bytes than the caller allows per entry, so a crafted
// archive (a zip bomb, an entry lying about its size) cannot exhaust memory or disk.
// Thread safety: one object per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

struct archive;
struct archive_entry;

namespace trainyard::keras::saving {

class ZipWriter {
 public:
  // A new zip at `path`, replacing any file there. Throws IOError naming the path.
  explicit ZipWriter(const std::string& path);
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  // Appends an entry `name` holding `contents` / the bytes of the file at `source`.
  // Throws IOError naming the archive and the entry.
  void add(const std::string& name, const std::string& contents);
  void add_file(const std::string& name, const std::string& source);
  // Writes the central directory and closes the file. Throws IOError when that fails.
  void close();

 private:
  void write_header(const std::string& name, int64_t size);
  void write_data(const std::string& name, const char* data, size_t size);

  std::string path_;
  struct archive* archive_ = nullptr;
};

// What an entry's header says.
struct ZipEntryInfo {
  std::string name;                    // as stored: never trust it as a path
  bool regular_file = false;           // not a directory, link or device
  std::optional<int64_t> stated_size;  // the uncompressed size the header claims, if any
};

class ZipReader {
 public:
  // Opens `path` for reading. Throws IOError when it cannot be opened, DataError when it is
  // not a zip archive; both name the path.
  explicit ZipReader(const std::string& path);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  // The next entry's header, or nullopt after the last one. Throws DataError naming the
  // archive when the next header is corrupt.
  std::optional<ZipEntryInfo> next();
  // The current entry's bytes. Throws DataError naming the archive and the entry when it
  // would yield more than `max_bytes` (whatever its header claims) or cannot be decoded.
  std::string read(size_t max_bytes);
  // Writes the current entry to a new file at `destination` (created with O_EXCL, mode
  // 0600, never following a link), under the same cap; removes it again on failure.
  void extract(const std::string& destination, uint64_t max_bytes);

 private:
  // Calls `sink` with each block of the current entry, counting against `max_bytes`.
  template <typename Sink>
  void stream(uint64_t max_bytes, Sink&& sink);

  std::string path_;
  std::string entry_name_;
  struct archive* archive_ = nullptr;
};

}  // namespace trainyard::keras::saving
