#include "jobs/staging/channel_stager.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <sstream>
#include <system_error>

#include "core/error.h"
#include "core/random.h"
#include "jobs/staging/container_config.h"
#include "jobs/staging/safe_files.h"
#include "jobs/utf8.h"

namespace trainyard::jobs {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kStagingSuffix = "~staging";  // '~' is never in a channel name

// An object to stage: where it is and where it goes.
struct SourceObject {
  std::string key;
  std::string relative_path;
  fs::path path;
  uint64_t size = 0;
};

void check_channel_name(const std::string& name) {
  bool pattern_ok = !name.empty() && name.size() <= 64;
  for (char c : name) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '-' || c == '_';
    pattern_ok = pattern_ok && allowed;
  }
  std::string problem = detail::path_component_problem(name);
  if (!pattern_ok || !problem.empty()) {
    throw ValueError("channel name '" + detail::printable_ascii(name) +
                     "' cannot name a directory under input/data: it must be 1 to 64 of "
                     "[A-Za-z0-9._-] and not '.' or '..'");
  }
}

std::string read_text_file(const fs::path& path, const std::string& uri) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError("cannot read manifest " + uri + " (" + path.string() + ")");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw IOError("cannot read manifest " + uri + " (" + path.string() + ")");
  return text.str();
}

std::vector<SourceObject> list_prefix(const ObjectStore& store, const std::string& uri) {
  std::vector<SourceObject> objects;
  for (StoredObject& object : store.list(uri)) {
    objects.push_back({std::move(object.key), std::move(object.relative_path),
                       std::move(object.path), object.size});
  }
  return objects;
}

std::vector<SourceObject> list_manifest(const ObjectStore& store, const std::string& uri) {
  const fs::path manifest_path = store.get_path(uri);
  ChannelManifest manifest = parse_manifest(read_text_file(manifest_path, uri), uri);
  std::vector<SourceObject> objects;
  std::set<std::string> seen;
  for (size_t i = 0; i < manifest.suffixes.size(); ++i) {
    if (!seen.insert(manifest.suffixes[i]).second) continue;  // listed twice: staged once
    const std::string object_uri = manifest.prefix + manifest.suffixes[i];
    fs::path path;
    const std::string element = "manifest " + uri + " element " + std::to_string(i + 2) + " ('" +
                                manifest.suffixes[i] + "')";
    try {
      path = store.get_path(object_uri);
    } catch (const ValueError& error) {
      throw ValueError(element + ": " + error.what());
    } catch (const Error& error) {
      throw IOError(element + ": " + error.what());
    }
    std::error_code code;
    uint64_t size = fs::file_size(path, code);
    if (code) throw IOError("cannot read " + object_uri + ": " + code.message());
    StoreUri parsed = parse_store_uri(object_uri);
    std::string key = parsed.is_s3() ? parsed.key : parsed.path.string().substr(1);
    objects.push_back({std::move(key), key_relative_to_prefix(manifest.prefix, object_uri),
                       std::move(path), size});
  }
  std::sort(objects.begin(), objects.end(),
            [](const SourceObject& a, const SourceObject& b) { return a.key < b.key; });
  return objects;
}

