// The .keras container (keras-semantics.md 7(b)): a zip of metadata.json, config.json and
// model.weights.h5, stored uncompressed. Writing is atomic. Reading trusts nothing in the
// zip: entry names are never used as paths, only the three known entries are accepted, and
// no entry may yield more bytes than its cap, whatever its header claims.
#pragma once

#include <cstdint>
#include <string>

namespace trainyard::keras::saving {

inline constexpr const char* kMetadataEntry = "metadata.json";
inline constexpr const char* kConfigEntry = "config.json";
inline constexpr const char* kWeightsEntry = "model.weights.h5";

// Caps on the JSON entries. Keras's own are tens of bytes and kilobytes.
inline constexpr size_t kMaxMetadataBytes = size_t{64} << 10;
inline constexpr size_t kMaxConfigBytes = size_t{16} << 20;

// Writes the archive in Keras's entry order, atomically: the old file or the whole new one,
// never a part. Throws IOError naming `path` (and the entry) when it cannot be written.
void write_keras_archive(const std::string& path, const std::string& metadata_json,
                         const std::string& config_json, const std::string& weights_file);

struct KerasArchiveText {
  std::string metadata;  // metadata.json
  std::string config;    // config.json
};

// Checks every entry of the archive at `path` and returns its two JSON entries. Throws
// IOError when it cannot be opened; DataError naming the file and the entry for an unsafe
// name (absolute, "..", backslashes), an entry that is not a regular file, an unknown or
// repeated entry, a missing one, or a JSON entry over its cap; DataError when `path` is not
// a zip archive at all.
KerasArchiveText read_keras_archive_text(const std::string& path);

// Unpacks model.weights.h5 to the new file `destination`. Throws DataError naming the file
// and the entry when the entry is missing or its stated or actual size exceeds
// `max_bytes` (checked before and while writing, so a zip bomb stops at the cap).
void extract_keras_weights(const std::string& path, const std::string& destination,
                           uint64_t max_bytes);

}  // namespace trainyard::keras::saving
