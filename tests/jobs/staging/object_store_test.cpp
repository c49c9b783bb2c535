#include "jobs/staging/object_store.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "staging_test_util.h"

namespace trainyard::jobs {
namespace {

using testing::names_in;
using testing::read_file;
using testing::ScratchDirectory;
using testing::write_file;
namespace fs = std::filesystem;

// The message of the exception `statement` throws as `Type`, or a failure.
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

std::vector<std::string> keys_of(const std::vector<StoredObject>& objects) {
  std::vector<std::string> keys;
  for (const StoredObject& object : objects) keys.push_back(object.key);
  return keys;
}

std::vector<std::string> relative_paths_of(const std::vector<StoredObject>& objects) {
  std::vector<std::string> paths;
  for (const StoredObject& object : objects) paths.push_back(object.relative_path);
  return paths;
}

TEST(StoreUriTest, ParsesS3BucketAndKey) {
  StoreUri uri = parse_store_uri("s3://my-bucket.data/train/part-0.csv");
  EXPECT_TRUE(uri.is_s3());
  EXPECT_EQ(uri.bucket, "my-bucket.data");
  EXPECT_EQ(uri.key, "train/part-0.csv");
  EXPECT_EQ(parse_store_uri("s3://abc").key, "");
  EXPECT_EQ(parse_store_uri("s3://abc/").key, "");
  EXPECT_EQ(parse_store_uri("s3://abc/dir/").key, "dir/");
}

TEST(StoreUriTest, ParsesFileUris) {
  StoreUri uri = parse_store_uri("file:///data/./mnist/");
  EXPECT_FALSE(uri.is_s3());
  EXPECT_EQ(uri.path, fs::path("/data/mnist"));
  EXPECT_EQ(parse_store_uri("file:///").path, fs::path("/"));
}

TEST(StoreUriTest, RefusesBadBucketNamesNamingTheUri) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"s3://ab/k", "is 2 characters long"},
      {"s3://" + std::string(64, 'a') + "/k", "is 64 characters long"},
      {"s3://My-Bucket/k", "contains 'M'"},
      {"s3://my_bucket/k", "contains '_'"},
      {"s3://-bucket/k", "must begin and end"},
      {"s3://bucket-/k", "must begin and end"},
      {"s3://my..bucket/k", "two adjacent periods"},
      {"s3://192.168.5.4/k", "IP address"},
      {"s3://xn--bucket/k", "reserved prefix 'xn--'"},
      {"s3://sthree-bucket/k", "reserved prefix 'sthree-'"},
      {"s3://amzn-s3-demo-bucket/k", "reserved prefix 'amzn-s3-demo-'"},
      {"s3://bucket-s3alias/k", "reserved suffix '-s3alias'"},
      {"s3://bucket--ol-s3/k", "reserved suffix '--ol-s3'"},
      {"s3://bucket.mrap/k", "reserved suffix '.mrap'"},
      {"s3://bucket--x-s3/k", "reserved suffix '--x-s3'"},
  };
  for (const auto& [uri, reason] : cases) {
    EXPECT_THROW_WITH(parse_store_uri(uri), ValueError, reason);
    EXPECT_THROW_WITH(parse_store_uri(uri), ValueError, uri.substr(0, 40));
  }
  // Valid names at the edges of the rules.
  EXPECT_EQ(bucket_name_problem("a.b"), "");
  EXPECT_EQ(bucket_name_problem(std::string(63, 'z')), "");
  EXPECT_EQ(bucket_name_problem("192.168.5.4a"), "");
}

TEST(StoreUriTest, RefusesOtherSchemesAndShapes) {
  EXPECT_THROW_WITH(parse_store_uri("s3://"), ValueError, "names no bucket");
  EXPECT_THROW_WITH(parse_store_uri("s3:///key"), ValueError, "names no bucket");
  EXPECT_THROW_WITH(parse_store_uri("https://bucket.s3.amazonaws.com/k"), ValueError,
                    "not supported by trainyard yet");
  EXPECT_THROW_WITH(parse_store_uri("file://host/data"), ValueError, "file:///absolute/path");
  EXPECT_THROW_WITH(parse_store_uri("S3://bucket/k"), ValueError, "expected s3://bucket/key");
  EXPECT_THROW_WITH(parse_store_uri("/data/train"), ValueError, "'/data/train'");
  EXPECT_THROW_WITH(parse_store_uri("s3://bucket/" + std::string(1025, 'k')), ValueError,
                    "1025 bytes");
  EXPECT_NO_THROW(parse_store_uri("s3://bucket/" + std::string(1024, 'k')));
}

