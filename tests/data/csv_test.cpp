#include "data/csv.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "test_files.h"

namespace trainyard::data {
namespace {

using testing::error_of;
using testing::TempDir;

std::string write_text(const TempDir& dir, const std::string& name, const std::string& text) {
  testing::write_bytes(dir.file(name), testing::Bytes(text.begin(), text.end()));
  return dir.file(name);
}

TEST(CsvTest, ReadsNumbersWithAndWithoutHeader) {
  TempDir dir;
  std::string path = write_text(dir, "iris.csv",
                                "sepal_length, \"sepal width\",class\r\n"
                                "5.1,3.5,0\r\n"
                                "\r\n"
                                "  -4.9 , +3e1 ,\"2\"\n"
                                "1e-3,nan,inf\n");
  CsvTable table = read_csv(path, {.header = true});
  EXPECT_EQ(table.column_names, (std::vector<std::string>{"sepal_length", "sepal width", "class"}));
  ASSERT_EQ(table.values.shape(), Shape({3, 3}));
  std::vector<float> values = table.values.to_vector<float>();
  EXPECT_EQ(values[0], 5.1f);
  EXPECT_EQ(values[1], 3.5f);
  EXPECT_EQ(values[3], -4.9f);
  EXPECT_EQ(values[4], 30.0f);
  EXPECT_EQ(values[5], 2.0f);
  EXPECT_EQ(values[6], 0.001f);
  EXPECT_TRUE(std::isnan(values[7]));
  EXPECT_TRUE(std::isinf(values[8]));

  std::string plain = write_text(dir, "plain.tsv", "1\t2\n3\t4\n");
  CsvTable tabs = read_csv(plain, {.delimiter = '\t'});
  EXPECT_TRUE(tabs.column_names.empty());
  EXPECT_EQ(tabs.values.to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));

  // Only a header: zero rows, the header's width.
  std::string only_header = write_text(dir, "empty.csv", "a,b\n");
  EXPECT_EQ(read_csv(only_header, {.header = true}).values.shape(), Shape({0, 2}));

  // gzip-compressed CSV.
  std::string text = "7,8\n9,10\n";
  testing::write_bytes(dir.file("z.csv.gz"),
                       testing::gzip(testing::Bytes(text.begin(), text.end())));
  EXPECT_EQ(read_csv(dir.file("z.csv.gz")).values.to_vector<float>(),
            (std::vector<float>{7, 8, 9, 10}));
}

TEST(CsvTest, ErrorsNameFileLineAndColumn) {
  TempDir dir;
  std::string path = write_text(dir, "bad.csv", "a,b,c\n1,2,3\n4,x5,6\n");
  EXPECT_EQ(error_of<DataError>([&] { read_csv(path, {.header = true}); }),
            path + ":3: column 2: 'x5' is not a number");

  std::string ragged = write_text(dir, "ragged.csv", "1,2,3\n\n4,5\n");
  EXPECT_EQ(error_of<DataError>([&] { read_csv(ragged); }),
            ragged + ":3: 2 fields, expected 3 as in line 1");

  std::string empty_field = write_text(dir, "hole.csv", "1,,3\n");
  EXPECT_EQ(error_of<DataError>([&] { read_csv(empty_field); }),
            empty_field + ":1: column 2: empty field, expected a number");

  std::string huge = write_text(dir, "huge.csv", "1e39\n");
  EXPECT_EQ(error_of<DataError>([&] { read_csv(huge); }),
            huge + ":1: column 1: '1e39' is out of the float32 range");

  std::string quote = write_text(dir, "quote.csv", "1,\"2\n");
  EXPECT_EQ(error_of<DataError>([&] { read_csv(quote); }),
            quote + ":1: column 2: unterminated quoted field");

  std::string nothing = write_text(dir, "nothing.csv", "\n  \n");
  EXPECT_EQ(error_of<DataError>([&] { read_csv(nothing); }),
            nothing + ": the CSV file has no lines");

  EXPECT_THROW(read_csv(dir.file("absent.csv")), IOError);
}

}  // namespace
}  // namespace trainyard::data
