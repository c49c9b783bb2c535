#include "data/idx.h"

#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "test_files.h"

namespace trainyard::data {
namespace {

using testing::append;
using testing::Bytes;
using testing::error_of;
using testing::gzip;
using testing::TempDir;
using testing::write_bytes;

Bytes idx_header(uint8_t type, const std::vector<uint32_t>& dims) {
  Bytes bytes = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t dim : dims) {
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<uint8_t>(dim >> shift));
  }
  return bytes;
}

TEST(IdxTest, ReadsUint8RawAndGzipIdentically) {
  TempDir dir;
  Bytes file = idx_header(0x08, {2, 3});
  append(file, {0, 1, 2, 253, 254, 255});
  write_bytes(dir.file("a.idx"), file);
  write_bytes(dir.file("a.idx.gz"), gzip(file));
  // The name does not decide: a gzip file without ".gz" and a raw one with it.
  write_bytes(dir.file("gzip-without-suffix"), gzip(file));
  write_bytes(dir.file("raw-with-suffix.gz"), file);
  for (const char* name : {"a.idx", "a.idx.gz", "gzip-without-suffix", "raw-with-suffix.gz"}) {
    Tensor tensor = read_idx(dir.file(name));
    EXPECT_EQ(tensor.shape(), Shape({2, 3})) << name;
    EXPECT_EQ(tensor.dtype(), DType::kUInt8) << name;
    EXPECT_EQ(tensor.to_vector<uint8_t>(), (std::vector<uint8_t>{0, 1, 2, 253, 254, 255})) << name;
  }
}

TEST(IdxTest, DecodesEveryElementTypeBigEndian) {
  TempDir dir;
  Bytes int8 = idx_header(0x09, {3});
  append(int8, {0x7f, 0x80, 0xff});
  write_bytes(dir.file("int8"), int8);
  EXPECT_EQ(read_idx(dir.file("int8")).to_vector<int32_t>(), (std::vector<int32_t>{127, -128, -1}));

  Bytes int16 = idx_header(0x0B, {2});
  append(int16, {0x01, 0x02, 0xff, 0xfe});
  write_bytes(dir.file("int16"), int16);
  EXPECT_EQ(read_idx(dir.file("int16")).to_vector<int32_t>(), (std::vector<int32_t>{258, -2}));

  Bytes int32 = idx_header(0x0C, {2});
  append(int32, {0x00, 0x01, 0x00, 0x00, 0xff, 0xff, 0xff, 0xfd});
  write_bytes(dir.file("int32"), gzip(int32));
  EXPECT_EQ(read_idx(dir.file("int32")).to_vector<int32_t>(), (std::vector<int32_t>{65536, -3}));

  // 1.5f = 0x3fc00000, -2.0f = 0xc0000000.
  Bytes float32 = idx_header(0x0D, {1, 2});
  append(float32, {0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0});
  write_bytes(dir.file("float32"), float32);
  Tensor floats = read_idx(dir.file("float32"));
  EXPECT_EQ(floats.shape(), Shape({1, 2}));
  EXPECT_EQ(floats.to_vector<float>(), (std::vector<float>{1.5f, -2.0f}));

  // 0.1 = 0x3fb999999999999a.
  Bytes float64 = idx_header(0x0E, {1});
  append(float64, {0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a});
  write_bytes(dir.file("float64"), float64);
  EXPECT_EQ(read_idx(dir.file("float64")).to_vector<double>(), (std::vector<double>{0.1}));
}

TEST(IdxTest, ZeroDimensionGivesEmptyTensorAndConcatenatedGzipMembersAreOneStream) {
  TempDir dir;
  write_bytes(dir.file("empty"), idx_header(0x08, {0, 28}));
  EXPECT_EQ(read_idx(dir.file("empty")).shape(), Shape({0, 28}));

  Bytes whole = idx_header(0x08, {4});
  append(whole, {9, 8, 7, 6});
  Bytes first(whole.begin(), whole.begin() + 6);
  Bytes second(whole.begin() + 6, whole.end());
  Bytes file = gzip(first);
  append(file, gzip(second));
  write_bytes(dir.file("two-members.gz"), file);
  EXPECT_EQ(read_idx(dir.file("two-members.gz")).to_vector<uint8_t>(),
            (std::vector<uint8_t>{9, 8, 7, 6}));
}

TEST(IdxTest, MissingFileOrDirectoryIsIOErrorNamingThePath) {
  TempDir dir;
  std::string missing = dir.file("no-such-file.gz");
  EXPECT_NE(error_of<IOError>([&] { read_idx(missing); }).find(missing), std::string::npos);
  std::string directory = dir.path().string();
  EXPECT_NE(error_of<IOError>([&] { read_idx(directory); }).find("directory"), std::string::npos);
}

TEST(IdxTest, TruncatedDataNamesDeclaredAndActualSizes) {
  TempDir dir;
  Bytes file = idx_header(0x08, {3, 2, 2});
  append(file, {1, 2, 3, 4, 5});
  for (bool compressed : {false, true}) {
    std::string path = dir.file(compressed ? "short.gz" : "short");
    write_bytes(path, compressed ? gzip(file) : file);
    std::string message = error_of<DataError>([&] { read_idx(path); });
    EXPECT_EQ(message,
              path + ": truncated: header declares 3x2x2 = 12 bytes of uint8 data, file holds 5");
  }
  Bytes floats = idx_header(0x0D, {3});
  append(floats, {0, 0, 0, 0, 0, 0});
  write_bytes(dir.file("floats"), floats);
  EXPECT_EQ(error_of<DataError>([&] { read_idx(dir.file("floats")); }),
            dir.file("floats") +
                ": truncated: header declares 3 = 3 elements = 12 bytes of float32 data, file "
                "holds 6");
  // The header itself cut short.
  write_bytes(dir.file("header"), {0, 0, 8, 3, 0, 0, 0, 1});
  EXPECT_NE(error_of<DataError>([&] { read_idx(dir.file("header")); }).find("truncated"),
            std::string::npos);
  write_bytes(dir.file("tiny"), {0, 0});
  EXPECT_NE(error_of<DataError>([&] { read_idx(dir.file("tiny")); }).find("too short"),
            std::string::npos);
}

