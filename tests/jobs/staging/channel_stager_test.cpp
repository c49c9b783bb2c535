#include "jobs/staging/channel_stager.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/error.h"
#include "core/random.h"
#include "staging_test_util.h"

namespace trainyard::jobs {
namespace {

using testing::files_under;
using testing::names_in;
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

Channel make_channel(const std::string& name, const std::string& uri,
                     S3DataType type = S3DataType::kS3Prefix) {
  Channel channel;
  channel.channel_name = name;
  channel.data_source.s3_data_source = S3DataSource{.s3_data_type = type, .s3_uri = uri};
  return channel;
}

class ChannelStagerTest : public ::testing::Test {
 protected:
  ScratchDirectory scratch_;
  fs::path root_ = scratch_.path() / "data" / "s3";
  ObjectStore store_{root_};
  JobDirectory job_{scratch_.path() / "data", "job"};

  void SetUp() override {
    job_.create();
    write_file(root_ / "bucket" / "train" / "a.csv", "aaaa");
    write_file(root_ / "bucket" / "train" / "sub" / "b.csv", "bb");
    write_file(root_ / "bucket" / "train-01" / "c.csv", "c");
    write_file(root_ / "bucket" / "other" / "d.csv", "dddd");
  }

  ChannelStaging stage(const Channel& channel, int host_index = 0, int host_count = 1,
                       TrainingInputMode mode = TrainingInputMode::kFile) {
    return stage_channel(store_, channel, mode, job_, host_index, host_count);
  }
};

TEST_F(ChannelStagerTest, StagesAPrefixKeepingPathsBelowIt) {
  ChannelStaging staging = stage(make_channel("train", "s3://bucket/train/"));
  EXPECT_EQ(files_under(job_.channel("train")), (std::vector<std::string>{"a.csv", "sub/b.csv"}));
  EXPECT_EQ(read_file(job_.channel("train") / "a.csv"), "aaaa");
  EXPECT_EQ(read_file(job_.channel("train") / "sub" / "b.csv"), "bb");
  EXPECT_EQ(staging.objects.size(), 2u);
  EXPECT_EQ(staging.bytes, 6u);
  EXPECT_EQ(staging.total_objects, 2);
  EXPECT_EQ(staging.directory, job_.channel("train"));
  // Same filesystem: hard links to the stored objects.
  EXPECT_TRUE(staging.objects[0].linked);
  struct stat staged {
  }, stored{};
  ASSERT_EQ(::stat((job_.channel("train") / "a.csv").c_str(), &staged), 0);
  ASSERT_EQ(::stat((root_ / "bucket" / "train" / "a.csv").c_str(), &stored), 0);
  EXPECT_EQ(staged.st_ino, stored.st_ino);
  EXPECT_NE(staging.summary().find("2 objects, 6 bytes for algo-1 of 1"), std::string::npos)
      << staging.summary();
}

TEST_F(ChannelStagerTest, PrefixWithoutSlashBringsSiblingFolders) {
  stage(make_channel("train", "s3://bucket/train"));
  EXPECT_EQ(files_under(job_.channel("train")),
            (std::vector<std::string>{"train-01/c.csv", "train/a.csv", "train/sub/b.csv"}));
}

TEST_F(ChannelStagerTest, FastFileAndGzipAreStagedAsStored) {
  Channel channel = make_channel("train", "s3://bucket/other/");
  channel.compression_type = CompressionType::kGzip;
  stage(channel, 0, 1, TrainingInputMode::kFastFile);
  EXPECT_EQ(read_file(job_.channel("train") / "d.csv"), "dddd");
}

TEST_F(ChannelStagerTest, FileUrisAreStagedToo) {
  const fs::path local = scratch_.path() / "local";
  write_file(local / "x" / "y.bin", "yy");
  stage(make_channel("local", "file://" + local.string()));
  EXPECT_EQ(files_under(job_.channel("local")), (std::vector<std::string>{"x/y.bin"}));
}

TEST_F(ChannelStagerTest, RestagingReplacesTheChannel) {
  stage(make_channel("train", "s3://bucket/train/"));
  write_file(job_.channel("train") / "stale.txt", "old");
  stage(make_channel("train", "s3://bucket/other/"));
  EXPECT_EQ(files_under(job_.channel("train")), (std::vector<std::string>{"d.csv"}));
  EXPECT_EQ(names_in(job_.data()), (std::vector<std::string>{"train"}));
}

TEST_F(ChannelStagerTest, EmptyPrefixFailsNamingTheUri) {
  EXPECT_THROW_WITH(stage(make_channel("train", "s3://bucket/nothing-here/")), ValueError,
                    "no objects found under s3://bucket/nothing-here/ for channel 'train'");
  EXPECT_THROW_WITH(stage(make_channel("train", "s3://missing-bucket/x")), IOError,
                    "bucket 'missing-bucket'");
  EXPECT_FALSE(fs::exists(job_.channel("train")));
  EXPECT_TRUE(fs::is_empty(job_.data()));
}

TEST_F(ChannelStagerTest, RefusesWhatTrainyardDoesNotSupportYet) {
  EXPECT_THROW_WITH(
      stage(make_channel("train", "s3://bucket/train/"), 0, 1, TrainingInputMode::kPipe),
      ValueError, "Pipe input mode is not supported by trainyard yet");
  EXPECT_THROW_WITH(
      stage(make_channel("train", "s3://bucket/m.jsonl", S3DataType::kAugmentedManifestFile)),
      ValueError, "AugmentedManifestFile is not supported by trainyard yet");
  Channel efs;
  efs.channel_name = "shared";
  efs.data_source.file_system_data_source =
      FileSystemDataSource{"fs-1", FileSystemAccessMode::kRo, FileSystemType::kFsxLustre, "/d"};
  EXPECT_THROW_WITH(stage(efs), ValueError,
                    "FileSystemDataSource (FSxLustre) is not supported by trainyard yet");
  EXPECT_EQ(channel_staging_problem(make_channel("ok", "s3://bucket/x"), TrainingInputMode::kFile),
            "");
}

// ShardedByS3Key: the documented example, keys a b c d e over 2 hosts.
TEST(ShardAssignmentTest, DocumentedExampleWithoutSeed) {
  EXPECT_EQ(shard_assignment(5, 2, std::nullopt), (std::vector<int>{0, 1, 0, 1, 0}));
  EXPECT_EQ(shard_assignment(2, 3, std::nullopt), (std::vector<int>{0, 1}));
  EXPECT_TRUE(shard_assignment(0, 3, std::nullopt).empty());
  EXPECT_THROW(shard_assignment(3, 0, std::nullopt), ValueError);
}

// With a seed: a Fisher-Yates permutation driven by RandomGenerator(seed), written out here
// from the documented rule.
TEST(ShardAssignmentTest, SeedPermutesBeforeDealing) {
  const size_t count = 10;
  const int hosts = 3;
  std::vector<size_t> order(count);
  for (size_t i = 0; i < count; ++i) order[i] = i;
  RandomGenerator random(42);
  for (size_t i = count - 1; i >= 1; --i) std::swap(order[i], order[random.below(i + 1)]);
  std::vector<int> expected(count);
  for (size_t position = 0; position < count; ++position) {
    expected[order[position]] = static_cast<int>(position % hosts);
  }
  EXPECT_EQ(shard_assignment(count, hosts, 42), expected);
  EXPECT_EQ(shard_assignment(count, hosts, 42), shard_assignment(count, hosts, 42));
  EXPECT_NE(shard_assignment(count, hosts, 42), shard_assignment(count, hosts, 43));
  std::vector<int> per_host(hosts);
  for (int host : shard_assignment(count, hosts, 7)) per_host[static_cast<size_t>(host)] += 1;
  EXPECT_EQ(per_host, (std::vector<int>{4, 3, 3}));
}

TEST_F(ChannelStagerTest, ShardedChannelsSplitObjectsAcrossHosts) {
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    write_file(root_ / "bucket" / "shards" / name, name);
  }
  Channel channel = make_channel("train", "s3://bucket/shards/");
  channel.data_source.s3_data_source->s3_data_distribution_type =
      S3DataDistribution::kShardedByS3Key;
  ChannelStaging first = stage(channel, 0, 2);
  EXPECT_EQ(files_under(job_.channel("train")), (std::vector<std::string>{"a", "c", "e"}));
  ChannelStaging second = stage(channel, 1, 2);
  EXPECT_EQ(files_under(job_.channel("train")), (std::vector<std::string>{"b", "d"}));
  EXPECT_EQ(second.total_objects, 5);
  ASSERT_EQ(second.shares.size(), 2u);
  EXPECT_EQ(second.shares[0].object_count, 3);
  EXPECT_EQ(second.shares[1].object_count, 2);
  EXPECT_EQ(second.shares[1].bytes, 2u);
  EXPECT_NE(second.summary().find("algo-1 3 objects 3 bytes, algo-2 2 objects 2 bytes"),
            std::string::npos)
      << second.summary();
  // More hosts than objects: an empty channel directory, not an error.
  ChannelStaging idle = stage(channel, 6, 7);
  EXPECT_TRUE(idle.objects.empty());
  EXPECT_TRUE(fs::is_directory(job_.channel("train")));
  EXPECT_TRUE(fs::is_empty(job_.channel("train")));
}

TEST_F(ChannelStagerTest, ShuffledShardsCoverEveryObjectOnce) {
  std::set<std::string> all;
  for (int i = 0; i < 12; ++i) {
    std::string name = "part-" + std::to_string(i);
    write_file(root_ / "bucket" / "many" / name, name);
    all.insert(name);
  }
  Channel channel = make_channel("train", "s3://bucket/many/");
  channel.data_source.s3_data_source->s3_data_distribution_type =
      S3DataDistribution::kShardedByS3Key;
  channel.shuffle_config = ShuffleConfig{.seed = 1234};
  std::multiset<std::string> seen;
  for (int host = 0; host < 3; ++host) {
    for (const std::string& file : files_under(stage(channel, host, 3).directory)) {
      seen.insert(file);
    }
  }
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), all);
  EXPECT_EQ(seen.size(), all.size());
}

