#include "data/npz.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "data/npy_header.h"
#include "test_files.h"

namespace trainyard::data {
namespace {

using testing::Bytes;
using testing::error_of;
using testing::TempDir;
using testing::write_bytes;

// numpy 1.24: np.savez_compressed(f, x=np.array([[1, 2], [3, 4]], dtype='<i4'),
// y=np.array([0.5])) (deflated members with zip64 extra fields).
const Bytes kNumpyNpz = {
    0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0x7b, 0xc8,
    0x61, 0x7c, 0x52, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x05, 0x00, 0x14, 0x00, 0x78, 0x2e,
    0x6e, 0x70, 0x79, 0x01, 0x00, 0x10, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x52,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9b, 0xec, 0x17, 0xea, 0x1b, 0x10, 0xc9, 0xc8, 0x50,
    0xc6, 0x50, 0xad, 0x9e, 0x92, 0x5a, 0x9c, 0x5c, 0xa4, 0x6e, 0xa5, 0xa0, 0x6e, 0x93, 0x69, 0xa2,
    0xae, 0xa3, 0xa0, 0x9e, 0x96, 0x5f, 0x54, 0x52, 0x94, 0x98, 0x17, 0x9f, 0x5f, 0x94, 0x92, 0x0a,
    0x12, 0x77, 0x4b, 0xcc, 0x29, 0x4e, 0x05, 0x8a, 0x17, 0x67, 0x24, 0x16, 0xa4, 0x02, 0xf9, 0x1a,
    0x46, 0x3a, 0x0a, 0x46, 0x9a, 0x3a, 0x0a, 0xb5, 0x0a, 0x64, 0x03, 0x2e, 0x46, 0x06, 0x06, 0x06,
    0x26, 0x20, 0x66, 0x06, 0x62, 0x16, 0x20, 0x06, 0x00, 0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00,
    0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0xea, 0xc5, 0x19, 0x9d, 0x49, 0x00, 0x00, 0x00, 0x88,
    0x00, 0x00, 0x00, 0x05, 0x00, 0x14, 0x00, 0x79, 0x2e, 0x6e, 0x70, 0x79, 0x01, 0x00, 0x10, 0x00,
    0x88, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x49, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x9b, 0xec, 0x17, 0xea, 0x1b, 0x10, 0xc9, 0xc8, 0x50, 0xc6, 0x50, 0xad, 0x9e, 0x92, 0x5a, 0x9c,
    0x5c, 0xa4, 0x6e, 0xa5, 0xa0, 0x6e, 0x93, 0x66, 0xa1, 0xae, 0xa3, 0xa0, 0x9e, 0x96, 0x5f, 0x54,
    0x52, 0x94, 0x98, 0x17, 0x9f, 0x5f, 0x94, 0x92, 0x0a, 0x12, 0x77, 0x4b, 0xcc, 0x29, 0x4e, 0x05,
    0x8a, 0x17, 0x67, 0x24, 0x16, 0xa4, 0x02, 0xf9, 0x1a, 0x86, 0x3a, 0x9a, 0x3a, 0x0a, 0xb5, 0x0a,
    0x14, 0x00, 0x2e, 0x06, 0x30, 0x78, 0x60, 0x0f, 0x00, 0x50, 0x4b, 0x01, 0x02, 0x14, 0x03, 0x14,
    0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0x7b, 0xc8, 0x61, 0x7c, 0x52, 0x00, 0x00,
    0x00, 0x90, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x78, 0x2e, 0x6e, 0x70, 0x79, 0x50, 0x4b, 0x01, 0x02,
    0x14, 0x03, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0xea, 0xc5, 0x19, 0x9d,
    0x49, 0x00, 0x00, 0x00, 0x88, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x89, 0x00, 0x00, 0x00, 0x79, 0x2e, 0x6e, 0x70, 0x79, 0x50,
    0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x02, 0x00, 0x66, 0x00, 0x00, 0x00, 0x09,
    0x01, 0x00, 0x00, 0x00, 0x00,
};

struct Member {
  std::string name;
  Bytes bytes;
  bool symlink = false;
};

// Writes a zip archive with libarchive, each member stored or deflated.
void write_zip(const std::string& path, const std::vector<Member>& members, bool deflate) {
  archive* writer = archive_write_new();
  ASSERT_EQ(archive_write_set_format_zip(writer), ARCHIVE_OK);
  if (deflate) {
    ASSERT_EQ(archive_write_zip_set_compression_deflate(writer), ARCHIVE_OK);
  } else {
    ASSERT_EQ(archive_write_zip_set_compression_store(writer), ARCHIVE_OK);
  }
  ASSERT_EQ(archive_write_open_filename(writer, path.c_str()), ARCHIVE_OK);
  for (const Member& member : members) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, member.name.c_str());
    if (member.symlink) {
      archive_entry_set_filetype(entry, AE_IFLNK);
      archive_entry_set_symlink(entry, "/etc/passwd");
      archive_entry_set_size(entry, 0);
    } else {
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_size(entry, static_cast<la_int64_t>(member.bytes.size()));
    }
    archive_entry_set_perm(entry, 0644);
    ASSERT_EQ(archive_write_header(writer, entry), ARCHIVE_OK) << archive_error_string(writer);
    if (!member.symlink && !member.bytes.empty()) {
      ASSERT_EQ(archive_write_data(writer, member.bytes.data(), member.bytes.size()),
                static_cast<la_ssize_t>(member.bytes.size()));
    }
    archive_entry_free(entry);
  }
  ASSERT_EQ(archive_write_close(writer), ARCHIVE_OK);
  archive_write_free(writer);
}

