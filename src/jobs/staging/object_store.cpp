#include "jobs/staging/object_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>

#include "core/error.h"
#include "jobs/staging/safe_files.h"
#include "jobs/utf8.h"

namespace trainyard::jobs {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kS3Scheme = "s3://";
constexpr std::string_view kFileScheme = "file://";
constexpr size_t kMaxKeyBytes = 1024;  // S3's limit on a key's UTF-8 length

std::string shown_char(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte \\x") + kHex[byte >> 4] + kHex[byte & 15];
}

bool is_ip_address(std::string_view name) {
  int groups = 0;
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    size_t end = dot == std::string_view::npos ? name.size() : dot;
    size_t length = end - start;
    if (length == 0 || length > 3) return false;
    for (size_t i = start; i < end; ++i) {
      if (name[i] < '0' || name[i] > '9') return false;
    }
    ++groups;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return groups == 4;
}

// Walks store directories, collecting objects. Symlinks are resolved and must stay inside
// `containment`; directories on the current path are remembered to stop symlink loops.
class Walker {
 public:
  Walker(fs::path containment, std::string uri, size_t folder_length)
      : containment_(std::move(containment)), uri_(std::move(uri)), folder_length_(folder_length) {}

  // `entry` is a canonical directory plus one name; `key` is that entry's key.
  void visit(const fs::path& entry, const std::string& key) {
    std::error_code error;
    fs::file_status status = fs::symlink_status(entry, error);
    if (error)
      throw IOError("cannot list " + uri_ + ": " + entry.string() + ": " + error.message());
    fs::path real = entry;
    if (fs::is_symlink(status)) {
      real = fs::canonical(entry, error);
      if (error == std::errc::no_such_file_or_directory) return;  // dangling: not an object
      if (error) {
        throw IOError("cannot list " + uri_ + ": key '" + key + "' is a symlink that cannot be " +
                      "resolved: " + error.message());
      }
      if (!detail::is_within(real, containment_)) {
        throw ValueError("refusing key '" + key + "' under " + uri_ + ": it is a symlink to " +
                         real.string() + ", outside " + containment_.string());
      }
      status = fs::status(real, error);
      if (error)
        throw IOError("cannot list " + uri_ + ": " + real.string() + ": " + error.message());
    }
    if (fs::is_regular_file(status)) {
      uint64_t size = fs::file_size(real, error);
      if (error)
        throw IOError("cannot list " + uri_ + ": " + real.string() + ": " + error.message());
      objects_.push_back({key, key.substr(folder_length_), real, size});
    } else if (fs::is_directory(status)) {
      visit_directory(real, key + "/", "");
    }
    // FIFOs, sockets and devices are not objects.
  }

  // Visits the entries of `directory` (canonical) whose names start with `name_prefix`;
  // `key_prefix` is the key of the directory itself, ending in '/' (or empty).
  void visit_directory(const fs::path& directory, const std::string& key_prefix,
                       std::string_view name_prefix) {
    if (std::find(chain_.begin(), chain_.end(), directory) != chain_.end()) {
      throw IOError("cannot list " + uri_ + ": symlink loop at key '" + key_prefix + "'");
    }
    chain_.push_back(directory);
    std::vector<std::string> names;
    std::error_code error;
    for (fs::directory_iterator it(directory, error), end; !error && it != end;
         it.increment(error)) {
      std::string name = it->path().filename().string();
      if (name.compare(0, name_prefix.size(), name_prefix) == 0) names.push_back(std::move(name));
    }
    if (error) {
      throw IOError("cannot list " + uri_ + ": " + directory.string() + ": " + error.message());
    }
    for (const std::string& name : names) visit(directory / name, key_prefix + name);
    chain_.pop_back();
  }

  std::vector<StoredObject> take_sorted() {
    std::sort(objects_.begin(), objects_.end(),
              [](const StoredObject& a, const StoredObject& b) { return a.key < b.key; });
    return std::move(objects_);
  }

