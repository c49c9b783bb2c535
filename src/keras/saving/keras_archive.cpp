#include "keras/saving/keras_archive.h"

#include <set>

#include "core/error.h"
#include "keras/saving/atomic_file.h"
#include "keras/saving/zip_archive.h"

namespace trainyard::keras::saving {
namespace {

std::string describe(const std::string& path, const std::string& entry) {
  return "'" + path + "' entry '" + entry + "'";
}

// Why `name` could escape an extraction directory, or "" when it could not.
std::string unsafe_name_reason(const std::string& name) {
  if (name.empty()) return "has an empty name";
  if (name.front() == '/') return "has an absolute path";
  if (name.find('\\') != std::string::npos) return "has a backslash in its name";
  if (name.size() >= 2 && name[1] == ':') return "has a drive letter in its name";
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    if (name.compare(start, end - start, "..") == 0 && end - start == 2) {
      return "has a path traversal ('..') in its name";
    }
    start = end + 1;
  }
  return "";
}

// Checks one entry's header; returns its name when it is one of the three known entries.
const std::string& check_entry(const std::string& path, const ZipEntryInfo& entry,
                               std::set<std::string>& seen) {
  static const std::set<std::string> kKnown{kMetadataEntry, kConfigEntry, kWeightsEntry};
  if (std::string why = unsafe_name_reason(entry.name); !why.empty()) {
    throw DataError(describe(path, entry.name) + " " + why + "; refusing the archive");
  }
  if (!kKnown.count(entry.name)) {
    throw DataError(describe(path, entry.name) +
                    " is not part of a Keras model archive (expected only metadata.json, "
                    "config.json and model.weights.h5; trainyard's layers have no assets)");
  }
  if (!entry.regular_file) throw DataError(describe(path, entry.name) + " is not a regular file");
  if (!seen.insert(entry.name).second) {
    throw DataError(describe(path, entry.name) + " appears twice; refusing the archive");
  }
  return *kKnown.find(entry.name);
}

void check_stated_size(const std::string& path, const ZipEntryInfo& entry, uint64_t max_bytes) {
  if (entry.stated_size && (*entry.stated_size < 0 || uint64_t(*entry.stated_size) > max_bytes)) {
    throw DataError(describe(path, entry.name) + " claims " + std::to_string(*entry.stated_size) +
                    " bytes, more than the " + std::to_string(max_bytes) +
                    " such an entry may hold; refusing the archive");
  }
}

}  // namespace

void write_keras_archive(const std::string& path, const std::string& metadata_json,
                         const std::string& config_json, const std::string& weights_file) {
  try {
    write_file_atomically(path, [&](const std::string& temporary) {
      ZipWriter zip(temporary);
      zip.add(kMetadataEntry, metadata_json);
      zip.add(kConfigEntry, config_json);
      zip.add_file(kWeightsEntry, weights_file);
      zip.close();
    });
  } catch (const IOError& error) {
    // The writer names the temporary beside `path`; say which file the user asked for.
    throw IOError("cannot write '" + path + "': " + error.what());
  }
}

KerasArchiveText read_keras_archive_text(const std::string& path) {
  ZipReader zip(path);
  KerasArchiveText text;
  std::set<std::string> seen;
  while (std::optional<ZipEntryInfo> entry = zip.next()) {
    const std::string& name = check_entry(path, *entry, seen);
    if (name == kMetadataEntry) {
      check_stated_size(path, *entry, kMaxMetadataBytes);
      text.metadata = zip.read(kMaxMetadataBytes);
    } else if (name == kConfigEntry) {
      check_stated_size(path, *entry, kMaxConfigBytes);
      text.config = zip.read(kMaxConfigBytes);
    }
  }
  for (const char* required : {kConfigEntry, kWeightsEntry}) {
    if (!seen.count(required)) {
      throw DataError("'" + path + "' has no entry '" + required +
                      "'; it is not a Keras model archive");
    }
  }
  return text;
}

void extract_keras_weights(const std::string& path, const std::string& destination,
                           uint64_t max_bytes) {
  ZipReader zip(path);
  std::set<std::string> seen;
  while (std::optional<ZipEntryInfo> entry = zip.next()) {
    if (check_entry(path, *entry, seen) != kWeightsEntry) continue;
    check_stated_size(path, *entry, max_bytes);
    zip.extract(destination, max_bytes);
    return;
  }
  throw DataError("'" + path + "' has no entry '" + std::string(kWeightsEntry) + "'");
}

}  // namespace trainyard::keras::saving