// A .npy file's bytes: NumPy's header for (descr, shape) followed by `data`.
Bytes npy_bytes(DType dtype, const std::vector<int64_t>& shape, const Bytes& data) {
  std::string header = format_npy_header(dtype, shape);
  Bytes bytes(header.begin(), header.end());
  testing::append(bytes, data);
  return bytes;
}

TEST(NpzTest, ReadsArchivesWrittenByNumPy) {
  TempDir dir;
  write_bytes(dir.file("numpy.npz"), kNumpyNpz);
  auto arrays = read_npz(dir.file("numpy.npz"));
  ASSERT_EQ(arrays.size(), 2u);
  EXPECT_EQ(arrays.at("x").shape(), Shape({2, 2}));
  EXPECT_EQ(arrays.at("x").to_vector<int32_t>(), (std::vector<int32_t>{1, 2, 3, 4}));
  EXPECT_EQ(arrays.at("y").to_vector<double>(), (std::vector<double>{0.5}));
}

TEST(NpzTest, ReadsStoredAndDeflatedMembers) {
  TempDir dir;
  const float weights[] = {1.0f, -2.0f, 0.5f, 8.0f};
  Bytes weights_data(sizeof(weights));
  std::memcpy(weights_data.data(), weights, sizeof(weights));
  std::vector<Member> members = {
      {"weights.npy", npy_bytes(DType::kFloat32, {2, 2}, weights_data)},
      {"labels.npy", npy_bytes(DType::kUInt8, {3}, {4, 5, 6})},
      {"layer/bias.npy", npy_bytes(DType::kUInt8, {}, {9})},
  };
  for (bool deflate : {false, true}) {
    std::string path = dir.file(deflate ? "deflated.npz" : "stored.npz");
    write_zip(path, members, deflate);
    auto arrays = read_npz(path);
    ASSERT_EQ(arrays.size(), 3u);
    EXPECT_EQ(arrays.at("weights").to_vector<float>(), (std::vector<float>{1, -2, 0.5f, 8}));
    EXPECT_EQ(arrays.at("labels").to_vector<uint8_t>(), (std::vector<uint8_t>{4, 5, 6}));
    EXPECT_EQ(arrays.at("layer/bias").shape().rank(), 0);
  }
}

