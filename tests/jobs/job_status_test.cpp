#include "jobs/job_status.h"

#include <gtest/gtest.h>

#include "jobs/job_directory.h"

namespace trainyard::jobs {
namespace {

TEST(JobStatusTest, NamesRoundTripAndMapToPrimary) {
  for (auto status :
       {TrainingJobStatus::kInProgress, TrainingJobStatus::kCompleted, TrainingJobStatus::kFailed,
        TrainingJobStatus::kStopping, TrainingJobStatus::kStopped}) {
    EXPECT_EQ(parse_training_job_status(to_string(status)), status);
  }
  EXPECT_EQ(to_string(SecondaryStatus::kMaxRuntimeExceeded), "MaxRuntimeExceeded");
  EXPECT_EQ(parse_secondary_status("Downloading"), SecondaryStatus::kDownloading);
  EXPECT_FALSE(parse_secondary_status("downloading").has_value());
  EXPECT_EQ(primary_status_of(SecondaryStatus::kMaxRuntimeExceeded), TrainingJobStatus::kStopped);
  EXPECT_EQ(primary_status_of(SecondaryStatus::kPending), TrainingJobStatus::kInProgress);
  EXPECT_TRUE(is_terminal(TrainingJobStatus::kFailed));
  EXPECT_FALSE(is_terminal(TrainingJobStatus::kStopping));
}

TEST(JobDirectoryTest, LaysOutOptMl) {
  auto root = std::filesystem::temp_directory_path() / "trainyard_job_directory_test";
  std::filesystem::remove_all(root);
  JobDirectory directory(root, "my-job");
  directory.create();
  EXPECT_EQ(directory.root(), root / "jobs" / "my-job");
  EXPECT_TRUE(std::filesystem::is_directory(directory.config()));
  EXPECT_TRUE(std::filesystem::is_directory(directory.channel("training").parent_path()));
  EXPECT_TRUE(std::filesystem::is_directory(directory.output_data()));
  EXPECT_EQ(directory.failure_file(), root / "jobs" / "my-job" / "output" / "failure");
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace trainyard::jobs
