// Channel staging: File mode's "Downloading" step. Copies the objects of one input channel
// from the object store into <job>/input/data/<channel>/ for one host, keeping each object's
// key path relative to the folder part of the channel's prefix (sagemaker-contract.md
// section 6): s3://b/data/train/ stages data/train/x as x, and s3://b/data/train stages
// data/train/x as train/x and data/train-01/y as train-01/y.
//
// Supported: File and FastFile input modes (FastFile is staged as File), S3DataType
// S3Prefix and ManifestFile, FullyReplicated and ShardedByS3Key, CompressionType None and
// Gzip (objects are staged as stored; decompressing is Pipe mode's job, as in SageMaker).
// Refused with "... is not supported by trainyard yet": Pipe mode, AugmentedManifestFile
// and Converse data, FileSystemDataSource (EFS, FSx for Lustre) and DatasetSource.
//
// Sharding (ShardedByS3Key): the objects are sorted by key; with ShuffleConfig.Seed that
// list is first permuted by a Fisher-Yates shuffle (for i = n-1 down to 1, swap positions i
// and RandomGenerator(seed).below(i + 1)); then the object at position p goes to host
// p mod host_count. Example, no seed, keys a b c d e over 2 hosts: algo-1 gets a c e, algo-2
// gets b d. Objects are never split; with more hosts than objects some hosts get none.
//
// Objects are hard-linked when the store and the job directory share a filesystem, else
// copied through a temporary name. A hard link shares the store's bytes: training code that
// rewrites an input file in place changes the stored object too (writing a new file and
// renaming it does not). The channel is staged into <channel>~staging and renamed into
// place at the end, so <job>/input/data/<channel> is either absent or complete.
//
// Safety: a channel name or key that is not a plain relative path (absolute, "..", ".",
// empty components, NUL) is refused with its name in the message, the store refuses
// symlinks leading outside it, and every directory under the job directory is opened with
// O_NOFOLLOW, so nothing is ever written outside <job>/input/data/<channel>.
//
// Errors are exceptions whose messages name the channel and the URI, ready to follow
// "ClientError: " in a FailureReason: ValueError (an empty prefix, a bad manifest, a hostile
// key, an unsupported feature), IOError (a missing bucket or object, a failed write),
// DataError (a manifest that is not JSON). Thread-safe for different channels or jobs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/job_directory.h"
#include "jobs/job_spec.h"
#include "jobs/staging/object_store.h"

namespace trainyard::jobs {

// One object as staged for this host.
struct StagedObject {
  std::string key;            // its key in the store (file:// objects: the path without '/')
  std::string relative_path;  // where it is under the channel directory
  uint64_t size = 0;
  bool linked = false;  // a hard link to the stored object (else a copy)
};

// How much of the channel one host receives.
struct HostShare {
  int64_t object_count = 0;
  uint64_t bytes = 0;
};

// What stage_channel did, for the job's log.
struct ChannelStaging {
  std::string channel_name;
  std::string source_uri;           // the channel's S3Uri (the manifest's, for ManifestFile)
  std::filesystem::path directory;  // <job>/input/data/<channel>
  S3DataDistribution distribution = S3DataDistribution::kFullyReplicated;
  int host_index = 0;
  int host_count = 1;
  std::vector<StagedObject> objects;  // staged for this host, sorted by key
  uint64_t bytes = 0;                 // their total size
  int64_t total_objects = 0;          // in the whole channel
  uint64_t total_bytes = 0;
  std::vector<HostShare> shares;  // per host: its share (every host gets everything when
                                  // FullyReplicated)

  // One line: "channel 'train' from s3://b/train/: 3 objects, 1200 bytes for algo-1 of 2
  // (ShardedByS3Key: algo-1 3 objects 1200 bytes, algo-2 2 objects 800 bytes); 3 linked".
  std::string summary() const;
};

// For each of `object_count` objects in sorted key order, the host (0-based) that receives
// it under ShardedByS3Key, by the rule above. REQUIRES: host_count >= 1.
std::vector<int> shard_assignment(size_t object_count, int host_count, std::optional<int64_t> seed);

// A parsed manifest: [{"prefix": "s3://bucket/prefix/"}, "relative/key-1", ...].
struct ChannelManifest {
  std::string prefix;                 // the prefix URI, "/" appended to a bare s3://bucket
  std::vector<std::string> suffixes;  // in the manifest's order (element i + 2), duplicates
                                      // kept; staging stages each object once
};

// Parses the manifest text read from `manifest_uri`. Throws DataError for text that is not
// JSON, ValueError for JSON of the wrong shape (not an array, no {"prefix": ...} first
// element, a prefix that is not an s3:// or file:// URI, a suffix that is not a non-empty
// string or not a plain relative path, or no suffix at all); each message names the URI and
// the offending element by its index.
ChannelManifest parse_manifest(std::string_view text, std::string_view manifest_uri);

// Why `channel` cannot be staged by trainyard in `input_mode` ("Pipe input mode is not
// supported by trainyard yet", ...), or an empty string when it can.
std::string channel_staging_problem(const Channel& channel, TrainingInputMode input_mode);

// Stages `channel` for host `host_index` of `host_count` into job_directory.channel(name),
// replacing whatever was there. `input_mode` is effective_input_mode(spec, channel). The
// job directory must exist. Throws as described above; on failure the partial staging
// directory is removed and a previously staged <channel> directory is left as it was.
ChannelStaging stage_channel(const ObjectStore& store, const Channel& channel,
                             TrainingInputMode input_mode, const JobDirectory& job_directory,
                             int host_index, int host_count);

}  // namespace trainyard::jobs