 private:
  fs::path containment_;
  std::string uri_;
  size_t folder_length_;
  std::vector<fs::path> chain_;
  std::vector<StoredObject> objects_;
};

fs::path canonical_or_throw(const fs::path& path, const std::string& what) {
  std::error_code error;
  fs::path result = fs::canonical(path, error);
  if (error) throw IOError(what + ": " + path.string() + ": " + error.message());
  return result;
}

// Where a write of `uri` lands: the open directory that will hold it and the final name.
struct PutTarget {
  detail::FileDescriptor directory;
  std::string name;
  fs::path directory_path;
};

PutTarget open_put_target(const fs::path& root, const StoreUri& uri) {
  if (uri.is_s3()) {
    std::vector<std::string> components =
        detail::split_relative_path(uri.key, "key '" + uri.key + "' of " + uri.text);
    std::error_code error;
    fs::create_directories(root, error);
    if (error) {
      throw IOError("cannot write " + uri.text + ": cannot create the object store root " +
                    root.string() + ": " + error.message());
    }
    std::string name = components.back();
    components.pop_back();
    components.insert(components.begin(), uri.bucket);
    detail::FileDescriptor root_fd = detail::open_directory(root, /*follow_symlink=*/true);
    detail::FileDescriptor directory =
        detail::open_directory_chain(root_fd.get(), components, /*create=*/true, root);
    fs::path directory_path = root;
    for (const std::string& component : components) directory_path /= component;
    return {std::move(directory), std::move(name), std::move(directory_path)};
  }
  if (!uri.path.has_filename() || uri.path == uri.path.root_path()) {
    throw ValueError("cannot write " + uri.text + ": it names no file");
  }
  fs::path parent = uri.path.parent_path();
  std::error_code error;
  fs::create_directories(parent, error);
  if (error) {
    throw IOError("cannot write " + uri.text + ": cannot create " + parent.string() + ": " +
                  error.message());
  }
  // A file:// path is the user's own; symlinks on the way (a data disk) are theirs to use.
  return {detail::open_directory(parent, /*follow_symlink=*/true), uri.path.filename().string(),
          parent};
}

}  // namespace

std::string bucket_name_problem(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) {
    return "is " + std::to_string(bucket.size()) + " characters long (3 to 63 allowed)";
  }
  for (char c : bucket) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!allowed) {
      return "contains " + shown_char(c) +
             " (only lowercase letters, digits, '.' and '-' are allowed)";
    }
  }
  auto alphanumeric = [](char c) { return c != '.' && c != '-'; };
  if (!alphanumeric(bucket.front()) || !alphanumeric(bucket.back())) {
    return "must begin and end with a letter or digit";
  }
  if (bucket.find("..") != std::string_view::npos) return "contains two adjacent periods";
  if (is_ip_address(bucket)) return "is formatted as an IP address";
  for (std::string_view prefix : {"xn--", "sthree-", "amzn-s3-demo-"}) {
    if (bucket.starts_with(prefix)) {
      return "starts with the reserved prefix '" + std::string(prefix) + "'";
    }
  }
  for (std::string_view suffix : {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}) {
    if (bucket.ends_with(suffix)) {
      return "ends with the reserved suffix '" + std::string(suffix) + "'";
    }
  }
  return {};
}

