// The built-in trainer's output files, each written whole or not at all: the bytes go to a
// hidden temporary in the target's directory, which is flushed to disk and renamed over the
// target, so a reader (or a job packed after a crash) never sees half a file.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include "graph/variable.h"

namespace trainyard::jobs::builtin {

// Writes `text` to `path` atomically. Throws IOError naming the path when the directory
// cannot take the temporary or a write, fsync or rename fails (the temporary is removed).
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

// Writes `variables` as a NumPy .npz archive at `path`, atomically: a zip (members stored,
// not deflated) with one .npy member per variable named by its path, e.g. "dense/kernel.npy",
// so numpy.load(path)["dense/kernel"] is that weight. Throws ValueError for two variables
// with one path or a dtype .npy cannot hold, IOError naming the path when writing fails.
void write_weights_npz(const std::filesystem::path& path,
                       const std::vector<graph::VariablePtr>& variables);

}  // namespace trainyard::jobs::builtin