TEST(IdxTest, TrailingBytesAreRejected) {
  TempDir dir;
  Bytes file = idx_header(0x08, {2});
  append(file, {1, 2, 3});
  for (bool compressed : {false, true}) {
    std::string path = dir.file(compressed ? "long.gz" : "long");
    write_bytes(path, compressed ? gzip(file) : file);
    EXPECT_EQ(error_of<DataError>([&] { read_idx(path); }),
              path + ": trailing data: header declares 2 = 2 bytes of uint8 data, file holds 3");
  }
}

TEST(IdxTest, BadHeadersAreDataErrors) {
  TempDir dir;
  struct Case {
    Bytes bytes;
    std::string expected;
  };
  std::vector<Case> cases = {
      {{0x1f, 0x00, 0x08, 0x01, 0, 0, 0, 1, 7}, "bad magic 0x1f 0x00"},
      {{0x00, 0x00, 0x0A, 0x01, 0, 0, 0, 1, 7}, "unknown IDX element type 0x0a"},
      {{0x00, 0x00, 0x08, 0x00}, "rank 0 is out of range 1..8"},
      {idx_header(0x08, {1, 1, 1, 1, 1, 1, 1, 1, 1}), "rank 9 is out of range 1..8"},
      {idx_header(0x08, {2, 0xfffffffbu}), "dimension 1 is negative (-5)"},
      // 65536 x 65536 = 2^32 elements, with four bytes of data behind it.
      {idx_header(0x08, {65536, 65536, 1}), "absurd size: header declares 65536x65536x1"},
  };
  cases.back().bytes.insert(cases.back().bytes.end(), {1, 2, 3, 4});
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string path = dir.file("case" + std::to_string(i));
    write_bytes(path, cases[i].bytes);
    std::string message = error_of<DataError>([&] { read_idx(path); });
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(cases[i].expected), std::string::npos) << message;
  }
}

TEST(IdxTest, HostileGzipHeaderFailsAsTruncatedWithoutAllocatingTheDeclaredSize) {
  // 2^31 float64 elements (16 GiB) declared over eight bytes of data: the reader must give up
  // when the data ends, not reserve 16 GiB first (under AddressSanitizer that would abort).
  TempDir dir;
  Bytes file = idx_header(0x0E, {32768, 65536});
  append(file, {1, 2, 3, 4, 5, 6, 7, 8});
  write_bytes(dir.file("bomb.gz"), gzip(file));
  std::string message = error_of<DataError>([&] { read_idx(dir.file("bomb.gz")); });
  EXPECT_NE(message.find("truncated: header declares 32768x65536 = 2147483648 elements = "
                         "17179869184 bytes of float64 data, file holds 8"),
            std::string::npos)
      << message;
}

TEST(IdxTest, CorruptGzipIsDataError) {
  TempDir dir;
  Bytes file = idx_header(0x08, {64});
  for (int i = 0; i < 64; ++i) file.push_back(static_cast<uint8_t>(i * 7));
  Bytes compressed = gzip(file);

  // A flipped bit in the CRC-32 trailer (the 8 bytes before ISIZE... the last 8 bytes).
  Bytes bad_crc = compressed;
  bad_crc[bad_crc.size() - 8] ^= 0x01;
  write_bytes(dir.file("crc.gz"), bad_crc);
  EXPECT_NE(error_of<DataError>([&] { read_idx(dir.file("crc.gz")); }).find("corrupt gzip"),
            std::string::npos);

  // A bad block type in the first deflate header (byte 10, after the 10-byte gzip header):
  // BTYPE = 11 is reserved.
  Bytes bad_block = compressed;
  bad_block[10] |= 0x06;
  write_bytes(dir.file("block.gz"), bad_block);
  EXPECT_NE(error_of<DataError>([&] { read_idx(dir.file("block.gz")); }).find("corrupt gzip"),
            std::string::npos);

  // The compressed stream cut in half.
  Bytes cut(compressed.begin(), compressed.begin() + static_cast<long>(compressed.size() / 2));
  write_bytes(dir.file("cut.gz"), cut);
  std::string cut_message = error_of<DataError>([&] { read_idx(dir.file("cut.gz")); });
  EXPECT_TRUE(cut_message.find("corrupt gzip") != std::string::npos ||
              cut_message.find("truncated") != std::string::npos)
      << cut_message;

  // Garbage after the gzip member.
  Bytes garbage = compressed;
  append(garbage, {'j', 'u', 'n', 'k'});
  write_bytes(dir.file("garbage.gz"), garbage);
  EXPECT_NE(error_of<DataError>([&] {
              read_idx(dir.file("garbage.gz"));
            }).find("unexpected bytes after the end of the compressed stream"),
            std::string::npos);
}

}  // namespace
}  // namespace trainyard::data
