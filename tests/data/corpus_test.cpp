// The reader corpus under tests/data/corpus (written by make_corpus.py, plus the inputs the
// fuzzers found). Every file in <format>/bad must be refused with a DataError or IOError whose
// message starts with the file's path, by the file reader and by the in-memory reader alike,
// with the same message; every file in <format>/good must be read, identically both ways.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/csv.h"
#include "data/idx.h"
#include "data/memory_source.h"
#include "data/npy.h"
#include "data/npz.h"
#include "test_files.h"

namespace trainyard::data {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;
using testing::read_bytes;

// What one reader returns, flattened: NPZ's arrays in name order, CSV's values table.
using Arrays = std::vector<Tensor>;

struct Reader {
  std::function<Arrays(const std::string& path)> from_file;
  std::function<Arrays(const Bytes& bytes, const std::string& name)> from_memory;
};

std::span<const unsigned char> span_of(const Bytes& bytes) {
  return {bytes.data(), bytes.size()};
}

Arrays npz_arrays(const std::map<std::string, Tensor>& arrays) {
  Arrays result;
  for (const auto& [name, tensor] : arrays) result.push_back(tensor);
  return result;
}

Reader reader_for(const std::string& format, bool csv_header) {
  if (format == "idx") {
    return {[](const std::string& path) { return Arrays{read_idx(path)}; },
            [](const Bytes& bytes, const std::string& name) {
              MemorySource source(span_of(bytes), name);
              return Arrays{read_idx(source)};
            }};
  }
  if (format == "npy") {
    return {[](const std::string& path) { return Arrays{read_npy(path)}; },
            [](const Bytes& bytes, const std::string& name) {
              MemorySource source(span_of(bytes), name);
              return Arrays{read_npy(source)};
            }};
  }
  if (format == "npz") {
    return {[](const std::string& path) { return npz_arrays(read_npz(path)); },
            [](const Bytes& bytes, const std::string& name) {
              return npz_arrays(read_npz(span_of(bytes), name));
            }};
  }
  CsvOptions options{.header = csv_header};
  return {[options](const std::string& path) { return Arrays{read_csv(path, options).values}; },
          [options](const Bytes& bytes, const std::string& name) {
            MemorySource source(span_of(bytes), name);
            return Arrays{read_csv(source, options).values};
          }};
}

std::vector<std::string> corpus_files(const std::string& format, const std::string& kind) {
  const char* root = std::getenv("TRAINYARD_SOURCE_DIR");
  fs::path folder = fs::path(root != nullptr ? root : ".") / "tests/data/corpus" / format / kind;
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.is_regular_file()) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The message of the DataError or IOError that `read` throws; "" and a failure otherwise.
std::string refusal_of(const std::function<void()>& read) {
  try {
    read();
  } catch (const DataError& error) {
    return error.what();
  } catch (const IOError& error) {
    return error.what();
  } catch (const std::exception& other) {
    ADD_FAILURE() << "wrong exception type: " << other.what();
    return "";
  }
  ADD_FAILURE() << "the file was accepted";
  return "";
}

void expect_same_arrays(const Arrays& expected, const Arrays& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(expected[i].shape(), actual[i].shape());
    EXPECT_EQ(expected[i].dtype(), actual[i].dtype());
    ASSERT_EQ(expected[i].nbytes(), actual[i].nbytes());
    if (expected[i].nbytes() > 0) {
      EXPECT_EQ(std::memcmp(expected[i].raw_data(), actual[i].raw_data(), expected[i].nbytes()), 0);
    }
  }
}

class CorpusTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusTest, EveryBrokenFileIsRefusedWithAnErrorNamingIt) {
  const std::string& format = GetParam();
  std::vector<std::string> files = corpus_files(format, "bad");
  ASSERT_GE(files.size(), 10u) << "the corpus of " << format << " looks missing";
  // CSV files are refused with and without a header row: a header only excuses line 1.
  std::vector<bool> header_settings =
      format == "csv" ? std::vector{true, false} : std::vector{false};
  for (const std::string& path : files) {
    for (bool header : header_settings) {
      SCOPED_TRACE(path + (header ? " (header)" : ""));
      Reader reader = reader_for(format, header);
      std::string from_file = refusal_of([&] { reader.from_file(path); });
      EXPECT_TRUE(from_file.starts_with(path + ":")) << from_file;
      Bytes bytes = read_bytes(path);
      std::string from_memory = refusal_of([&] { reader.from_memory(bytes, path); });
      EXPECT_EQ(from_file, from_memory);
    }
  }
}

TEST_P(CorpusTest, EveryGoodFileIsReadTheSameFromFileAndMemory) {
  const std::string& format = GetParam();
  std::vector<std::string> files = corpus_files(format, "good");
  ASSERT_GE(files.size(), 4u) << "the corpus of " << format << " looks missing";
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    Reader reader = reader_for(format, /*csv_header=*/true);
    Arrays from_file;
    ASSERT_NO_THROW(from_file = reader.from_file(path));
    Arrays from_memory;
    ASSERT_NO_THROW(from_memory = reader.from_memory(read_bytes(path), path));
    expect_same_arrays(from_file, from_memory);
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, CorpusTest, ::testing::Values("idx", "npy", "npz", "csv"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace trainyard::data
