#include "jobs/staging/artifacts.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "core/error.h"
#include "staging_test_util.h"

namespace trainyard::jobs {
namespace {

using testing::files_under;
using testing::names_in;
using testing::random_bytes;
using testing::read_file;
using testing::ScratchDirectory;
using testing::write_file;
namespace fs = std::filesystem;

#define EXPECT_THROW_WITH(statement, Type, fragment)                                 \
  do {                                                                               \
    try {                                                                            \
      statement;                                                                     \
      ADD_FAILURE() << "expected " #Type " from " #statement;                        \
    } catch (const Type& error) {                                                    \
      EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos)         \
          << "message: " << error.what() << "\nexpected to contain: " << (fragment); \
    }                                                                                \
  } while (false)

// The entry names of a .tar.gz as the system's tar lists them (an independent reader), with
// trailing '/' of directories removed; empty when tar is not installed.
std::optional<std::vector<std::string>> tar_listing(const fs::path& archive) {
  if (!fs::exists("/usr/bin/tar") && !fs::exists("/bin/tar")) return std::nullopt;
  std::string command = "tar -tzf '" + archive.string() + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return std::nullopt;
  std::vector<std::string> names;
  char line[4096];
  while (std::fgets(line, sizeof(line), pipe.get()) != nullptr) {
    std::string name(line);
    while (!name.empty() && (name.back() == '\n' || name.back() == '/')) name.pop_back();
    names.push_back(name);
  }
  return names;
}

// One entry of a hand-made archive.
struct TestEntry {
  std::string name;
  unsigned int type = AE_IFREG;
  std::string contents;
  std::string symlink;   // AE_IFLNK target
  std::string hardlink;  // a hard link to this earlier name
};

// Writes `entries` as a gzip'd pax archive with libarchive directly, so tests can build
// archives that pack_directory would never produce.
void write_test_archive(const fs::path& path, const std::vector<TestEntry>& entries) {
  archive* writer = archive_write_new();
  archive_write_add_filter_gzip(writer);
  archive_write_set_format_pax_restricted(writer);
  ASSERT_EQ(archive_write_open_filename(writer, path.c_str()), ARCHIVE_OK);
  for (const TestEntry& spec : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_copy_pathname(entry, spec.name.c_str());
    archive_entry_set_filetype(entry, spec.type);
    archive_entry_set_perm(entry, spec.type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(entry, static_cast<la_int64_t>(spec.contents.size()));
    if (!spec.symlink.empty()) archive_entry_copy_symlink(entry, spec.symlink.c_str());
    if (!spec.hardlink.empty()) {
      archive_entry_copy_hardlink(entry, spec.hardlink.c_str());
      archive_entry_set_size(entry, 0);
    }
    ASSERT_EQ(archive_write_header(writer, entry), ARCHIVE_OK) << archive_error_string(writer);
    if (!spec.contents.empty() && spec.hardlink.empty()) {
      archive_write_data(writer, spec.contents.data(), spec.contents.size());
    }
    archive_entry_free(entry);
  }
  archive_write_close(writer);
  archive_write_free(writer);
}

class ArtifactsTest : public ::testing::Test {
 protected:
  ScratchDirectory scratch_;
  fs::path source_ = scratch_.path() / "model";

  // A tree with nested folders, an empty folder, binary data, odd names and links.
  void build_tree() {
    write_file(source_ / "b.txt", "bee");
    write_file(source_ / "a" / "z.bin", random_bytes(1 << 20, 11));
    write_file(source_ / "a" / "y" / "x.txt", "ex");
    write_file(source_ / "name with spaces \xc3\xa9.txt", "utf8");
    fs::create_directories(source_ / "empty");
    fs::create_symlink("b.txt", source_ / "link");
    fs::create_symlink("../y/x.txt", source_ / "a" / "z-link");  // a/y/x.txt? no: ../y from a/
    fs::create_symlink("/etc/passwd", source_ / "absolute-link");
    fs::create_symlink("../../outside", source_ / "a" / "escaping-link");
  }
};

TEST_F(ArtifactsTest, RoundTripKeepsFilesDirectoriesAndInsideLinks) {
  build_tree();
  ASSERT_EQ(::mkfifo((source_ / "fifo").c_str(), 0600), 0);
  const fs::path archive = scratch_.path() / "out" / "model.tar.gz";
  fs::create_directories(archive.parent_path());
  PackResult packed = pack_directory(source_, archive);
  EXPECT_EQ(packed.files, 4);
  EXPECT_EQ(packed.directories, 3);  // a, a/y, empty
  EXPECT_EQ(packed.bytes, 3u + (1u << 20) + 2u + 4u);
  // Left out: both links leading outside (a/z-link points at model/y/x.txt, which is inside)
  // and the FIFO.
  EXPECT_EQ(packed.symlinks, 2);
  ASSERT_EQ(packed.skipped.size(), 3u);
  EXPECT_NE(packed.skipped[0].find("a/escaping-link"), std::string::npos);
  EXPECT_NE(packed.skipped[1].find("absolute-link"), std::string::npos);
  EXPECT_NE(packed.skipped[2].find("fifo"), std::string::npos);

  const fs::path restored = scratch_.path() / "restored";
  UnpackResult unpacked = unpack_archive(archive, restored);
  EXPECT_EQ(unpacked.bytes, packed.bytes);
  EXPECT_EQ(files_under(restored),
            (std::vector<std::string>{"a/y/x.txt", "a/z.bin", "b.txt", "link",
                                      "name with spaces \xc3\xa9.txt"}));
  EXPECT_EQ(read_file(restored / "a" / "z.bin"), random_bytes(1 << 20, 11));
  EXPECT_EQ(read_file(restored / "name with spaces \xc3\xa9.txt"), "utf8");
  EXPECT_TRUE(fs::is_symlink(restored / "link"));
  EXPECT_EQ(fs::read_symlink(restored / "link"), "b.txt");
  EXPECT_TRUE(fs::is_directory(restored / "empty"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(restored / "absolute-link")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(restored / "fifo")));
}

TEST_F(ArtifactsTest, ArchiveHasFilesAtTheRootInAFixedOrder) {
  write_file(source_ / "b.txt", "bee");
  write_file(source_ / "a" / "z.bin", "zz");
  write_file(source_ / "a" / "y" / "x.txt", "ex");
  write_file(source_ / "a-b", "dash");
  fs::create_directories(source_ / "empty");
  const fs::path first = scratch_.path() / "first.tar.gz";
  const fs::path second = scratch_.path() / "second.tar.gz";
  pack_directory(source_, first);
  pack_directory(source_, second);
  // Equal trees give byte-identical archives (sorted entries, no gzip timestamp).
  EXPECT_EQ(read_file(first), read_file(second));
  std::optional<std::vector<std::string>> listing = tar_listing(first);
  if (!listing) GTEST_SKIP() << "no system tar to cross-check with";
  // Each directory's names sorted bytewise, a directory before what it holds.
  EXPECT_EQ(*listing, (std::vector<std::string>{"a", "a/y", "a/y/x.txt", "a/z.bin", "a-b", "b.txt",
                                                "empty"}));
}

TEST_F(ArtifactsTest, EmptyDirectoryGivesAnEmptyArchive) {
  fs::create_directories(source_);
  const fs::path archive = scratch_.path() / "empty.tar.gz";
  PackResult packed = pack_directory(source_, archive);
  EXPECT_EQ(packed.files, 0);
  EXPECT_GT(fs::file_size(archive), 0u);
  EXPECT_EQ(unpack_archive(archive, scratch_.path() / "restored").entries, 0);
  EXPECT_TRUE(fs::is_empty(scratch_.path() / "restored"));
}

TEST_F(ArtifactsTest, ArchiveInsideTheSourceDoesNotPackItself) {
  write_file(source_ / "weights.bin", "w");
  pack_directory(source_, source_ / "model.tar.gz");
  pack_directory(source_, source_ / "model.tar.gz");  // now the old archive is packed
  const fs::path restored = scratch_.path() / "restored";
  unpack_archive(source_ / "model.tar.gz", restored);
  EXPECT_EQ(files_under(restored), (std::vector<std::string>{"model.tar.gz", "weights.bin"}));
  EXPECT_EQ(names_in(source_), (std::vector<std::string>{"model.tar.gz", "weights.bin"}));
}

TEST_F(ArtifactsTest, RefusesASymlinkedSourceAndMissingDirectories) {
  write_file(source_ / "w", "w");
  fs::create_directory_symlink(source_, scratch_.path() / "alias");
  EXPECT_THROW_WITH(pack_directory(scratch_.path() / "alias", scratch_.path() / "x.tar.gz"),
                    IOError, "symlink");
  EXPECT_THROW_WITH(pack_directory(scratch_.path() / "missing", scratch_.path() / "x.tar.gz"),
                    IOError, "missing");
  EXPECT_THROW_WITH(pack_directory(source_, scratch_.path() / "no-dir" / "x.tar.gz"), IOError,
                    "no-dir");
  EXPECT_FALSE(fs::exists(scratch_.path() / "x.tar.gz"));
}

// A child process packs a large directory and is killed with SIGKILL in the middle: the
// final archive name must never appear, and whatever is left must be recognisably
// temporary.
TEST_F(ArtifactsTest, KilledMidPackLeavesNoArchiveUnderTheFinalName) {
  for (int i = 0; i < 12; ++i) {
    write_file(source_ / ("part-" + std::to_string(100 + i) + ".bin"), random_bytes(1 << 20, i));
  }
  const fs::path out = scratch_.path() / "out";
  fs::create_directories(out);
  const fs::path archive = out / "model.tar.gz";
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    int written = 0;
    PackOptions options;
    options.on_entry = [&](const std::string&) {
      if (++written == 4) {  // four megabytes into the archive: tell the parent, then wait
        char byte = 'x';
        if (::write(ready[1], &byte, 1) != 1) ::_exit(3);
        for (;;) ::pause();
      }
    };
    try {
      pack_directory(source_, archive, options);
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  char byte = 0;
  ssize_t got = ::read(ready[0], &byte, 1);  // returns 0 if the child exits instead
  ::close(ready[0]);
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_EQ(got, 1) << "the child never reached the middle of packing";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  EXPECT_FALSE(fs::exists(archive));
  std::vector<std::string> left = names_in(out);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].rfind(".model.tar.gz.trainyard-tmp-", 0), 0u) << left[0];
  EXPECT_GT(fs::file_size(out / left[0]), 0u);  // it really was mid-write

  // A later pack still succeeds beside the leftover.
  pack_directory(source_, archive);
  EXPECT_TRUE(fs::exists(archive));
  for (const std::string& name : names_in(out)) {
    EXPECT_TRUE(name == "model.tar.gz" || name.find(".trainyard-tmp-") != std::string::npos)
        << name;
  }
}

TEST_F(ArtifactsTest, UnpackRefusesEscapingEntries) {
  const fs::path destination = scratch_.path() / "dest";
  const fs::path outside = scratch_.path() / "outside";
  struct Case {
    std::vector<TestEntry> entries;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {{{.name = "../x", .contents = "bad"}}, "entry '../x'"},
      {{{.name = "ok.txt", .contents = "ok"}, {.name = "a/../../x", .contents = "bad"}},
       "entry 'a/../../x'"},
      {{{.name = "/tmp/absolute-x", .contents = "bad"}}, "absolute"},
      {{{.name = "link", .type = AE_IFLNK, .symlink = "/etc"}}, "symlink to /etc"},
      {{{.name = "a/link", .type = AE_IFLNK, .symlink = "../../outside"}}, "outside"},
      {{{.name = "x", .contents = "x"}, {.name = "h", .hardlink = "../x"}}, "'../x'"},
      {{{.name = "dev", .type = AE_IFCHR}}, "not a regular file"},
  };
  for (const Case& test : cases) {
    const fs::path archive = scratch_.path() / "hostile.tar.gz";
    write_test_archive(archive, test.entries);
    EXPECT_THROW_WITH(unpack_archive(archive, destination), ValueError, test.fragment);
    EXPECT_FALSE(fs::exists(destination)) << test.fragment;
    EXPECT_FALSE(fs::exists(outside)) << test.fragment;
    EXPECT_FALSE(fs::exists(scratch_.path() / "x")) << test.fragment;
    EXPECT_FALSE(fs::exists("/tmp/absolute-x")) << test.fragment;
    EXPECT_EQ(names_in(scratch_.path()), (std::vector<std::string>{"hostile.tar.gz"}));
  }
}

TEST_F(ArtifactsTest, LinkChainsLeadingOutsideAreCaught) {
  // Each link alone looks inside; together "x" resolves to the parent of the tree.
  write_file(source_ / "w", "w");
  fs::create_symlink(".", source_ / "y");
  fs::create_symlink("y/../outside", source_ / "x");
  PackResult packed = pack_directory(source_, scratch_.path() / "p.tar.gz");
  EXPECT_EQ(packed.symlinks, 1);  // y
  ASSERT_EQ(packed.skipped.size(), 1u);
  EXPECT_EQ(packed.skipped[0].rfind("x: ", 0), 0u) << packed.skipped[0];

  write_test_archive(scratch_.path() / "chain.tar.gz",
                     {{.name = "y", .type = AE_IFLNK, .symlink = "."},
                      {.name = "x", .type = AE_IFLNK, .symlink = "y/../outside"}});
  EXPECT_THROW_WITH(unpack_archive(scratch_.path() / "chain.tar.gz", scratch_.path() / "dest"),
                    ValueError, "resolves outside");
  EXPECT_FALSE(fs::exists(scratch_.path() / "dest"));
}

TEST_F(ArtifactsTest, UnpackThroughASymlinkEntryIsRefused) {
  // An inside link to a folder followed by a file written through it: libarchive's secure
  // mode refuses to extract through the link.
  write_test_archive(scratch_.path() / "a.tar.gz",
                     {{.name = "real", .type = AE_IFDIR},
                      {.name = "alias", .type = AE_IFLNK, .symlink = "real"},
                      {.name = "alias/file", .contents = "x"}});
  EXPECT_THROW(unpack_archive(scratch_.path() / "a.tar.gz", scratch_.path() / "dest"), IOError);
  EXPECT_FALSE(fs::exists(scratch_.path() / "dest"));
}

TEST_F(ArtifactsTest, UnpackAcceptsDotSlashNamesAndRefusesBusyDestinations) {
  write_test_archive(scratch_.path() / "dot.tar.gz", {{.name = "./", .type = AE_IFDIR},
                                                      {.name = "./dir", .type = AE_IFDIR},
                                                      {.name = "./dir/f.txt", .contents = "f"}});
  fs::create_directories(scratch_.path() / "empty-dest");
  unpack_archive(scratch_.path() / "dot.tar.gz", scratch_.path() / "empty-dest");
  EXPECT_EQ(files_under(scratch_.path() / "empty-dest"), (std::vector<std::string>{"dir/f.txt"}));
  EXPECT_THROW_WITH(unpack_archive(scratch_.path() / "dot.tar.gz", scratch_.path() / "empty-dest"),
                    IOError, "not an empty directory");
  write_file(scratch_.path() / "garbage.tar.gz", "this is not an archive");
  EXPECT_THROW(unpack_archive(scratch_.path() / "garbage.tar.gz", scratch_.path() / "g"),
               DataError);
  EXPECT_FALSE(fs::exists(scratch_.path() / "g"));
}

class UploadTest : public ::testing::Test {
 protected:
  ScratchDirectory scratch_;
  ObjectStore store_{scratch_.path() / "s3"};
  JobDirectory job_{scratch_.path(), "my-job"};

