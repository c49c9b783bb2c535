// Expected strings are what CPython 3.11 prints for json.loads / str / json.dumps of the
// same inputs (checked by hand with the interpreter), not output of the code under test.
#include "jobs/staging/python_values.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace trainyard::jobs {
namespace {

using Kind = PythonValue::Kind;

std::string str_of(std::string_view hyperparameter) {
  return python_str(decode_hyperparameter(hyperparameter));
}

std::string dumps_of(std::string_view hyperparameter) {
  return python_json_dumps(decode_hyperparameter(hyperparameter));
}

TEST(PythonValuesTest, DecodesLikeJsonLoadsAndKeepsRawStrings) {
  EXPECT_EQ(decode_hyperparameter("0.1").kind, Kind::kFloat);
  EXPECT_EQ(decode_hyperparameter("5").kind, Kind::kInt);
  EXPECT_EQ(decode_hyperparameter("\"abc\""), PythonValue::from_string("abc"));
  EXPECT_EQ(decode_hyperparameter("abc"), PythonValue::from_string("abc"));
  EXPECT_EQ(decode_hyperparameter("true"), PythonValue::from_bool(true));
  EXPECT_EQ(decode_hyperparameter("null"), PythonValue::none());
  EXPECT_EQ(decode_hyperparameter("[1, 2"), PythonValue::from_string("[1, 2"));
  EXPECT_EQ(decode_hyperparameter(""), PythonValue::from_string(""));
  EXPECT_EQ(decode_hyperparameter("[\"a\", 'b']"), PythonValue::from_string("[\"a\", 'b']"));
  EXPECT_EQ(decode_hyperparameter("1 2"), PythonValue::from_string("1 2"));
}

TEST(PythonValuesTest, StrMatchesCPython) {
  EXPECT_EQ(str_of("0.1"), "0.1");
  EXPECT_EQ(str_of("\"abc\""), "abc");
  EXPECT_EQ(str_of("true"), "True");
  EXPECT_EQ(str_of("false"), "False");
  EXPECT_EQ(str_of("[1,2]"), "[1, 2]");
  EXPECT_EQ(str_of("1e-5"), "1e-05");
  EXPECT_EQ(str_of("2.5e-7"), "2.5e-07");
  EXPECT_EQ(str_of("1e16"), "1e+16");
  EXPECT_EQ(str_of("1e15"), "1000000000000000.0");
  EXPECT_EQ(str_of("1.5e300"), "1.5e+300");
  EXPECT_EQ(str_of("1.0"), "1.0");
  EXPECT_EQ(str_of("1E5"), "100000.0");
  EXPECT_EQ(str_of("0.0001"), "0.0001");
  EXPECT_EQ(str_of("123456789.123"), "123456789.123");
  EXPECT_EQ(str_of("-0"), "0");
  EXPECT_EQ(str_of("-0.0"), "-0.0");
  EXPECT_EQ(str_of("100000000000000000000000"), "100000000000000000000000");
  EXPECT_EQ(str_of("-9223372036854775809"), "-9223372036854775809");
  EXPECT_EQ(str_of("18446744073709551615"), "18446744073709551615");
  EXPECT_EQ(str_of("NaN"), "nan");
  EXPECT_EQ(str_of(" Infinity "), "inf");
  EXPECT_EQ(str_of("-Infinity"), "-inf");
  EXPECT_EQ(str_of("  7  "), "7");
  EXPECT_EQ(str_of("[\"a\",\"b\"]"), "['a', 'b']");
  EXPECT_EQ(str_of("[true, null, 1.5]"), "[True, None, 1.5]");
  EXPECT_EQ(str_of("[{\"z\": 1, \"a\": [true]}]"), "[{'z': 1, 'a': [True]}]");
  EXPECT_EQ(str_of("[]"), "[]");
  EXPECT_EQ(str_of("\"\\\\back\""), "\\back");
}

TEST(PythonValuesTest, ReprChoosesQuotesAndEscapesLikeCPython) {
  EXPECT_EQ(str_of("[\"it's\"]"), "[\"it's\"]");
  EXPECT_EQ(str_of("[\"it's \\\"q\\\"\"]"), "['it\\'s \"q\"']");
  EXPECT_EQ(str_of("[\"tab\\there\", \"\\u00e9\", \"\\u00a0\", \"\\u200b\", \"\\ud83d\\ude00\", "
                   "\"\\u0007\"]"),
            "['tab\\there', '\xc3\xa9', '\\xa0', '\\u200b', '\xf0\x9f\x98\x80', '\\x07']");
  EXPECT_EQ(str_of("[\"a\\\\b\", \"new\\nline\"]"), "['a\\\\b', 'new\\nline']");
}

TEST(PythonValuesTest, DuplicateKeysKeepTheLastValueAtTheFirstPosition) {
  PythonValue value = decode_hyperparameter("{\"a\": 1, \"b\": 0, \"a\": 2}");
  ASSERT_EQ(value.kind, Kind::kDict);
  ASSERT_EQ(value.entries.size(), 2u);
  EXPECT_EQ(value.entries[0].first, "a");
  EXPECT_EQ(python_str(value.entries[0].second), "2");
  EXPECT_EQ(python_str(value), "{'a': 2, 'b': 0}");
}

TEST(PythonValuesTest, JsonDumpsIsCompactSortedAndAscii) {
  EXPECT_EQ(dumps_of("{\"b\": 2, \"a\": \"x\"}"), "{\"a\":\"x\",\"b\":2}");
  EXPECT_EQ(dumps_of("[{\"z\": 1, \"a\": [true]}]"), "[{\"a\":[true],\"z\":1}]");
  EXPECT_EQ(dumps_of("abc"), "\"abc\"");
  EXPECT_EQ(dumps_of("null"), "null");
  EXPECT_EQ(dumps_of("1e-5"), "1e-05");
  EXPECT_EQ(dumps_of("NaN"), "NaN");
  EXPECT_EQ(dumps_of("-Infinity"), "-Infinity");
  EXPECT_EQ(dumps_of("[\"tab\\there\", \"\\u00e9\", \"\\u00a0\", \"\\u200b\", \"\\ud83d\\ude00\", "
                     "\"\\u0007\"]"),
            "[\"tab\\there\",\"\\u00e9\",\"\\u00a0\",\"\\u200b\",\"\\ud83d\\ude00\",\"\\u0007\"]");
  EXPECT_EQ(dumps_of("[\"it's \\\"q\\\"\"]"), "[\"it's \\\"q\\\"\"]");
  EXPECT_EQ(python_json_dumps(PythonValue::from_string("\x7f")), "\"\\u007f\"");
}

TEST(PythonValuesTest, TruthinessFollowsPython) {
  EXPECT_FALSE(python_truthy(decode_hyperparameter("0")));
  EXPECT_FALSE(python_truthy(decode_hyperparameter("0.0")));
  EXPECT_FALSE(python_truthy(decode_hyperparameter("false")));
  EXPECT_FALSE(python_truthy(decode_hyperparameter("\"\"")));
  EXPECT_FALSE(python_truthy(decode_hyperparameter("[]")));
  EXPECT_FALSE(python_truthy(decode_hyperparameter("null")));
  EXPECT_TRUE(python_truthy(decode_hyperparameter("1")));
  EXPECT_TRUE(python_truthy(decode_hyperparameter("\"false\"")));  // a non-empty string
  EXPECT_TRUE(python_truthy(decode_hyperparameter("false-ish")));
  EXPECT_TRUE(python_truthy(decode_hyperparameter("NaN")));
}

TEST(PythonValuesTest, ConvertsJsonDocuments) {
  nlohmann::ordered_json document = {{"z", 1}, {"a", {1.5, "x", nullptr, true}}};
  PythonValue value = python_value_from_json(document);
  EXPECT_EQ(python_str(value), "{'z': 1, 'a': [1.5, 'x', None, True]}");
  EXPECT_EQ(python_json_dumps(value), "{\"a\":[1.5,\"x\",null,true],\"z\":1}");
}

TEST(PythonValuesTest, VeryDeepNestingIsKeptRaw) {
  std::string deep = std::string(600, '[') + std::string(600, ']');
  EXPECT_EQ(decode_hyperparameter(deep).kind, Kind::kString);
  std::string shallow = std::string(100, '[') + std::string(100, ']');
  EXPECT_EQ(decode_hyperparameter(shallow).kind, Kind::kList);
}

}  // namespace
}  // namespace trainyard::jobs