StoreUri parse_store_uri(std::string_view uri) {
  StoreUri result;
  result.text = std::string(uri);
  if (uri.find('\0') != std::string_view::npos) {
    throw ValueError("invalid URI '" + detail::printable_ascii(uri) +
                     "': it contains a NUL character");
  }
  if (uri.starts_with(kS3Scheme)) {
    std::string_view rest = uri.substr(kS3Scheme.size());
    size_t slash = rest.find('/');
    result.scheme = StoreUri::Scheme::kS3;
    result.bucket = std::string(rest.substr(0, slash));
    result.key = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
    if (result.bucket.empty()) {
      throw ValueError("invalid S3 URI '" + result.text + "': it names no bucket");
    }
    std::string problem = bucket_name_problem(result.bucket);
    if (!problem.empty()) {
      throw ValueError("invalid S3 URI '" + result.text + "': bucket name '" + result.bucket +
                       "' " + problem);
    }
    if (result.key.size() > kMaxKeyBytes) {
      throw ValueError("invalid S3 URI '" + result.text.substr(0, 80) + "...': its key is " +
                       std::to_string(result.key.size()) + " bytes long (S3 allows 1024)");
    }
    return result;
  }
  if (uri.starts_with(kFileScheme)) {
    std::string_view rest = uri.substr(kFileScheme.size());
    if (rest.empty() || rest.front() != '/') {
      throw ValueError("invalid file URI '" + result.text +
                       "': expected file:///absolute/path (a host name is not allowed)");
    }
    result.scheme = StoreUri::Scheme::kFile;
    fs::path path = fs::path(std::string(rest)).lexically_normal();
    if (!path.has_filename() && path != path.root_path()) path = path.parent_path();
    result.path = path;
    return result;
  }
  if (uri.starts_with("https://") || uri.starts_with("http://")) {
    throw ValueError("'" + result.text +
                     "' is not supported by trainyard yet: the object store reads "
                     "s3://bucket/key and file:///absolute/path URIs");
  }
  throw ValueError("invalid URI '" + result.text +
                   "': expected s3://bucket/key or file:///absolute/path");
}

std::string key_relative_to_prefix(std::string_view prefix, std::string_view key) {
  size_t slash = prefix.rfind('/');
  size_t folder_length = slash == std::string_view::npos ? 0 : slash + 1;
  return std::string(key.substr(std::min(folder_length, key.size())));
}

ObjectStore::ObjectStore(fs::path root) : root_(std::move(root)) {}

std::vector<StoredObject> ObjectStore::list(std::string_view uri_prefix) const {
  StoreUri uri = parse_store_uri(uri_prefix);
  std::error_code error;
  if (!uri.is_s3()) {
    fs::file_status status = fs::symlink_status(uri.path, error);
    if (error || !fs::exists(status)) return {};
    fs::path real = canonical_or_throw(uri.path, "cannot list " + uri.text);
    std::string key = uri.path.string().substr(1);
    if (fs::is_regular_file(fs::status(real))) {
      size_t folder_length = key.rfind('/') == std::string::npos ? 0 : key.rfind('/') + 1;
      return {{key, key.substr(folder_length), real, fs::file_size(real)}};
    }
    if (!fs::is_directory(fs::status(real))) return {};
    std::string key_prefix = key.empty() ? "" : key + "/";
    Walker walker(real, uri.text, key_prefix.size());
    walker.visit_directory(real, key_prefix, "");
    return walker.take_sorted();
  }

  const fs::path bucket_path = root_ / uri.bucket;
  if (!fs::exists(fs::symlink_status(bucket_path, error))) {
    throw IOError("cannot list " + uri.text + ": bucket '" + uri.bucket +
                  "' does not exist (no directory " + bucket_path.string() + ")");
  }
  const fs::path root = canonical_or_throw(root_, "cannot list " + uri.text);
  fs::path directory = canonical_or_throw(bucket_path, "cannot list " + uri.text);
  if (!detail::is_within(directory, root) || !fs::is_directory(directory)) {
    throw IOError("cannot list " + uri.text + ": " + bucket_path.string() +
                  " is not a directory inside the object store");
  }
  size_t slash = uri.key.rfind('/');
  const size_t folder_length = slash == std::string::npos ? 0 : slash + 1;
  const std::string folder = uri.key.substr(0, folder_length);
  const std::string leaf = uri.key.substr(folder_length);
  if (!folder.empty()) {
    std::string folder_path = folder.substr(0, folder.size() - 1);
    for (const std::string& component :
         detail::split_relative_path(folder_path, "prefix '" + uri.key + "' of " + uri.text)) {
      fs::path next = directory / component;
      fs::file_status status = fs::symlink_status(next, error);
      if (error || !fs::exists(status)) return {};
      if (fs::is_symlink(status)) {
        next = fs::canonical(next, error);
        if (error) return {};
        if (!detail::is_within(next, root)) {
          throw ValueError("refusing prefix '" + uri.key + "' of " + uri.text + ": '" + component +
                           "' is a symlink to " + next.string() + ", outside the object store");
        }
      }
      if (!fs::is_directory(next, error)) return {};
      directory = next;
    }
  }
  Walker walker(root, uri.text, folder_length);
  walker.visit_directory(directory, folder, leaf);
  return walker.take_sorted();
}

