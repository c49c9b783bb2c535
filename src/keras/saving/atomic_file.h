// Files that appear whole or not at all: written under a temporary name in the same
// directory, flushed to disk, then renamed over the target, so a crash or a full disk
// never leaves a half-written weights file or checkpoint record behind.
#pragma once

#include <functional>
#include <string>

namespace trainyard::keras::saving {

// Calls `write(temporary_path)`, which must create the file at that path and close it;
// then fsyncs it, renames it to `path` (replacing any file there) and fsyncs the directory.
// The temporary is removed when `write` or any step throws. Throws IOError naming `path`,
// or whatever `write` throws.
void write_file_atomically(const std::string& path,
                           const std::function<void(const std::string& temporary_path)>& write);

// write_file_atomically for a small text file with `contents`.
void write_text_file_atomically(const std::string& path, const std::string& contents);

// Reads a whole small file. Throws IOError naming the path when it cannot be read or is
// larger than `max_bytes`.
std::string read_small_file(const std::string& path, size_t max_bytes);

}  // namespace trainyard::keras::saving