TEST(StoreUriTest, KeyRelativeToPrefixDropsThePrefixFolder) {
  EXPECT_EQ(key_relative_to_prefix("data/train/", "data/train/x"), "x");
  EXPECT_EQ(key_relative_to_prefix("data/train", "data/train/x"), "train/x");
  EXPECT_EQ(key_relative_to_prefix("data/train", "data/train-01/y"), "train-01/y");
  EXPECT_EQ(key_relative_to_prefix("train", "train-01/y"), "train-01/y");
  EXPECT_EQ(key_relative_to_prefix("", "a/b"), "a/b");
  EXPECT_EQ(key_relative_to_prefix("data/file.csv", "data/file.csv"), "file.csv");
}

class ObjectStoreTest : public ::testing::Test {
 protected:
  ScratchDirectory scratch_;
  fs::path root_ = scratch_.path() / "s3";
  ObjectStore store_{root_};

  void SetUp() override {
    write_file(root_ / "bucket" / "train" / "a.csv", "aaaa");
    write_file(root_ / "bucket" / "train" / "sub" / "b.csv", "bb");
    write_file(root_ / "bucket" / "train-01" / "c.csv", "c");
    write_file(root_ / "bucket" / "trainx", "xyz");
    write_file(root_ / "bucket" / "other" / "d.csv", "dddd");
    fs::create_directories(root_ / "bucket" / "train" / "empty");
  }
};

TEST_F(ObjectStoreTest, PrefixWithoutSlashMatchesSiblingFolders) {
  std::vector<StoredObject> objects = store_.list("s3://bucket/train");
  // Byte order: '-' (0x2d) < '/' (0x2f) < 'x'.
  EXPECT_EQ(keys_of(objects), (std::vector<std::string>{"train-01/c.csv", "train/a.csv",
                                                        "train/sub/b.csv", "trainx"}));
  EXPECT_EQ(relative_paths_of(objects), (std::vector<std::string>{"train-01/c.csv", "train/a.csv",
                                                                  "train/sub/b.csv", "trainx"}));
  EXPECT_EQ(objects[1].size, 4u);
  EXPECT_EQ(objects[2].size, 2u);
  EXPECT_EQ(read_file(objects[1].path), "aaaa");
}

TEST_F(ObjectStoreTest, PrefixWithSlashStaysInTheFolder) {
  std::vector<StoredObject> objects = store_.list("s3://bucket/train/");
  EXPECT_EQ(keys_of(objects), (std::vector<std::string>{"train/a.csv", "train/sub/b.csv"}));
  EXPECT_EQ(relative_paths_of(objects), (std::vector<std::string>{"a.csv", "sub/b.csv"}));
}

TEST_F(ObjectStoreTest, WholeBucketAndPartialNames) {
  EXPECT_EQ(store_.list("s3://bucket").size(), 5u);
  EXPECT_EQ(store_.list("s3://bucket/").size(), 5u);
  EXPECT_EQ(keys_of(store_.list("s3://bucket/train/s")),
            (std::vector<std::string>{"train/sub/b.csv"}));
  EXPECT_EQ(keys_of(store_.list("s3://bucket/train/a.csv")),
            (std::vector<std::string>{"train/a.csv"}));
  EXPECT_TRUE(store_.list("s3://bucket/nothing").empty());
  EXPECT_TRUE(store_.list("s3://bucket/train/empty/").empty());  // directories are not objects
  EXPECT_TRUE(store_.list("s3://bucket/trainx/").empty());       // a file is not a folder
}