TEST(NpzTest, RejectsUnsafeOrUnusableMembers) {
  TempDir dir;
  Bytes good = npy_bytes(DType::kUInt8, {1}, {1});
  struct Case {
    std::vector<Member> members;
    std::string expected;
  };
  std::vector<Case> cases = {
      {{{"../evil.npy", good}}, "unsafe member name (a '..' component)"},
      {{{"a/../../evil.npy", good}}, "unsafe member name (a '..' component)"},
      {{{"/etc/evil.npy", good}}, "unsafe member name (an absolute path)"},
      {{{"a//b.npy", good}}, "unsafe member name (an empty path component)"},
      {{{"link.npy", {}, true}}, "not a regular file"},
      {{{"readme.txt", good}}, "not a .npy array"},
      {{{"x.npy", good}, {"x.npy", good}}, "the name appears twice"},
  };
  // (libarchive itself turns backslashes in zip names into '/', so "a\\b.npy" arrives as the
  // harmless "a/b.npy"; the reader refuses a backslash should one ever reach it.)
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string path = dir.file(std::string("case").append(std::to_string(i)).append(".npz"));
    write_zip(path, cases[i].members, false);
    SCOPED_TRACE(cases[i].members[0].name);
    std::string message = error_of<DataError>([&] { read_npz(path); });
    EXPECT_EQ(message.rfind(path + ": member '", 0), 0u) << message;
    EXPECT_NE(message.find(cases[i].expected), std::string::npos) << message;
  }
}

TEST(NpzTest, MemberDataMustMatchItsHeader) {
  TempDir dir;
  // Three bytes declared, two present.
  Bytes short_member = npy_bytes(DType::kUInt8, {3}, {1, 2});
  write_zip(dir.file("short.npz"), {{"a.npy", short_member}}, true);
  std::string message = error_of<DataError>([&] { read_npz(dir.file("short.npz")); });
  EXPECT_NE(message.find("member 'a.npy'"), std::string::npos) << message;

  // A zip bomb: the header declares 16 bytes, the member inflates to 96 MiB of zeros. The
  // reader must stop near the declared size rather than inflate (and keep) everything.
  Bytes bomb = npy_bytes(DType::kUInt8, {16}, Bytes(size_t{96} << 20, 0));
  write_zip(dir.file("bomb.npz"), {{"bomb.npy", bomb}}, true);
  message = error_of<DataError>([&] { read_npz(dir.file("bomb.npz")); });
  EXPECT_NE(message.find("member 'bomb.npy'"), std::string::npos) << message;

  // The declared sizes together may not pass the caller's limit.
  Bytes hundred = npy_bytes(DType::kUInt8, {100}, Bytes(100, 7));
  write_zip(dir.file("two.npz"), {{"a.npy", hundred}, {"b.npy", hundred}}, false);
  EXPECT_EQ(read_npz(dir.file("two.npz"), 200).size(), 2u);
  message = error_of<DataError>([&] { read_npz(dir.file("two.npz"), 150); });
  EXPECT_NE(message.find("member 'b.npy': the archive declares more than the limit of 150 bytes"),
            std::string::npos)
      << message;
}

TEST(NpzTest, CorruptArchivesAndMissingFiles) {
  TempDir dir;
  EXPECT_THROW(read_npz(dir.file("absent.npz")), IOError);
  write_bytes(dir.file("junk.npz"), {'n', 'o', 't', ' ', 'a', ' ', 'z', 'i', 'p'});
  std::string message = error_of<DataError>([&] { read_npz(dir.file("junk.npz")); });
  EXPECT_NE(message.find(dir.file("junk.npz")), std::string::npos) << message;

  // A flipped byte inside a stored member's data fails its CRC-32.
  Bytes data(64, 0x55);
  write_zip(dir.file("crc.npz"), {{"a.npy", npy_bytes(DType::kUInt8, {64}, data)}}, false);
  Bytes archive_bytes = testing::read_bytes(dir.file("crc.npz"));
  auto run = std::search(archive_bytes.begin(), archive_bytes.end(), data.begin(), data.end());
  ASSERT_NE(run, archive_bytes.end());
  run[10] = 0x56;
  write_bytes(dir.file("crc.npz"), archive_bytes);
  message = error_of<DataError>([&] { read_npz(dir.file("crc.npz")); });
  EXPECT_NE(message.find("member 'a.npy'"), std::string::npos) << message;
}

}  // namespace
}  // namespace trainyard::data
