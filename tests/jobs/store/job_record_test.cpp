#include "jobs/store/job_record.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "jobs/utf8.h"
#include "store_test_util.h"

namespace trainyard::jobs {
namespace {

TEST(JobRecordTest, ArnHasSageMakersShapeAndKeepsTheNamesCase) {
  EXPECT_EQ(training_job_arn("eu-west-1", "123456789012", "My-Job"),
            "arn:aws:sagemaker:eu-west-1:123456789012:training-job/My-Job");
}

TEST(JobRecordTest, NewRecordStartsInProgressWithOneOpenTransition) {
  const TrainingJobSpec spec = testing::full_spec("fresh-job");
  ASSERT_FALSE(spec.tags.empty());
  const JobRecord record = new_job_record(spec, 1700000000.5);
  EXPECT_EQ(record.name, "fresh-job");
  EXPECT_EQ(record.spec, spec);
  EXPECT_EQ(record.status, TrainingJobStatus::kInProgress);
  EXPECT_EQ(record.secondary_status, SecondaryStatus::kStarting);
  ASSERT_EQ(record.transitions.size(), 1u);
  EXPECT_EQ(record.transitions[0].status, SecondaryStatus::kStarting);
  EXPECT_EQ(record.transitions[0].start_time, 1700000000.5);
  EXPECT_FALSE(record.transitions[0].end_time.has_value());
  EXPECT_EQ(record.creation_time, 1700000000.5);
  EXPECT_EQ(record.last_modified_time, 1700000000.5);
  EXPECT_EQ(record.tags, spec.tags);
  EXPECT_TRUE(record.arn.empty());
  EXPECT_FALSE(record.stop_requested);
}

TEST(JobRecordTest, FinalMetricsCompareNanAsEqual) {
  const double nan = std::nan("");
  EXPECT_EQ((FinalMetric{"loss", nan, 1.0}), (FinalMetric{"loss", nan, 1.0}));
  EXPECT_NE((FinalMetric{"loss", nan, 1.0}), (FinalMetric{"loss", 0.5, 1.0}));
  EXPECT_NE((FinalMetric{"loss", 0.5, 1.0}), (FinalMetric{"loss", 0.5, 2.0}));
}

// sanitize_text's output must always be well-formed UTF-8 (checked with the job-spec
// validator's own decoder) and measure at most the limit in UTF-16 code units.
void expect_sendable(const std::string& text, size_t limit) {
  EXPECT_TRUE(detail::decode_utf8(text).has_value());
  EXPECT_LE(detail::java_string_length(text), limit);
}

TEST(JobRecordTest, SanitizeCutsAtTheLimitInUtf16Units) {
  EXPECT_EQ(sanitize_text("AlgorithmError: boom", 1024), "AlgorithmError: boom");
  EXPECT_EQ(sanitize_text(std::string(3000, 'x'), 1024), std::string(1024, 'x'));

  // U+00E9 is two bytes but one unit: 1024 of them survive, 2048 bytes.
  std::string accents;
  for (int i = 0; i < 1100; ++i) accents += "\xC3\xA9";
  const std::string cut_accents = sanitize_text(accents, 1024);
  EXPECT_EQ(cut_accents.size(), 2048u);
  expect_sendable(cut_accents, 1024);

  // U+1F600 takes two units (a surrogate pair): 512 fit.
  std::string faces;
  for (int i = 0; i < 600; ++i) faces += "\xF0\x9F\x98\x80";
  const std::string cut_faces = sanitize_text(faces, 1024);
  EXPECT_EQ(cut_faces.size(), 512u * 4);
  expect_sendable(cut_faces, 1024);

  // A pair that would straddle the limit is dropped whole, never split.
  const std::string straddling = std::string(1023, 'a') + "\xF0\x9F\x98\x80";
  EXPECT_EQ(sanitize_text(straddling, 1024), std::string(1023, 'a'));
}

TEST(JobRecordTest, SanitizeReplacesIllFormedUtf8) {
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(sanitize_text("exit \xFF code"), "exit " + replacement + " code");
  // Overlong '/' (C0 AF), a surrogate (ED A0 80), a truncated sequence at the end.
  for (const std::string& bad :
       {std::string("a\xC0\xAF"), std::string("\xED\xA0\x80z"), std::string("tail \xE2\x82")}) {
    const std::string clean = sanitize_text(bad);
    expect_sendable(clean, SIZE_MAX);
    EXPECT_NE(clean.find(replacement), std::string::npos) << clean;
  }
  // Well-formed text of every length class is kept as is.
  const std::string mixed = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  EXPECT_EQ(sanitize_text(mixed), mixed);
}

}  // namespace
}  // namespace trainyard::jobs