TEST_F(ObjectStoreTest, MissingBucketIsAnErrorNamingIt) {
  EXPECT_THROW_WITH(store_.list("s3://no-such-bucket/x"), IOError, "bucket 'no-such-bucket'");
}

TEST_F(ObjectStoreTest, PrefixWithDotDotIsRefused) {
  EXPECT_THROW_WITH(store_.list("s3://bucket/train/../../x"), ValueError, "'..'");
  EXPECT_THROW_WITH(store_.list("s3://bucket/a//b"), ValueError, "empty");
}

TEST_F(ObjectStoreTest, SymlinkOutsideTheStoreIsRefusedWithItsKey) {
  fs::create_directory_symlink("/etc", root_ / "bucket" / "train" / "evil");
  EXPECT_THROW_WITH(store_.list("s3://bucket/train/"), ValueError, "train/evil");
  EXPECT_THROW_WITH(store_.get_path("s3://bucket/train/evil/passwd"), ValueError,
                    "outside the object store");
  // Listing elsewhere in the bucket never touches it.
  EXPECT_EQ(store_.list("s3://bucket/other/").size(), 1u);
}

TEST_F(ObjectStoreTest, SymlinkToAFileOutsideIsRefused) {
  write_file(scratch_.path() / "secret.txt", "secret");
  fs::create_symlink(scratch_.path() / "secret.txt", root_ / "bucket" / "other" / "leak");
  EXPECT_THROW_WITH(store_.list("s3://bucket/other/"), ValueError, "other/leak");
  EXPECT_THROW_WITH(store_.get_path("s3://bucket/other/leak"), ValueError,
                    "outside the object store");
}

TEST_F(ObjectStoreTest, SymlinksInsideTheStoreAreFollowed) {
  fs::create_symlink(root_ / "bucket" / "train" / "a.csv", root_ / "bucket" / "other" / "alias");
  fs::create_directory_symlink("../train-01", root_ / "bucket" / "other" / "folder");
  std::vector<StoredObject> objects = store_.list("s3://bucket/other/");
  EXPECT_EQ(keys_of(objects),
            (std::vector<std::string>{"other/alias", "other/d.csv", "other/folder/c.csv"}));
  EXPECT_EQ(objects[0].path, fs::canonical(root_ / "bucket" / "train" / "a.csv"));
  EXPECT_EQ(read_file(store_.get_path("s3://bucket/other/folder/c.csv")), "c");
}

TEST_F(ObjectStoreTest, SymlinkLoopIsAnErrorNotAHang) {
  fs::create_directory_symlink("..", root_ / "bucket" / "other" / "up");
  EXPECT_THROW_WITH(store_.list("s3://bucket/other/"), IOError, "symlink loop");
}

TEST_F(ObjectStoreTest, GetPathNamesMissingObjects) {
  EXPECT_EQ(store_.get_path("s3://bucket/train/a.csv"),
            fs::canonical(root_ / "bucket" / "train" / "a.csv"));
  EXPECT_THROW_WITH(store_.get_path("s3://bucket/train/missing"), IOError,
                    "s3://bucket/train/missing");
  EXPECT_THROW_WITH(store_.get_path("s3://bucket/train"), IOError, "not a regular file");
  EXPECT_THROW_WITH(store_.get_path("s3://bucket/train/../trainx"), ValueError, "'..'");
  EXPECT_TRUE(store_.exists("s3://bucket/trainx"));
  EXPECT_FALSE(store_.exists("s3://bucket/nope"));
}

TEST_F(ObjectStoreTest, PutBytesWritesAtomicallyAndCreatesTheBucket) {
  store_.put_bytes("hello", "s3://new-bucket/a/b/c.txt");
  EXPECT_EQ(read_file(root_ / "new-bucket" / "a" / "b" / "c.txt"), "hello");
  store_.put_bytes("replaced", "s3://new-bucket/a/b/c.txt");
  EXPECT_EQ(read_file(store_.get_path("s3://new-bucket/a/b/c.txt")), "replaced");
  EXPECT_EQ(names_in(root_ / "new-bucket" / "a" / "b"), (std::vector<std::string>{"c.txt"}));
}