fs::path ObjectStore::get_path(std::string_view uri_text) const {
  StoreUri uri = parse_store_uri(uri_text);
  fs::path candidate;
  fs::path containment;
  std::error_code error;
  if (uri.is_s3()) {
    detail::split_relative_path(uri.key, "key '" + uri.key + "' of " + uri.text);
    candidate = root_ / uri.bucket / uri.key;
    if (!fs::exists(candidate, error)) {
      throw IOError("no object " + uri.text + " (" + candidate.string() + " does not exist)");
    }
    containment = canonical_or_throw(root_, "cannot read " + uri.text);
  } else {
    candidate = uri.path;
  }
  fs::path real = fs::canonical(candidate, error);
  if (error) {
    throw IOError("no object " + uri.text + " (" + candidate.string() + ": " + error.message() +
                  ")");
  }
  if (uri.is_s3() && !detail::is_within(real, containment)) {
    throw ValueError("refusing " + uri.text + ": it is a symlink to " + real.string() +
                     ", outside the object store");
  }
  if (!fs::is_regular_file(real, error)) {
    throw IOError("no object " + uri.text + " (" + real.string() + " is not a regular file)");
  }
  return real;
}

bool ObjectStore::exists(std::string_view uri) const {
  try {
    get_path(uri);
    return true;
  } catch (const IOError&) {
    return false;
  }
}

fs::path ObjectStore::prepare_put(std::string_view uri_text) const {
  StoreUri uri = parse_store_uri(uri_text);
  PutTarget target = open_put_target(root_, uri);
  return target.directory_path / target.name;
}

void ObjectStore::put_bytes(std::string_view bytes, std::string_view uri_text) const {
  StoreUri uri = parse_store_uri(uri_text);
  PutTarget target = open_put_target(root_, uri);
  const fs::path final_path = target.directory_path / target.name;
  detail::TemporaryFile temporary =
      detail::create_temporary_file(target.directory.get(), target.name, target.directory_path);
  try {
    detail::write_all(temporary.fd.get(), bytes.data(), bytes.size(), final_path);
    detail::sync_file(temporary.fd.get(), final_path);
    temporary.fd = detail::FileDescriptor();
  } catch (...) {
    detail::remove_quietly(target.directory.get(), temporary.name);
    throw;
  }
  detail::commit_temporary_file(target.directory.get(), temporary.name, target.name,
                                /*sync_directory=*/true, target.directory_path);
}

void ObjectStore::put_file(const fs::path& local_file, std::string_view uri_text) const {
  StoreUri uri = parse_store_uri(uri_text);
  detail::FileDescriptor source(::open(local_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!source.valid()) {
    throw IOError("cannot upload " + local_file.string() + " to " + uri.text + ": " +
                  std::generic_category().message(errno));
  }
  struct stat info {};
  if (::fstat(source.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    throw IOError("cannot upload " + local_file.string() + " to " + uri.text +
                  ": not a regular file");
  }
  PutTarget target = open_put_target(root_, uri);
  const fs::path final_path = target.directory_path / target.name;
  detail::TemporaryFile temporary =
      detail::create_temporary_file(target.directory.get(), target.name, target.directory_path);
  try {
    detail::copy_contents(source.get(), temporary.fd.get(), static_cast<uint64_t>(info.st_size),
                          local_file, final_path);
    detail::sync_file(temporary.fd.get(), final_path);
    temporary.fd = detail::FileDescriptor();
  } catch (...) {
    detail::remove_quietly(target.directory.get(), temporary.name);
    throw;
  }
  detail::commit_temporary_file(target.directory.get(), temporary.name, target.name,
                                /*sync_directory=*/true, target.directory_path);
}

}  // namespace trainyard::jobs
