// The pattern engine against java.util.regex semantics, on the model's own patterns. Expected
// outcomes are worked out by hand from the pattern text.
#include "jobs/model_pattern.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "jobs/model_shapes.h"
#include "jobs/utf8.h"

namespace trainyard::jobs {
namespace {

struct Case {
  std::string text;
  bool matches;
};

void expect_matches(const std::string& pattern, const std::vector<Case>& cases) {
  const ModelPattern compiled(pattern);
  for (const Case& c : cases) {
    EXPECT_EQ(compiled.full_match(c.text), c.matches)
        << "pattern " << pattern << " on '" << c.text << "'";
  }
}

TEST(ModelPatternTest, JobNamePattern) {
  expect_matches("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", {{"a", true},
                                                      {"a-b", true},
                                                      {"a--b", true},
                                                      {"Job-2024-01-01", true},
                                                      {"-a", false},
                                                      {"a-", false},
                                                      {"a_b", false},
                                                      {"", false},
                                                      {std::string(63, 'x'), true},
                                                      {std::string(64, 'x'), false},
                                                      {"a" + std::string(200, '-') + "b", true}});
}

TEST(ModelPatternTest, DotIsJavaDotAndExcludesLineTerminators) {
  expect_matches(".*", {{"", true},
                        {"abc\tdef", true},
                        {"a\nb", false},
                        {"a\rb", false},
                        {"a\xC2\x85"
                         "b",
                         false},  // U+0085 NEXT LINE
                        {"a\xE2\x80\xA8"
                         "b",
                         false},  // U+2028 LINE SEPARATOR
                        {"a\xE2\x80\xA9"
                         "b",
                         false},  // U+2029 PARAGRAPH SEPARATOR
                        {"\xC3\xA9t\xC3\xA9", true}});
  expect_matches(".+", {{"", false}, {"x", true}});
  expect_matches("[\\S\\s]*", {{"a\nb\r\n", true}, {"", true}});
}

TEST(ModelPatternTest, UnicodeCategoriesInTagPattern) {
  expect_matches("([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)",
                 {{"team:vision/a=b+c-d@e_f.g", true},
                  {"\xC3\xA9quipe", true},  // é: letter
                  {"\xD9\xA3", true},       // ARABIC-INDIC DIGIT THREE: number
                  {"\xE2\x85\xA0", true},   // ROMAN NUMERAL ONE: number (Nl)
                  {"a\xE3\x80\x80"
                   "b",
                   true},                              // IDEOGRAPHIC SPACE: separator
                  {"\xE6\x97\xA5\xE6\x9C\xAC", true},  // 日本: letters
                  {"\xF0\x9F\x9A\x80", false},         // ROCKET: a symbol
                  {"#", false},
                  {"a\tb", false},  // tab is a control character, not Z
                  {"", true}});
}

TEST(ModelPatternTest, NegativeLookBehindAtTheEnd) {
  const std::string pattern =
      "(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z\\-]*\\/)?"
      "([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)";
  expect_matches(pattern, {{"my-algo", true},
                           {"my-algo-", false},
                           {"a", true},
                           {"arn:aws:sagemaker:us-east-1:123456789012:algorithm/my-algo", true},
                           {"arn:aws-cn:sagemaker:cn-north-1:123456789012:algorithm/x", true},
                           {"arn:aws:sagemaker:us-east-1:12345:algorithm/x", false},
                           {"arn:aws:sagemaker:us-east-1:123456789012:algorithm/", false},
                           {std::string(63, 'n'), true},
                           {std::string(64, 'n'), false}});
}

TEST(ModelPatternTest, S3UriPattern) {
  expect_matches("(https|s3)://([^/]+)/?(.*)",
                 {{"s3://b", true},
                  {"s3://b/", true},
                  {"s3://b/k/e/y", true},
                  {"https://host/path?x=1", true},
                  {"s3:///x", false},
                  {"S3://b", false},
                  {"http://b/x", false},
                  {"s3://b/a\nb", false},
                  // [^/] is a negated class, which in Java does match a newline.
                  {"s3://a\nb/x", true}});
}

TEST(ModelPatternTest, RoleArnPattern) {
  expect_matches("arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
                 {{"arn:aws:iam::123456789012:role/SageMakerRole", true},
                  {"arn:aws-us-gov:iam::123456789012:role/service-role/A+B=C,D.E@F", true},
                  {"arn:aws:iam::123456789012:role/", true},  // '/' is also in the final class
                  {"arn:aws:iam::123456789012:role", false},
                  {"arn:aws:iam::12345678901:role/x", false},
                  {"arn:aws:iam::123456789012:user/x", false},
                  {"arn:aws:iam::123456789012:role/a b", false}});
}

TEST(ModelPatternTest, HubArnVersionDotsAreAnyCharacter) {
  const StringShape& shape = string_shape(StringShapeId::kHubDataSetArn);
  ASSERT_TRUE(shape.pattern);
  const std::string base = "arn:aws:sagemaker:us-west-2:123456789012:hub-content/hub/DataSet/data";
  EXPECT_TRUE(shape.pattern->full_match(base));
  EXPECT_TRUE(shape.pattern->full_match(base + "/1.2.3"));
  EXPECT_TRUE(shape.pattern->full_match(base + "/1x2y3"));  // '.' is unescaped in the model
  EXPECT_FALSE(shape.pattern->full_match(base + "/12345.1.1"));
  EXPECT_FALSE(shape.pattern->full_match(
      "arn:aws:sagemaker:uswest2:123456789012:hub-content/hub/DataSet/data"));  // region needs '-'
}

TEST(ModelPatternTest, CountedRepeatsAndAlternation) {
  expect_matches("(fs-[0-9a-f]{8,})", {{"fs-0123abcd", true},
                                       {"fs-0123abc", false},
                                       {"fs-0123abcdef0123", true},
                                       {"fs-0123ABCD", false}});
  expect_matches("a{2,3}", {{"a", false}, {"aa", true}, {"aaa", true}, {"aaaa", false}});
  expect_matches("(ab|cd)+e?", {{"abcd", true}, {"cdabe", true}, {"e", false}, {"abc", false}});
  expect_matches("[a-z\\-]*", {{"a-b", true}, {"A", false}});
  expect_matches("[-0-9a-zA-Z]+", {{"-", true}, {"sg-1", true}, {"sg_1", false}});
  expect_matches("[a-zA-Z0-9:/_-]*", {{"alias/x_y-z:1", true}, {"a b", false}});
  expect_matches("\\w+(?:-\\w+)+", {{"us-east-1", true}, {"useast1", false}, {"us--east", false}});
  expect_matches("^[a-z]+$", {{"abc", true}, {"ab1", false}});
  expect_matches("[\\p{Alnum}\\-]+", {{"aws-cn", true}, {"\xC3\xA9", false}});
}

TEST(ModelPatternTest, MalformedUtf8NeverMatches) {
  const ModelPattern any("[\\S\\s]*");
  EXPECT_TRUE(any.full_match("ok"));
  EXPECT_FALSE(any.full_match("\xFF"));
  EXPECT_FALSE(any.full_match("\xC3"));          // truncated
  EXPECT_FALSE(any.full_match("\xC0\xAF"));      // overlong '/'
  EXPECT_FALSE(any.full_match("\xED\xA0\x80"));  // a UTF-16 surrogate
}

TEST(ModelPatternTest, LongInputsFinish) {
  // A Pike VM stops as soon as no thread survives, and never backtracks.
  const ModelPattern name("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
  EXPECT_FALSE(name.full_match(std::string(1 << 20, 'a')));
  const ModelPattern nested("(a*)*b");
  EXPECT_FALSE(nested.full_match(std::string(5000, 'a')));
}

TEST(ModelPatternTest, UnsupportedConstructsAreRefused) {
  for (const char* pattern :
       {"(?=a)", "\\p{Lu}", "a**", "[a-z&&[b]]", "(a", "a)", "\\k", "x{3,1}", "*a", "a^"}) {
    EXPECT_THROW(ModelPattern{pattern}, ValueError) << pattern;
  }
}

TEST(ModelPatternTest, EveryShapePatternCompiles) {
  for (int id = 0; id < static_cast<int>(StringShapeId::kCount); ++id) {
    const StringShape& shape = string_shape(static_cast<StringShapeId>(id));
    EXPECT_FALSE(shape.name.empty()) << id;
    if (shape.pattern) {
      EXPECT_FALSE(shape.quoted_pattern.empty()) << shape.name;
    }
  }
}

TEST(Utf8Test, LengthsCountUtf16CodeUnitsLikeJava) {
  EXPECT_EQ(detail::java_string_length("abc"), 3u);
  EXPECT_EQ(detail::java_string_length("\xC3\xA9"), 1u);          // é
  EXPECT_EQ(detail::java_string_length("\xE6\x97\xA5"), 1u);      // 日
  EXPECT_EQ(detail::java_string_length("\xF0\x9F\x9A\x80"), 2u);  // a surrogate pair
}

}  // namespace
}  // namespace trainyard::jobs