TEST_F(ObjectStoreTest, PutFileCopiesALocalFile) {
  write_file(scratch_.path() / "local.bin", testing::random_bytes(100000, 7));
  store_.put_file(scratch_.path() / "local.bin", "s3://bucket/uploads/local.bin");
  EXPECT_EQ(read_file(root_ / "bucket" / "uploads" / "local.bin"),
            testing::random_bytes(100000, 7));
  EXPECT_THROW_WITH(store_.put_file(scratch_.path() / "missing", "s3://bucket/x"), IOError,
                    "missing");
  EXPECT_THROW_WITH(store_.put_file(scratch_.path(), "s3://bucket/x"), IOError,
                    "not a regular file");
}

TEST_F(ObjectStoreTest, PutRefusesBadKeysAndSymlinkedFolders) {
  EXPECT_THROW_WITH(store_.put_bytes("x", "s3://bucket/a/../../../escape"), ValueError, "'..'");
  EXPECT_THROW_WITH(store_.put_bytes("x", "s3://bucket/"), ValueError, "empty");
  EXPECT_THROW_WITH(store_.put_bytes("x", "s3://bucket/a//b"), ValueError, "empty");
  EXPECT_THROW_WITH(store_.put_bytes("x", "s3://bucket/dir/"), ValueError, "empty");
  const fs::path outside = scratch_.path() / "outside";
  fs::create_directories(outside);
  fs::create_directory_symlink(outside, root_ / "bucket" / "link");
  EXPECT_THROW_WITH(store_.put_bytes("x", "s3://bucket/link/file"), IOError, "symlink");
  EXPECT_TRUE(fs::is_empty(outside));
  EXPECT_FALSE(fs::exists(scratch_.path() / "escape"));
  // A key whose folder is an existing object.
  EXPECT_THROW_WITH(store_.put_bytes("x", "s3://bucket/trainx/y"), IOError, "trainx");
}

TEST_F(ObjectStoreTest, FileUrisListDirectoriesAndFiles) {
  const fs::path data = scratch_.path() / "local-data";
  write_file(data / "x.csv", "1");
  write_file(data / "nested" / "y.csv", "22");
  std::vector<StoredObject> objects = store_.list("file://" + data.string());
  EXPECT_EQ(relative_paths_of(objects), (std::vector<std::string>{"nested/y.csv", "x.csv"}));
  EXPECT_EQ(objects[0].key, data.string().substr(1) + "/nested/y.csv");
  EXPECT_EQ(objects[0].size, 2u);
  EXPECT_EQ(relative_paths_of(store_.list("file://" + data.string() + "/")),
            (std::vector<std::string>{"nested/y.csv", "x.csv"}));
  std::vector<StoredObject> single = store_.list("file://" + (data / "x.csv").string());
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].relative_path, "x.csv");
  EXPECT_TRUE(store_.list("file://" + (data / "missing").string()).empty());
  EXPECT_EQ(read_file(store_.get_path("file://" + (data / "nested" / "y.csv").string())), "22");
}

TEST_F(ObjectStoreTest, FileUriSymlinkLeavingTheDirectoryIsRefused) {
  const fs::path data = scratch_.path() / "local-data";
  write_file(data / "x.csv", "1");
  write_file(scratch_.path() / "secret", "s");
  fs::create_symlink(scratch_.path() / "secret", data / "host");
  EXPECT_THROW_WITH(store_.list("file://" + data.string()), ValueError, "host");
}

TEST_F(ObjectStoreTest, PrepareAndPutToFileUris) {
  const fs::path out = scratch_.path() / "out" / "deep" / "file.bin";
  store_.put_bytes("abc", "file://" + out.string());
  EXPECT_EQ(read_file(out), "abc");
  EXPECT_EQ(store_.prepare_put("s3://bucket/p/q/r"), root_ / "bucket" / "p" / "q" / "r");
  EXPECT_TRUE(fs::is_directory(root_ / "bucket" / "p" / "q"));
  EXPECT_THROW_WITH(store_.put_bytes("x", "file:///"), ValueError, "names no file");
}

}  // namespace
}  // namespace trainyard::jobs
