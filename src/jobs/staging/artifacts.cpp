#include "jobs/staging/artifacts.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <system_error>

#include "core/error.h"
#include "jobs/staging/safe_files.h"

namespace trainyard::jobs {
namespace fs = std::filesystem;
namespace {

struct ArchiveDeleter {
  void operator()(archive* handle) const { archive_free(handle); }
};
struct EntryDeleter {
  void operator()(archive_entry* entry) const { archive_entry_free(entry); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;
using EntryPtr = std::unique_ptr<archive_entry, EntryDeleter>;

std::string errno_text() {
  return std::generic_category().message(errno);
}

std::string archive_error(archive* handle) {
  const char* text = archive_error_string(handle);
  return text != nullptr ? text : "unknown libarchive error";
}

// The names in the open directory `directory`, sorted bytewise ("." and ".." left out).
std::vector<std::string> sorted_names(int directory, const fs::path& shown) {
  int copy = ::fcntl(directory, F_DUPFD_CLOEXEC, 0);
  DIR* stream = copy >= 0 ? ::fdopendir(copy) : nullptr;
  if (stream == nullptr) {
    if (copy >= 0) ::close(copy);
    throw IOError("cannot list " + shown.string() + ": " + errno_text());
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* entry = ::readdir(stream)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  int error = errno;
  ::closedir(stream);
  if (error != 0) {
    throw IOError("cannot list " + shown.string() + ": " + std::generic_category().message(error));
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Whether symlink target `target`, found at `entry_name` inside the packed tree, resolves
// (lexically) inside the tree.
bool link_stays_inside(const std::string& entry_name, const std::string& target) {
  if (target.empty() || target.front() == '/') return false;
  fs::path resolved = (fs::path(entry_name).parent_path() / target).lexically_normal();
  return resolved.empty() || *resolved.begin() != "..";
}

// Whether the symlink at `link` really resolves inside `root` (both absolute, root
// canonical): catches links that pass the lexical test by going through another link
// ("x" -> "y/../z" with "y" -> ".").
bool link_resolves_inside(const fs::path& link, const fs::path& root) {
  std::error_code error;
  const fs::path target = fs::read_symlink(link, error);
  if (error || target.is_absolute()) return false;
  // Resolve the target from the link's folder: weakly_canonical(link) would stop at a
  // dangling link and never look at where it points.
  const fs::path resolved = fs::weakly_canonical(link.parent_path() / target, error);
  return !error && detail::is_within(resolved, root);
}

class Packer {
 public:
  Packer(archive* writer, const PackOptions& options, fs::path root, dev_t skip_device,
         ino_t skip_inode)
      : writer_(writer),
        options_(options),
        root_(std::move(root)),
        skip_device_(skip_device),
        skip_inode_(skip_inode) {}

  void pack_directory_contents(int directory, const std::string& prefix, const fs::path& shown) {
    for (const std::string& name : sorted_names(directory, shown)) {
      const std::string entry_name = prefix + name;
      const fs::path entry_path = shown / name;
      struct stat info {};
      if (::fstatat(directory, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
        throw IOError("cannot pack " + entry_path.string() + ": " + errno_text());
      }
      if (info.st_dev == skip_device_ && info.st_ino == skip_inode_) continue;
      if (S_ISDIR(info.st_mode)) {
        write_header(entry_name, AE_IFDIR, info, 0, nullptr, entry_path);
        result_.directories += 1;
        notify(entry_name);
        detail::FileDescriptor child =
            detail::open_child_directory(directory, name, /*create=*/false, entry_path);
        pack_directory_contents(child.get(), entry_name + "/", entry_path);
      } else if (S_ISREG(info.st_mode)) {
        pack_file(directory, name, entry_name, entry_path);
      } else if (S_ISLNK(info.st_mode)) {
        pack_symlink(directory, name, entry_name, info, entry_path);
      } else {
        result_.skipped.push_back(entry_name + ": not a regular file, directory or symlink");
      }
    }
  }

  PackResult& result() { return result_; }

 private:
  void notify(const std::string& entry_name) {
    if (options_.on_entry) options_.on_entry(entry_name);
  }

  void write_header(const std::string& entry_name, unsigned int type, const struct stat& info,
                    int64_t size, const char* link_target, const fs::path& shown) {
    EntryPtr entry(archive_entry_new());
    archive_entry_copy_pathname(entry.get(), entry_name.c_str());
    archive_entry_set_filetype(entry.get(), type);
    archive_entry_set_perm(entry.get(), info.st_mode & 07777);
    archive_entry_set_size(entry.get(), size);
    archive_entry_set_mtime(entry.get(), info.st_mtim.tv_sec, 0);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    if (link_target != nullptr) archive_entry_copy_symlink(entry.get(), link_target);
    if (archive_write_header(writer_, entry.get()) != ARCHIVE_OK) {
      throw IOError("cannot pack " + shown.string() + ": " + archive_error(writer_));
    }
  }

  void pack_file(int directory, const std::string& name, const std::string& entry_name,
                 const fs::path& shown) {
    detail::FileDescriptor file(
        ::openat(directory, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    struct stat info {};
    if (!file.valid() || ::fstat(file.get(), &info) != 0) {
      throw IOError("cannot pack " + shown.string() + ": " + errno_text());
    }
    if (!S_ISREG(info.st_mode)) {
      throw IOError("cannot pack " + shown.string() + ": it changed while being packed");
    }
    write_header(entry_name, AE_IFREG, info, info.st_size, nullptr, shown);
    std::vector<char> buffer(1 << 20);
    uint64_t remaining = static_cast<uint64_t>(info.st_size);
    while (remaining > 0) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(remaining, buffer.size()));
      ssize_t got = ::read(file.get(), buffer.data(), want);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw IOError("cannot read " + shown.string() + ": " + errno_text());
      if (got == 0) {
        throw IOError("cannot pack " + shown.string() + ": it shrank while being packed");
      }
      if (archive_write_data(writer_, buffer.data(), static_cast<size_t>(got)) != got) {
        throw IOError("cannot pack " + shown.string() + ": " + archive_error(writer_));
      }
      remaining -= static_cast<uint64_t>(got);
    }
    char extra = 0;
    if (::read(file.get(), &extra, 1) > 0) {
      throw IOError("cannot pack " + shown.string() + ": it grew while being packed");
    }
    result_.files += 1;
    result_.bytes += static_cast<uint64_t>(info.st_size);
    notify(entry_name);
  }

  void pack_symlink(int directory, const std::string& name, const std::string& entry_name,
                    const struct stat& info, const fs::path& shown) {
    std::string target(static_cast<size_t>(info.st_size) + 1, '\0');
    ssize_t length = ::readlinkat(directory, name.c_str(), target.data(), target.size());
    if (length < 0) throw IOError("cannot read symlink " + shown.string() + ": " + errno_text());
    target.resize(static_cast<size_t>(length));
    if (!link_stays_inside(entry_name, target) ||
        !link_resolves_inside(root_ / entry_name, root_)) {
      result_.skipped.push_back(entry_name + ": symlink to " + target +
                                " leads outside the packed directory");
      return;
    }
    write_header(entry_name, AE_IFLNK, info, 0, target.c_str(), shown);
    result_.symlinks += 1;
    notify(entry_name);
  }

  archive* writer_;
  const PackOptions& options_;
  fs::path root_;  // the source directory, canonical
  dev_t skip_device_;
  ino_t skip_inode_;
  PackResult result_;
};

// Checks an archive entry name and returns it as a relative path without "./" or a trailing
// '/'; empty for the archive's own root ("." or "./").
std::string safe_entry_name(const char* raw, const std::string& archive_text) {
  if (raw == nullptr) throw ValueError("archive " + archive_text + " has an entry without a name");
  std::string name = raw;
  while (name.starts_with("./")) name.erase(0, 2);
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  if (name.empty() || name == ".") return {};
  detail::split_relative_path(name, "entry '" + std::string(raw) + "' of archive " + archive_text);
  return name;
}

// Extracts every entry of `reader` under `root` (canonical, freshly created).
UnpackResult extract_entries(archive* reader, const fs::path& root,
                             const std::string& archive_text) {
  ArchivePtr writer(archive_write_disk_new());
  archive_write_disk_set_options(writer.get(), ARCHIVE_EXTRACT_TIME |
                                                   ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                   ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  UnpackResult result;
  archive_entry* entry = nullptr;
  int status = ARCHIVE_OK;
  while ((status = archive_read_next_header(reader, &entry)) == ARCHIVE_OK) {
    const char* raw = archive_entry_pathname(entry);
    const std::string name = safe_entry_name(raw, archive_text);
    const std::string shown = "entry '" + std::string(raw) + "' of archive " + archive_text;
    const unsigned int type = archive_entry_filetype(entry);
    if (const char* hardlink = archive_entry_hardlink(entry)) {
      std::string target = safe_entry_name(hardlink, archive_text);
      if (target.empty()) throw ValueError(shown + " is a hard link to the archive's root");
      archive_entry_copy_hardlink(entry, (root / target).c_str());
    } else if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(entry);
      if (target == nullptr || !link_stays_inside(name, target)) {
        throw ValueError(shown + " is a symlink to " + (target ? target : "nothing") +
                         ", outside the destination");
      }
    } else if (type != AE_IFREG && type != AE_IFDIR) {
      throw ValueError(shown + " is not a regular file, directory or link");
    }
    if (name.empty()) continue;  // "./": the destination itself
    archive_entry_copy_pathname(entry, (root / name).c_str());
    archive_entry_set_perm(entry, archive_entry_perm(entry) & 0777);  // no setuid, setgid
    if (archive_write_header(writer.get(), entry) != ARCHIVE_OK) {
      throw IOError("cannot extract " + shown + ": " + archive_error(writer.get()));
    }
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int data_status = ARCHIVE_OK;
    while ((data_status = archive_read_data_block(reader, &block, &size, &offset)) == ARCHIVE_OK) {
      if (archive_write_data_block(writer.get(), block, size, offset) != ARCHIVE_OK) {
        throw IOError("cannot extract " + shown + ": " + archive_error(writer.get()));
      }
      result.bytes += size;
    }
    if (data_status != ARCHIVE_EOF) {
      throw DataError("cannot read " + shown + ": " + archive_error(reader));
    }
    if (archive_write_finish_entry(writer.get()) != ARCHIVE_OK) {
      throw IOError("cannot extract " + shown + ": " + archive_error(writer.get()));
    }
    result.entries += 1;
  }
  if (status != ARCHIVE_EOF) {
    throw DataError("cannot read archive " + archive_text + ": " + archive_error(reader));
  }
  if (archive_write_close(writer.get()) != ARCHIVE_OK) {
    throw IOError("cannot finish extracting " + archive_text + ": " + archive_error(writer.get()));
  }
  // Each link passed the lexical test on its own; chains of links are checked as extracted.
  std::error_code error;
  for (fs::recursive_directory_iterator it(root, error), end; !error && it != end;
       it.increment(error)) {
    if (it->is_symlink(error) && !link_resolves_inside(it->path(), root)) {
      throw ValueError("entry '" + it->path().lexically_relative(root).string() + "' of archive " +
                       archive_text + " is a symlink to " +
                       fs::read_symlink(it->path(), error).string() +
                       " that resolves outside the destination");
    }
  }
  if (error) throw IOError("cannot check " + root.string() + ": " + error.message());
  return result;
}

std::string join_uri(std::string base, std::string_view tail) {
  // "s3://b/out/" and "s3://b/out" name the same place: never double the '/'.
  const size_t scheme_end = base.find("://");
  const size_t minimum = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  while (base.size() > minimum + 1 && base.back() == '/') base.pop_back();
  return base + "/" + std::string(tail);
}

void ensure_directory(const fs::path& directory) {
  std::error_code error;
  fs::create_directories(directory, error);
  if (error) throw IOError("cannot create " + directory.string() + ": " + error.message());
}

}  // namespace

PackResult pack_directory(const fs::path& source_directory, const fs::path& archive_path,
                          const PackOptions& options) {
  detail::FileDescriptor source = detail::open_directory(source_directory);
  const fs::path archive_directory =
      archive_path.parent_path().empty() ? fs::path(".") : archive_path.parent_path();
  const std::string archive_name = archive_path.filename().string();
  if (std::string problem = detail::path_component_problem(archive_name); !problem.empty()) {
    throw ValueError("archive file name of " + archive_path.string() + " " + problem);
  }
  detail::FileDescriptor directory =
      detail::open_directory(archive_directory, /*follow_symlink=*/true);
  detail::TemporaryFile temporary =
      detail::create_temporary_file(directory.get(), archive_name, archive_directory);
  PackResult result;
  try {
    struct stat own {};
    if (::fstat(temporary.fd.get(), &own) != 0) {
      throw IOError("cannot stat " + (archive_directory / temporary.name).string());
    }
    ArchivePtr writer(archive_write_new());
    if (archive_write_add_filter_gzip(writer.get()) != ARCHIVE_OK ||
        archive_write_set_format_pax_restricted(writer.get()) != ARCHIVE_OK) {
      throw IOError("cannot set up " + archive_path.string() + ": " + archive_error(writer.get()));
    }
    // Names are stored as the bytes the filesystem holds, whatever the locale; the gzip
    // header carries no time, so equal trees give equal archives.
    archive_write_set_format_option(writer.get(), "pax", "hdrcharset", "BINARY");
    archive_write_set_filter_option(writer.get(), "gzip", "timestamp", nullptr);
    if (archive_write_open_fd(writer.get(), temporary.fd.get()) != ARCHIVE_OK) {
      throw IOError("cannot write " + archive_path.string() + ": " + archive_error(writer.get()));
    }
    std::error_code error;
    fs::path root = fs::canonical(source_directory, error);
    if (error) throw IOError("cannot pack " + source_directory.string() + ": " + error.message());
    Packer packer(writer.get(), options, root, own.st_dev, own.st_ino);
    packer.pack_directory_contents(source.get(), "", source_directory);
    if (archive_write_close(writer.get()) != ARCHIVE_OK) {
      throw IOError("cannot write " + archive_path.string() + ": " + archive_error(writer.get()));
    }
    result = std::move(packer.result());
    detail::sync_file(temporary.fd.get(), archive_path);
    temporary.fd = detail::FileDescriptor();
  } catch (...) {
    detail::remove_quietly(directory.get(), temporary.name);
    throw;
  }
  detail::commit_temporary_file(directory.get(), temporary.name, archive_name,
                                /*sync_directory=*/true, archive_directory);
  return result;
}

UnpackResult unpack_archive(const fs::path& archive_path, const fs::path& destination) {
  const std::string archive_text = archive_path.string();
  std::error_code error;
  const fs::file_status status = fs::symlink_status(destination, error);
  const bool exists = fs::exists(status);
  if (exists && (!fs::is_directory(status) || !fs::is_empty(destination, error))) {
    throw IOError("cannot unpack " + archive_text + " into " + destination.string() +
                  ": it exists and is not an empty directory");
  }
  const fs::path parent = fs::canonical(
      destination.parent_path().empty() ? fs::path(".") : destination.parent_path(), error);
  if (error) {
    throw IOError("cannot unpack " + archive_text + " into " + destination.string() + ": " +
                  error.message());
  }
  std::string pattern = (parent / ("." + destination.filename().string()).substr(0, 200)).string() +
                        std::string(detail::kTemporaryMarker) + "XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw IOError("cannot create a temporary directory in " + parent.string() + ": " +
                  errno_text());
  }
  const fs::path staging = pattern;
  try {
    ArchivePtr reader(archive_read_new());
    archive_read_support_filter_all(reader.get());
    archive_read_support_format_tar(reader.get());
    archive_read_set_format_option(reader.get(), "tar", "hdrcharset", "BINARY");
    if (archive_read_open_filename(reader.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK) {
      throw DataError("cannot read archive " + archive_text + ": " + archive_error(reader.get()));
    }
    UnpackResult result = extract_entries(reader.get(), staging, archive_text);
    if (exists && ::rmdir(destination.c_str()) != 0) {
      throw IOError("cannot replace " + destination.string() + ": " + errno_text());
    }
    if (::rename(staging.c_str(), destination.c_str()) != 0) {
      throw IOError("cannot rename " + staging.string() + " to " + destination.string() + ": " +
                    errno_text());
    }
    return result;
  } catch (...) {
    fs::remove_all(staging, error);
    throw;
  }
}

ArtifactUpload upload_job_artifacts(const ObjectStore& store, const JobDirectory& job_directory,
                                    std::string_view s3_output_path, std::string_view job_name,
                                    OutputCompressionType compression) {
  if (std::string problem = detail::path_component_problem(job_name); !problem.empty()) {
    throw ValueError("job name '" + std::string(job_name) + "' " + problem);
  }
  const std::string output_prefix =
      join_uri(std::string(s3_output_path), std::string(job_name) + "/output/");
  parse_store_uri(output_prefix);  // a bad S3OutputPath fails here, before anything is written
  ArtifactUpload upload;
  ensure_directory(job_directory.model());
  ensure_directory(job_directory.output_data());

  if (fs::is_symlink(job_directory.model()) || fs::is_symlink(job_directory.output_data())) {
    throw IOError("refusing to upload the artifacts of job " + std::string(job_name) + ": " +
                  job_directory.model().string() + " or " + job_directory.output_data().string() +
                  " is a symlink");
  }
  if (compression == OutputCompressionType::kNone) {
    upload.model_artifacts = output_prefix + "model/";
    std::vector<std::pair<std::string, fs::path>> files;  // (relative path, path)
    std::error_code error;
    for (fs::recursive_directory_iterator it(job_directory.model(), error), end;
         !error && it != end; it.increment(error)) {
      const fs::file_status status = it->symlink_status(error);
      const std::string relative =
          it->path().lexically_relative(job_directory.model()).generic_string();
      if (fs::is_regular_file(status)) {
        files.emplace_back(relative, it->path());
      } else if (!fs::is_directory(status)) {
        upload.model.skipped.push_back(relative + ": not a regular file or directory");
      }
    }
    if (error) {
      throw IOError("cannot list " + job_directory.model().string() + ": " + error.message());
    }
    std::sort(files.begin(), files.end());
    for (const auto& [relative, path] : files) {
      store.put_file(path, upload.model_artifacts + relative);
      upload.model.files += 1;
      upload.model.bytes += fs::file_size(path, error);
    }
  } else {
    upload.model_artifacts = output_prefix + "model.tar.gz";
    upload.model = pack_directory(job_directory.model(), store.prepare_put(upload.model_artifacts));
  }
  upload.output_data = output_prefix + "output.tar.gz";
  upload.output =
      pack_directory(job_directory.output_data(), store.prepare_put(upload.output_data));
  return upload;
}

}  // namespace trainyard::jobs