TEST_F(ChannelStagerTest, FullyReplicatedGivesEveryHostEverything) {
  ChannelStaging staging = stage(make_channel("train", "s3://bucket/train/"), 1, 3);
  EXPECT_EQ(staging.objects.size(), 2u);
  for (const HostShare& share : staging.shares) EXPECT_EQ(share.object_count, 2);
}

TEST_F(ChannelStagerTest, ManifestFilesStageTheirEntries) {
  write_file(root_ / "bucket" / "manifests" / "m.json",
             R"([{"prefix": "s3://bucket/train/"}, "a.csv", "sub/b.csv", "a.csv"])");
  ChannelStaging staging =
      stage(make_channel("train", "s3://bucket/manifests/m.json", S3DataType::kManifestFile));
  EXPECT_EQ(files_under(job_.channel("train")), (std::vector<std::string>{"a.csv", "sub/b.csv"}));
  EXPECT_EQ(staging.total_objects, 2);
}

TEST_F(ChannelStagerTest, ManifestNamingAMissingObjectFails) {
  write_file(root_ / "bucket" / "m.json", R"([{"prefix": "s3://bucket/train/"}, "nope.csv"])");
  EXPECT_THROW_WITH(stage(make_channel("train", "s3://bucket/m.json", S3DataType::kManifestFile)),
                    IOError, "element 2 ('nope.csv')");
}

TEST(ManifestTest, ParsesAwsFormat) {
  ChannelManifest manifest = parse_manifest(
      R"([{"prefix": "s3://customer-bucket/some/prefix/"}, "relative/path/to/custdata-1",
          "relative/path/custdata-2"])",
      "s3://b/m");
  EXPECT_EQ(manifest.prefix, "s3://customer-bucket/some/prefix/");
  EXPECT_EQ(manifest.suffixes,
            (std::vector<std::string>{"relative/path/to/custdata-1", "relative/path/custdata-2"}));
  EXPECT_EQ(parse_manifest(R"([{"prefix": "s3://bucket"}, "k"])", "s3://b/m").prefix,
            "s3://bucket/");
}

TEST(ManifestTest, ParsingErrorsNameTheManifestAndElement) {
  const std::string uri = "s3://b/m.json";
  EXPECT_THROW_WITH(parse_manifest("[{\"prefix\": ", uri), DataError,
                    "manifest s3://b/m.json is not valid JSON");
  EXPECT_THROW_WITH(parse_manifest("{}", uri), ValueError, "not a non-empty JSON array");
  EXPECT_THROW_WITH(parse_manifest("[]", uri), ValueError, "not a non-empty JSON array");
  EXPECT_THROW_WITH(parse_manifest(R"(["a"])", uri), ValueError, "element 1 is not");
  EXPECT_THROW_WITH(parse_manifest(R"([{"Prefix": "s3://bucket/"}, "a"])", uri), ValueError,
                    "element 1 is not");
  EXPECT_THROW_WITH(parse_manifest(R"([{"prefix": 7}, "a"])", uri), ValueError, "element 1 is not");
  EXPECT_THROW_WITH(parse_manifest(R"([{"prefix": "https://x/"}, "a"])", uri), ValueError,
                    "unusable prefix");
  EXPECT_THROW_WITH(parse_manifest(R"([{"prefix": "s3://Bad/"}, "a"])", uri), ValueError,
                    "unusable prefix");
  EXPECT_THROW_WITH(parse_manifest(R"([{"prefix": "s3://bucket/"}, 5])", uri), ValueError,
                    "element 2 is number");
  EXPECT_THROW_WITH(parse_manifest(R"([{"prefix": "s3://bucket/"}, ""])", uri), ValueError,
                    "element 2");
  EXPECT_THROW_WITH(parse_manifest(R"([{"prefix": "s3://bucket/"}])", uri), ValueError,
                    "lists no objects");
}

// Hostile names and keys never write outside the job directory.
TEST(ManifestTest, RefusesEscapingEntries) {
  const std::string uri = "s3://b/m.json";
  EXPECT_THROW_WITH(parse_manifest(R"([{"prefix": "s3://bucket/"}, "../../etc/passwd"])", uri),
                    ValueError, "element 2 ('../../etc/passwd')");
  EXPECT_THROW_WITH(parse_manifest(R"([{"prefix": "s3://bucket/"}, "/etc/passwd"])", uri),
                    ValueError, "absolute");
  EXPECT_THROW_WITH(parse_manifest(R"([{"prefix": "s3://bucket/"}, "a/./b"])", uri), ValueError,
                    "'.'");
}

TEST_F(ChannelStagerTest, HostileChannelNamesAreRefused) {
  const std::vector<std::string> names = {"..",
                                          ".",
                                          "../escape",
                                          "/abs",
                                          "a/b",
                                          "",
                                          "x\ny",
                                          "train~staging",
                                          std::string(65, 'a'),
                                          std::string("nul\0x", 5)};
  for (const std::string& name : names) {
    EXPECT_THROW_WITH(stage(make_channel(name, "s3://bucket/train/")), ValueError,
                      "cannot name a directory");
  }
  EXPECT_TRUE(fs::is_empty(job_.data()));
  EXPECT_EQ(names_in(scratch_.path() / "data" / "jobs"), (std::vector<std::string>{"job"}));
}

TEST_F(ChannelStagerTest, StoreSymlinkToEtcIsRefusedWithItsKey) {
  fs::create_directory_symlink("/etc", root_ / "bucket" / "train" / "etc");
  EXPECT_THROW_WITH(stage(make_channel("train", "s3://bucket/train/")), ValueError, "train/etc");
  EXPECT_FALSE(fs::exists(job_.channel("train")));
  EXPECT_TRUE(fs::is_empty(job_.data()));
}

TEST_F(ChannelStagerTest, ManifestEntryThroughASymlinkOutsideIsRefused) {
  fs::create_directory_symlink("/etc", root_ / "bucket" / "etc");
  write_file(root_ / "bucket" / "m.json", R"([{"prefix": "s3://bucket/"}, "etc/passwd"])");
  EXPECT_THROW_WITH(stage(make_channel("train", "s3://bucket/m.json", S3DataType::kManifestFile)),
                    ValueError, "outside the object store");
  EXPECT_FALSE(fs::exists(job_.channel("train")));
}

TEST_F(ChannelStagerTest, SymlinkPlantedInTheJobDirectoryIsNotFollowed) {
  const fs::path outside = scratch_.path() / "outside";
  fs::create_directories(outside);
  // A previous run left input/data/train pointing elsewhere: staging replaces the link and
  // never writes through it.
  fs::create_directory_symlink(outside, job_.channel("train"));
  stage(make_channel("train", "s3://bucket/train/"));
  EXPECT_TRUE(fs::is_empty(outside));
  EXPECT_FALSE(fs::is_symlink(job_.channel("train")));
  EXPECT_EQ(files_under(job_.channel("train")), (std::vector<std::string>{"a.csv", "sub/b.csv"}));
  // input/data itself replaced by a symlink: refused.
  fs::remove_all(job_.data());
  fs::create_directory_symlink(outside, job_.data());
  EXPECT_THROW_WITH(stage(make_channel("train", "s3://bucket/train/")), IOError, "symlink");
  EXPECT_TRUE(fs::is_empty(outside));
}

TEST_F(ChannelStagerTest, CopiesWhenHardLinksAreNotPossible) {
  // A store on another filesystem cannot be hard-linked; /dev/shm is a tmpfs where there is
  // one, otherwise this test only covers the linked path.
  const fs::path shm = "/dev/shm";
  std::error_code error;
  if (!fs::is_directory(shm, error)) GTEST_SKIP() << "no /dev/shm";
  const fs::path other_root = shm / ("trainyard-staging-" + std::to_string(::getpid()) + "-copy");
  fs::remove_all(other_root);
  write_file(other_root / "bucket" / "train" / "a.csv", testing::random_bytes(3 << 20, 3));
  struct stat a {
  }, b{};
  ::stat(other_root.c_str(), &a);
  ::stat(job_.root().c_str(), &b);
  if (a.st_dev == b.st_dev) {
    fs::remove_all(other_root);
    GTEST_SKIP() << "/dev/shm shares the scratch filesystem";
  }
  ObjectStore other(other_root);
  ChannelStaging staging = stage_channel(other, make_channel("train", "s3://bucket/train/"),
                                         TrainingInputMode::kFile, job_, 0, 1);
  EXPECT_FALSE(staging.objects[0].linked);
  EXPECT_EQ(read_file(job_.channel("train") / "a.csv"), testing::random_bytes(3 << 20, 3));
  EXPECT_EQ(names_in(job_.channel("train")), (std::vector<std::string>{"a.csv"}));
  fs::remove_all(other_root);
}

}  // namespace
}  // namespace trainyard::jobs
