#include "data/npy.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "data/npy_header.h"
#include "test_files.h"

namespace trainyard::data {
namespace {

using testing::Bytes;
using testing::error_of;
using testing::read_bytes;
using testing::TempDir;
using testing::write_bytes;

template <size_t N>
Bytes literal(const char (&text)[N]) {
  return Bytes(text, text + N - 1);
}

// Files written by numpy 1.24 (np.save, or np.lib.format.write_array for versions 2.0 and
// 3.0), byte for byte.
// np.array([[1.5, -2, 0.25], [3, 4, 5]], dtype='<f4')
const Bytes kFloat32 = literal(
    "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }             "
    "                                             \x0a"
    "\x00\x00\xc0\x3f\x00\x00\x00\xc0\x00\x00\x80\x3e\x00\x00\x40\x40\x00\x00\x80\x40\x00\x00\xa0"
    "\x40");
// np.array([True, False, True])
const Bytes kBool = literal(
    "\x93NUMPY\x01\x00v\x00{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }               "
    "                                             \x0a"
    "\x01\x00\x01");
// np.array([0, 7, 255], dtype='u1')
const Bytes kUInt8 = literal(
    "\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }               "
    "                                             \x0a"
    "\x00\x07\xff");
// np.array([[-7], [65536]], dtype='<i4')
const Bytes kInt32 = literal(
    "\x93NUMPY\x01\x00v\x00{'descr': '<i4', 'fortran_order': False, 'shape': (2, 1), }             "
    "                                             \x0a"
    "\xf9\xff\xff\xff\x00\x00\x01\x00");
// np.array([-1, 2**40], dtype='<i8'), format version 2.0
const Bytes kInt64Version2 = literal(
    "\x93NUMPY\x02\x00t\x00\x00\x00{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }       "
    "                                                   \x0a"
    "\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x01\x00\x00");
// np.array(0.1) (a scalar), format version 3.0
const Bytes kScalarVersion3 = literal(
    "\x93NUMPY\x03\x00t\x00\x00\x00{'descr': '<f8', 'fortran_order': False, 'shape': (), }         "
    "                                                   \x0a"
    "\x9a\x99\x99\x99\x99\x99\xb9\x3f");
// np.asfortranarray(np.arange(6, dtype='<i4').reshape(2, 3))
const Bytes kFortran = literal(
    "\x93NUMPY\x01\x00v\x00{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }              "
    "                                             \x0a"
    "\x00\x00\x00\x00\x03\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x02\x00\x00\x00\x05\x00\x00"
    "\x00");
// np.array([1], dtype='>i4')
const Bytes kBigEndian = literal(
    "\x93NUMPY\x01\x00v\x00{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }               "
    "                                             \x0a"
    "\x00\x00\x00\x01");

Tensor load(const TempDir& dir, const std::string& name, const Bytes& bytes) {
  write_bytes(dir.file(name), bytes);
  return read_npy(dir.file(name));
}

TEST(NpyTest, ReadsFilesWrittenByNumPy) {
  TempDir dir;
  Tensor floats = load(dir, "f4.npy", kFloat32);
  EXPECT_EQ(floats.shape(), Shape({2, 3}));
  EXPECT_EQ(floats.to_vector<float>(), (std::vector<float>{1.5f, -2.0f, 0.25f, 3, 4, 5}));

  Tensor bools = load(dir, "b1.npy", kBool);
  EXPECT_EQ(bools.dtype(), DType::kUInt8);
  EXPECT_EQ(bools.to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 1}));

  EXPECT_EQ(load(dir, "u1.npy", kUInt8).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 7, 255}));

  Tensor ints = load(dir, "i4.npy", kInt32);
  EXPECT_EQ(ints.shape(), Shape({2, 1}));
  EXPECT_EQ(ints.to_vector<int32_t>(), (std::vector<int32_t>{-7, 65536}));

  Tensor longs = load(dir, "i8.npy", kInt64Version2);
  EXPECT_EQ(longs.dtype(), DType::kInt64);
  EXPECT_EQ(longs.to_vector<int64_t>(), (std::vector<int64_t>{-1, int64_t{1} << 40}));

  Tensor scalar = load(dir, "f8.npy", kScalarVersion3);
  EXPECT_EQ(scalar.shape().rank(), 0);
  EXPECT_EQ(scalar.to_vector<double>(), (std::vector<double>{0.1}));

  // A gzip-compressed .npy reads the same.
  write_bytes(dir.file("f4.npy.gz"), testing::gzip(kFloat32));
  EXPECT_EQ(read_npy(dir.file("f4.npy.gz")).to_vector<float>(), floats.to_vector<float>());
}

TEST(NpyTest, WritesExactlyWhatNumPyWrites) {
  TempDir dir;
  Tensor floats = Tensor::from_vector<float>(Shape{2, 3}, {1.5f, -2.0f, 0.25f, 3, 4, 5});
  write_npy(dir.file("out.npy"), floats);
  EXPECT_EQ(read_bytes(dir.file("out.npy")), kFloat32);
  write_npy(dir.file("u1.npy"), Tensor::from_vector<uint8_t>(Shape{3}, {0, 7, 255}));
  EXPECT_EQ(read_bytes(dir.file("u1.npy")), kUInt8);
  write_npy(dir.file("i4.npy"), Tensor::from_vector<int32_t>(Shape{2, 1}, {-7, 65536}));
  EXPECT_EQ(read_bytes(dir.file("i4.npy")), kInt32);
}