  void SetUp() override {
    job_.create();
    write_file(job_.model() / "weights.h5", "weights");
    write_file(job_.model() / "config" / "model.json", "{}");
    write_file(job_.output_data() / "metrics.csv", "loss,1");
  }
};

TEST_F(UploadTest, PacksModelAndOutputUnderTheJobsOutputPrefix) {
  ArtifactUpload upload = upload_job_artifacts(store_, job_, "s3://bucket/results/", "my-job");
  EXPECT_EQ(upload.model_artifacts, "s3://bucket/results/my-job/output/model.tar.gz");
  EXPECT_EQ(upload.output_data, "s3://bucket/results/my-job/output/output.tar.gz");
  EXPECT_EQ(upload.model.files, 2);
  const fs::path model =
      scratch_.path() / "s3" / "bucket" / "results" / "my-job" / "output" / "model.tar.gz";
  ASSERT_TRUE(fs::exists(model));
  unpack_archive(model, scratch_.path() / "restored-model");
  EXPECT_EQ(files_under(scratch_.path() / "restored-model"),
            (std::vector<std::string>{"config/model.json", "weights.h5"}));
  unpack_archive(store_.get_path(upload.output_data), scratch_.path() / "restored-output");
  EXPECT_EQ(read_file(scratch_.path() / "restored-output" / "metrics.csv"), "loss,1");
  EXPECT_EQ(names_in(model.parent_path()),
            (std::vector<std::string>{"model.tar.gz", "output.tar.gz"}));
}

TEST_F(UploadTest, TrailingSlashesAreNotDoubled) {
  EXPECT_EQ(upload_job_artifacts(store_, job_, "s3://bucket", "my-job").model_artifacts,
            "s3://bucket/my-job/output/model.tar.gz");
  EXPECT_EQ(upload_job_artifacts(store_, job_, "s3://bucket/out//", "my-job").model_artifacts,
            "s3://bucket/out/my-job/output/model.tar.gz");
  EXPECT_EQ(upload_job_artifacts(store_, job_, "s3://bucket/out", "my-job").model_artifacts,
            "s3://bucket/out/my-job/output/model.tar.gz");
}

TEST_F(UploadTest, NoneCompressionUploadsModelFilesAsTheyAre) {
  fs::create_symlink("weights.h5", job_.model() / "alias");
  ArtifactUpload upload =
      upload_job_artifacts(store_, job_, "s3://bucket/out", "my-job", OutputCompressionType::kNone);
  EXPECT_EQ(upload.model_artifacts, "s3://bucket/out/my-job/output/model/");
  EXPECT_EQ(files_under(scratch_.path() / "s3" / "bucket" / "out" / "my-job" / "output" / "model"),
            (std::vector<std::string>{"config/model.json", "weights.h5"}));
  EXPECT_EQ(read_file(store_.get_path("s3://bucket/out/my-job/output/model/weights.h5")),
            "weights");
  EXPECT_EQ(upload.model.skipped.size(), 1u);
  EXPECT_TRUE(store_.exists("s3://bucket/out/my-job/output/output.tar.gz"));
}

TEST_F(UploadTest, FileOutputPathsAndEmptyOrMissingFolders) {
  fs::remove_all(job_.model());
  fs::remove_all(job_.output_data());
  const fs::path out = scratch_.path() / "local-out";
  ArtifactUpload upload =
      upload_job_artifacts(store_, job_, "file://" + out.string() + "/", "my-job");
  EXPECT_EQ(upload.model_artifacts, "file://" + out.string() + "/my-job/output/model.tar.gz");
  EXPECT_TRUE(fs::exists(out / "my-job" / "output" / "model.tar.gz"));
  EXPECT_TRUE(fs::exists(out / "my-job" / "output" / "output.tar.gz"));
  EXPECT_EQ(upload.model.files, 0);
}

TEST_F(UploadTest, SymlinkedModelDirectoryIsRefused) {
  const fs::path elsewhere = scratch_.path() / "elsewhere";
  write_file(elsewhere / "secret", "s");
  fs::remove_all(job_.model());
  fs::create_directory_symlink(elsewhere, job_.model());
  for (OutputCompressionType compression :
       {OutputCompressionType::kGzip, OutputCompressionType::kNone}) {
    EXPECT_THROW_WITH(upload_job_artifacts(store_, job_, "s3://bucket/out", "my-job", compression),
                      IOError, "symlink");
  }
  EXPECT_FALSE(store_.exists("s3://bucket/out/my-job/output/model/secret"));
}

TEST_F(UploadTest, BadOutputPathsAndJobNamesAreRefused) {
  EXPECT_THROW_WITH(upload_job_artifacts(store_, job_, "https://host/x", "my-job"), ValueError,
                    "not supported");
  EXPECT_THROW_WITH(upload_job_artifacts(store_, job_, "s3://bucket/x", "../escape"), ValueError,
                    "job name");
  EXPECT_FALSE(fs::exists(scratch_.path() / "s3"));
}

}  // namespace
}  // namespace trainyard::jobs