// Stages one object into `staging` (an open directory): hard link, else a copy through a
// temporary name. Returns whether it linked.
bool stage_object(int staging, const fs::path& staging_path, const SourceObject& object,
                  const std::string& what) {
  std::vector<std::string> components = detail::split_relative_path(object.relative_path, what);
  const std::string name = components.back();
  components.pop_back();
  detail::FileDescriptor directory =
      detail::open_directory_chain(staging, components, /*create=*/true, staging_path);
  fs::path shown = staging_path / object.relative_path;
  if (::linkat(AT_FDCWD, object.path.c_str(), directory.get(), name.c_str(), 0) == 0) return true;
  if (errno == EEXIST) throw IOError("cannot stage " + what + ": " + shown.string() + " exists");
  // EXDEV (another filesystem), EPERM (protected_hardlinks), EMLINK and the like: copy.
  detail::FileDescriptor source(::open(object.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!source.valid()) {
    throw IOError("cannot read " + object.path.string() + " (" + what +
                  "): " + std::generic_category().message(errno));
  }
  struct stat info {};
  if (::fstat(source.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    throw IOError("cannot stage " + what + ": " + object.path.string() + " is not a regular file");
  }
  fs::path directory_path = shown.parent_path();
  detail::TemporaryFile temporary =
      detail::create_temporary_file(directory.get(), name, directory_path);
  try {
    detail::copy_contents(source.get(), temporary.fd.get(), static_cast<uint64_t>(info.st_size),
                          object.path, shown);
    temporary.fd = detail::FileDescriptor();
  } catch (...) {
    detail::remove_quietly(directory.get(), temporary.name);
    throw;
  }
  detail::commit_temporary_file(directory.get(), temporary.name, name, /*sync_directory=*/false,
                                directory_path);
  return false;
}

std::string remove_tree(const fs::path& path) {
  std::error_code error;
  fs::remove_all(path, error);  // removes a symlink itself, never what it points to
  return error ? error.message() : std::string();
}

}  // namespace

std::string ChannelStaging::summary() const {
  std::string text = "channel '" + channel_name + "' from " + source_uri + ": " +
                     std::to_string(objects.size()) + " objects, " + std::to_string(bytes) +
                     " bytes for " + host_name(host_index) + " of " + std::to_string(host_count);
  if (distribution == S3DataDistribution::kShardedByS3Key) {
    text += " (ShardedByS3Key of " + std::to_string(total_objects) + " objects:";
    for (size_t h = 0; h < shares.size(); ++h) {
      text += std::string(h == 0 ? " " : ", ") + host_name(static_cast<int>(h)) + " " +
              std::to_string(shares[h].object_count) + " objects " +
              std::to_string(shares[h].bytes) + " bytes";
    }
    text += ")";
  }
  int64_t linked = std::count_if(objects.begin(), objects.end(),
                                 [](const StagedObject& object) { return object.linked; });
  text += "; " + std::to_string(linked) + " linked, " +
          std::to_string(static_cast<int64_t>(objects.size()) - linked) + " copied";
  return text;
}

std::vector<int> shard_assignment(size_t object_count, int host_count,
                                  std::optional<int64_t> seed) {
  if (host_count < 1)
    throw ValueError("host count must be at least 1, not " + std::to_string(host_count));
  std::vector<size_t> order(object_count);
  std::iota(order.begin(), order.end(), size_t{0});
  if (seed && object_count > 1) {
    RandomGenerator random(static_cast<uint64_t>(*seed));
    for (size_t i = object_count - 1; i > 0; --i) {
      std::swap(order[i], order[random.below(i + 1)]);
    }
  }
  std::vector<int> host_of(object_count);
  for (size_t position = 0; position < object_count; ++position) {
    host_of[order[position]] = static_cast<int>(position % static_cast<size_t>(host_count));
  }
  return host_of;
}

ChannelManifest parse_manifest(std::string_view text, std::string_view manifest_uri) {
  const std::string uri(manifest_uri);
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    throw DataError("manifest " + uri + " is not valid JSON: " + error.what());
  }
  const std::string shape =
      "; expected [{\"prefix\": \"s3://bucket/prefix/\"}, \"relative/key\", ...]";
  if (!document.is_array() || document.empty()) {
    throw ValueError("manifest " + uri + " is not a non-empty JSON array" + shape);
  }
  const nlohmann::json& first = document.front();
  if (!first.is_object() || !first.contains("prefix") || !first["prefix"].is_string()) {
    throw ValueError("manifest " + uri + " element 1 is not {\"prefix\": \"<URI>\"}" + shape);
  }
  ChannelManifest manifest;
  manifest.prefix = first["prefix"].get<std::string>();
  StoreUri prefix;
  try {
    prefix = parse_store_uri(manifest.prefix);
  } catch (const ValueError& error) {
    throw ValueError("manifest " + uri + " has an unusable prefix: " + error.what());
  }
  if (prefix.is_s3() && manifest.prefix.find('/', 5) == std::string::npos) {
    manifest.prefix += "/";  // s3://bucket + "key" would name another bucket
  }
  for (size_t i = 1; i < document.size(); ++i) {
    const std::string element = "manifest " + uri + " element " + std::to_string(i + 1);
    if (!document[i].is_string()) {
      throw ValueError(element + " is " + document[i].type_name() + ", not a string key");
    }
    std::string suffix = document[i].get<std::string>();
    detail::split_relative_path(suffix, element + " ('" + suffix + "')");
    manifest.suffixes.push_back(std::move(suffix));
  }
  if (manifest.suffixes.empty()) {
    throw ValueError("manifest " + uri + " lists no objects after its prefix " + manifest.prefix);
  }
  return manifest;
}

