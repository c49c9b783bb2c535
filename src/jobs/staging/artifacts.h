// A job's artifacts: model/ packed as model.tar.gz and output/data/ as output.tar.gz under
// <S3OutputPath>/<job>/output/ (sagemaker-contract.md section 3.5), and the unpacking that
// reads such archives back with the same path-safety rules as channel staging.
//
// Archives are gzip'd POSIX tar (libarchive, pax restricted) with the directory's contents
// at the archive root, entries in a fixed order (each directory's names sorted bytewise,
// a directory before its contents), owner 0:0 and no user names, so the same tree always
// gives the same entry list. Regular files, directories and symlinks are stored; symlinks
// are stored as links, never followed, and one whose target is absolute or leaves the
// directory is left out (and reported), as are FIFOs, sockets and devices.
//
// No half-written archive ever carries the final name: the archive is written to a
// temporary file beside it (".<name>.trainyard-tmp-XXXXXXXX"), fsynced, renamed, and the
// directory fsynced. A process killed mid-pack leaves at most such a temporary file.
//
// Errors: IOError naming the path (unreadable source, failed write, a file that changed
// size while being packed), ValueError for unsafe archive entries. Thread-safe for
// different targets.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/job_directory.h"
#include "jobs/job_spec_enums.h"
#include "jobs/staging/object_store.h"

namespace trainyard::jobs {

struct PackOptions {
  // Called after each entry is written, with its name in the archive; for progress logs.
  // Default: none.
  std::function<void(const std::string& entry_name)> on_entry;
};

struct PackResult {
  int64_t files = 0;
  int64_t directories = 0;
  int64_t symlinks = 0;
  uint64_t bytes = 0;                // file contents before compression
  std::vector<std::string> skipped;  // "name: why", for entries left out
};

// Packs the contents of `source_directory` into the gzip'd tar `archive_path` (replacing
// it). The source must be a directory, not a symlink to one; the archive may lie inside it
// (its own temporary file is never packed).
PackResult pack_directory(const std::filesystem::path& source_directory,
                          const std::filesystem::path& archive_path,
                          const PackOptions& options = {});

struct UnpackResult {
  int64_t entries = 0;
  uint64_t bytes = 0;
};

// Extracts the tar archive `archive_path` (gzip'd or not) into `destination`, which must not
// exist or be an empty directory. Entries are extracted into a temporary directory beside
// it that is renamed into place at the end, so on failure `destination` is untouched.
// Refused with ValueError naming the entry: absolute names, ".." components, symlinks whose
// target is absolute or leaves the destination, hard links to such names, devices and FIFOs.
// A leading "./" is allowed. Throws DataError for a corrupt archive.
UnpackResult unpack_archive(const std::filesystem::path& archive_path,
                            const std::filesystem::path& destination);

// Where a job's artifacts went.
struct ArtifactUpload {
  std::string model_artifacts;  // ModelArtifacts.S3ModelArtifacts
  std::string output_data;      // <S3OutputPath>/<job>/output/output.tar.gz
  PackResult model;             // files of model/ (for NONE: those uploaded)
  PackResult output;
};

// Uploads the job's model/ and output/data/ to `s3_output_path` (s3:// or file://; one
// trailing '/' or more is not doubled): model/ as <path>/<job>/output/model.tar.gz, or with
// `compression` NONE each regular file of model/ uncompressed under
// <path>/<job>/output/model/ (symlinks and special files left out); output/data/ always as
// <path>/<job>/output/output.tar.gz. A missing model/ or output/data/ counts as empty.
// Returns the model artifact URI (the .tar.gz, or the model/ prefix for NONE) and what was
// packed. Throws ValueError for a bad URI or job name, IOError for failed writes.
ArtifactUpload upload_job_artifacts(
    const ObjectStore& store, const JobDirectory& job_directory, std::string_view s3_output_path,
    std::string_view job_name, OutputCompressionType compression = OutputCompressionType::kGzip);

}  // namespace trainyard::jobs