TEST(NpyTest, RoundTripsEverySupportedDtypeAndShape) {
  TempDir dir;
  std::vector<Tensor> tensors = {
      Tensor::from_vector<float>(Shape{2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, -8.5f}),
      Tensor::from_vector<double>(Shape{}, {3.25}),
      Tensor::from_vector<int32_t>(Shape{0, 4}, std::vector<int32_t>{}),
      Tensor::from_vector<int64_t>(Shape{3}, {-(int64_t{1} << 50), 0, 9}),
      Tensor::from_vector<uint8_t>(Shape{1, 1, 1, 1, 1}, {200}),
  };
  for (size_t i = 0; i < tensors.size(); ++i) {
    std::string path = dir.file(std::string("t").append(std::to_string(i)).append(".npy"));
    write_npy(path, tensors[i]);
    Tensor back = read_npy(path);
    EXPECT_EQ(back.shape(), tensors[i].shape());
    EXPECT_EQ(back.dtype(), tensors[i].dtype());
    for (int64_t j = 0; j < back.num_elements(); ++j) EXPECT_EQ(back.item(j), tensors[i].item(j));
    // Every header is padded so the data starts on a 64-byte boundary, as NumPy does.
    EXPECT_EQ((read_bytes(path).size() - back.nbytes()) % 64, 0u);
  }
}

TEST(NpyTest, WriteIsAtomicAndRefusesWhatNpyCannotHold) {
  TempDir dir;
  std::string path = dir.file("keep.npy");
  write_npy(path, Tensor::from_vector<float>(Shape{1}, {7}));
  Bytes before = read_bytes(path);
  EXPECT_THROW(write_npy(path, Tensor::zeros(Shape{2}, DType::kBFloat16)), ValueError);
  EXPECT_THROW(write_npy(path, Tensor()), ValueError);
  EXPECT_EQ(read_bytes(path), before);
  // A directory that does not exist: IOError naming the path, nothing left behind.
  std::string missing = dir.file("no-such-dir/x.npy");
  EXPECT_NE(error_of<IOError>([&] { write_npy(missing, Tensor::zeros(Shape{1})); }).find(missing),
            std::string::npos);
  // Overwriting replaces the old file whole and leaves no temporary behind.
  write_npy(path, Tensor::from_vector<float>(Shape{2}, {1, 2}));
  EXPECT_EQ(read_npy(path).to_vector<float>(), (std::vector<float>{1, 2}));
  size_t entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

TEST(NpyTest, RejectsFortranOrderBigEndianAndBadHeaders) {
  TempDir dir;
  write_bytes(dir.file("fortran.npy"), kFortran);
  EXPECT_NE(error_of<DataError>([&] { read_npy(dir.file("fortran.npy")); }).find("Fortran-order"),
            std::string::npos);
  write_bytes(dir.file("big.npy"), kBigEndian);
  EXPECT_NE(error_of<DataError>([&] { read_npy(dir.file("big.npy")); }).find("big-endian"),
            std::string::npos);

  auto with_dict = [](const std::string& dict) {
    std::string padded = dict;
    padded.append((64 - (10 + dict.size() + 1) % 64) % 64, ' ');
    padded.push_back('\n');
    Bytes bytes = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<uint8_t>(padded.size()), 0};
    for (char c : padded) bytes.push_back(static_cast<uint8_t>(c));
    return bytes;
  };
  struct Case {
    Bytes bytes;
    std::string expected;
  };
  std::vector<Case> cases = {
      {literal("\x93NUMPX\x01\x00\x10\x00"), "missing the \\x93NUMPY magic"},
      {literal("\x93NUMPY\x04\x00\x10\x00"), "unsupported .npy version 4.0"},
      {with_dict("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }"),
       "unsupported descr '<f2'"},
      {with_dict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"),
       "structured dtypes"},
      {with_dict("{'descr': '<f4', 'shape': (1,), }"), "missing key"},
      {with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"),
       "negative dimension"},
      {with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}"),
       "unexpected key 'x'"},
      {with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2 }"),
       "expected ',' or ')' in shape"},
      {with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"),
       "more than 2^62 bytes"},
      // The dict promises 300 bytes but the file ends first.
      {literal("\x93NUMPY\x01\x00\x2c\x01{'descr'"), "truncated"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string path = dir.file("case" + std::to_string(i) + ".npy");
    write_bytes(path, cases[i].bytes);
    std::string message = error_of<DataError>([&] { read_npy(path); });
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(cases[i].expected), std::string::npos) << message;
  }
}

TEST(NpyTest, TruncatedAndTrailingDataNameBothSizes) {
  TempDir dir;
  Bytes short_file(kFloat32.begin(), kFloat32.end() - 5);
  write_bytes(dir.file("short.npy"), short_file);
  EXPECT_EQ(error_of<DataError>([&] { read_npy(dir.file("short.npy")); }),
            dir.file("short.npy") +
                ": truncated: header declares shape (2, 3) of '<f4' = 24 bytes, file holds 19");
  Bytes long_file = kUInt8;
  long_file.push_back(1);
  write_bytes(dir.file("long.npy"), long_file);
  EXPECT_EQ(error_of<DataError>([&] { read_npy(dir.file("long.npy")); }),
            dir.file("long.npy") +
                ": trailing data: header declares shape (3,) of '|u1' = 3 bytes, file holds 4");
  EXPECT_THROW(read_npy(dir.file("absent.npy")), IOError);
}

}  // namespace
}  // namespace trainyard::data