std::string channel_staging_problem(const Channel& channel, TrainingInputMode input_mode) {
  const std::string name = "channel '" + channel.channel_name + "': ";
  if (input_mode == TrainingInputMode::kPipe) {
    return name + "Pipe input mode is not supported by trainyard yet (use File or FastFile)";
  }
  const DataSource& source = channel.data_source;
  if (source.file_system_data_source) {
    return name + "FileSystemDataSource (" +
           std::string(to_string(source.file_system_data_source->file_system_type)) +
           ") is not supported by trainyard yet (use an s3:// or file:// S3DataSource)";
  }
  if (source.dataset_source) return name + "DatasetSource is not supported by trainyard yet";
  if (!source.s3_data_source) return name + "has no S3DataSource";
  S3DataType type = source.s3_data_source->s3_data_type;
  if (type == S3DataType::kAugmentedManifestFile || type == S3DataType::kConverse) {
    return name + "S3DataType " + std::string(to_string(type)) +
           " is not supported by trainyard yet (use S3Prefix or ManifestFile)";
  }
  return {};
}

ChannelStaging stage_channel(const ObjectStore& store, const Channel& channel,
                             TrainingInputMode input_mode, const JobDirectory& job_directory,
                             int host_index, int host_count) {
  check_channel_name(channel.channel_name);
  if (std::string problem = channel_staging_problem(channel, input_mode); !problem.empty()) {
    throw ValueError(problem);
  }
  if (host_count < 1 || host_index < 0 || host_index >= host_count) {
    throw ValueError("host index " + std::to_string(host_index) + " is not in [0, " +
                     std::to_string(host_count) + ")");
  }
  const S3DataSource& source = *channel.data_source.s3_data_source;
  const std::string what = "channel '" + channel.channel_name + "'";

  ChannelStaging result;
  result.channel_name = channel.channel_name;
  result.source_uri = source.s3_uri;
  result.directory = job_directory.channel(channel.channel_name);
  result.distribution =
      source.s3_data_distribution_type.value_or(S3DataDistribution::kFullyReplicated);
  result.host_index = host_index;
  result.host_count = host_count;

  std::vector<SourceObject> objects = source.s3_data_type == S3DataType::kManifestFile
                                          ? list_manifest(store, source.s3_uri)
                                          : list_prefix(store, source.s3_uri);
  if (objects.empty()) {
    throw ValueError("no objects found under " + source.s3_uri + " for " + what);
  }
  std::vector<int> host_of(objects.size(), host_index);
  if (result.distribution == S3DataDistribution::kShardedByS3Key) {
    std::optional<int64_t> seed;
    if (channel.shuffle_config) seed = channel.shuffle_config->seed;
    host_of = shard_assignment(objects.size(), host_count, seed);
  }
  result.shares.assign(static_cast<size_t>(host_count), HostShare{});
  for (size_t i = 0; i < objects.size(); ++i) {
    result.total_objects += 1;
    result.total_bytes += objects[i].size;
    if (result.distribution == S3DataDistribution::kShardedByS3Key) {
      HostShare& share = result.shares[static_cast<size_t>(host_of[i])];
      share.object_count += 1;
      share.bytes += objects[i].size;
    }
  }
  if (result.distribution != S3DataDistribution::kShardedByS3Key) {
    for (HostShare& share : result.shares) share = {result.total_objects, result.total_bytes};
  }

  // Stage into <channel>~staging under input/data (opened without following symlinks),
  // then rename into place.
  detail::FileDescriptor root = detail::open_directory(job_directory.root(), true);
  detail::FileDescriptor data = detail::open_directory_chain(root.get(), {"input", "data"},
                                                             /*create=*/true, job_directory.root());
  const std::string staging_name = channel.channel_name + std::string(kStagingSuffix);
  const fs::path staging_path = job_directory.data() / staging_name;
  if (std::string error = remove_tree(staging_path); !error.empty()) {
    throw IOError("cannot clear " + staging_path.string() + ": " + error);
  }
  try {
    detail::FileDescriptor staging =
        detail::open_child_directory(data.get(), staging_name, /*create=*/true, staging_path);
    for (size_t i = 0; i < objects.size(); ++i) {
      if (host_of[i] != host_index) continue;
      const SourceObject& object = objects[i];
      const std::string object_what =
          "key '" + object.key + "' of " + source.s3_uri + " for " + what;
      bool linked = stage_object(staging.get(), staging_path, object, object_what);
      result.objects.push_back({object.key, object.relative_path, object.size, linked});
      result.bytes += object.size;
    }
    if (std::string error = remove_tree(result.directory); !error.empty()) {
      throw IOError("cannot replace " + result.directory.string() + ": " + error);
    }
    if (::renameat(data.get(), staging_name.c_str(), data.get(), channel.channel_name.c_str()) !=
        0) {
      throw IOError("cannot rename " + staging_path.string() + " to " + result.directory.string() +
                    ": " + std::generic_category().message(errno));
    }
  } catch (...) {
    remove_tree(staging_path);
    throw;
  }
  return result;
}

}  // namespace trainyard::jobs
