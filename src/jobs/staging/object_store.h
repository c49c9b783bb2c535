// ObjectStore: trainyard's stand-in for S3 on one machine. An S3 URI s3://bucket/key names
// the file <root>/bucket/key, so a bucket is a directory under the store's root (by default
// <data-dir>/s3) and an object is a regular file below it, its key the relative path with
// '/' separators. A file:///absolute/path URI names a local file or directory directly.
//
// Listing follows S3: a prefix matches keys by plain string comparison (s3://b/train matches
// train/x and train-01/y), results come sorted by key (byte order, as S3 sorts UTF-8), and
// directories are not objects. A symlink inside the store is followed only while it points
// inside the store; one pointing outside is refused with its key named, never read.
//
// Writes are atomic: an object is written to a temporary name beside it, fsynced, then
// renamed, so a reader sees the old object or the new one, never part of one. Buckets are
// created on first write. Errors: ValueError for a malformed URI or unusable key, IOError
// for anything the filesystem refuses; both name the URI.
//
// Thread safety: an ObjectStore is immutable; any number of threads may use one at once.
// Concurrent writes of one key leave one of the writers' objects, whole.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace trainyard::jobs {

// A parsed s3:// or file:// URI.
struct StoreUri {
  enum class Scheme { kS3, kFile };
  Scheme scheme = Scheme::kS3;
  std::string bucket;          // s3: the bucket; file: empty
  std::string key;             // s3: the key or key prefix, possibly empty; file: empty
  std::filesystem::path path;  // file: the absolute, lexically normal path; s3: empty
  std::string text;            // the URI as given, for messages

  bool is_s3() const { return scheme == Scheme::kS3; }
};

// Parses `uri`. s3://bucket[/key]: the bucket must follow S3's naming rules for general
// purpose buckets (3..63 of [a-z0-9.-], letter or digit at both ends, no "..", not an IP
// address, no reserved prefix or suffix); the key is at most 1024 bytes without NUL.
// file:///absolute/path: taken literally (no percent-decoding). Anything else (https://,
// file://host/...) is a ValueError naming the URI and what is wrong.
StoreUri parse_store_uri(std::string_view uri);

// Why `bucket` is not a valid S3 bucket name, or an empty string when it is.
std::string bucket_name_problem(std::string_view bucket);

// One object found by ObjectStore::list.
struct StoredObject {
  std::string key;             // s3: the full key; file: the absolute path without its leading '/'
  std::string relative_path;   // the key after the listed prefix's folder part (see below)
  std::filesystem::path path;  // where its bytes are, symlinks resolved
  uint64_t size = 0;
};

// The part of `key` after the folder part of `prefix` (everything up to and including the
// prefix's last '/'): the path File mode gives the object under its channel directory.
// Prefix "data/train" and key "data/train-01/y" give "train-01/y"; prefix "data/train/" gives
// "x" for "data/train/x". REQUIRES: key starts with prefix.
std::string key_relative_to_prefix(std::string_view prefix, std::string_view key);

class ObjectStore {
 public:
  // A store rooted at `root` (need not exist yet; it is created on first write).
  explicit ObjectStore(std::filesystem::path root);

  // The default root for a trainyard data directory: <data_dir>/s3.
  static std::filesystem::path default_root(const std::filesystem::path& data_dir) {
    return data_dir / "s3";
  }

  const std::filesystem::path& root() const { return root_; }

  // Every object under `uri_prefix`, sorted by key. s3://: S3 prefix semantics (above); a
  // missing bucket is an IOError, a prefix matching nothing gives an empty list. file://: the
  // files below a directory (prefix = the directory plus '/'), or the one file named, or
  // nothing when the path does not exist; symlinks leaving that directory are refused.
  std::vector<StoredObject> list(std::string_view uri_prefix) const;

  // The file holding the object `uri` (symlinks resolved). Throws IOError when there is no
  // such object (missing, or a directory), ValueError for a key with "..", "." or empty
  // components.
  std::filesystem::path get_path(std::string_view uri) const;

  // True when get_path(uri) would succeed.
  bool exists(std::string_view uri) const;

  // Writes the object `uri` atomically from the regular file `local_file` / from `bytes`.
  // The key must be a valid relative path: no empty, ".", ".." components, none over 255
  // bytes. Directories on the way are created; a symlink on the way is refused.
  void put_file(const std::filesystem::path& local_file, std::string_view uri) const;
  void put_bytes(std::string_view bytes, std::string_view uri) const;

  // Prepares to write `uri` in place: validates the key, creates the directories above it
  // (refusing symlinks) and returns the final path of the object. For writers that produce
  // their own temporary file beside it and rename it (pack_directory does).
  std::filesystem::path prepare_put(std::string_view uri) const;

 private:
  std::filesystem::path root_;
};

}  // namespace trainyard::jobs
