// JobStore: creating and reading jobs, status transitions, setters, GPUs, stops, deletion, tags.
#include "jobs/store/job_store.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

#include "store_test_util.h"

namespace trainyard::jobs {
namespace {

using testing::full_spec;
using testing::small_spec;

class JobStoreTest : public ::testing::Test {
 protected:
  JobRecord create_job(const std::string& name, double time) {
    return store_.create(new_job_record(small_spec(name), time));
  }

  testing::TempDir dir_;
  JobStore store_{dir_.path()};
};

// A record with every field set, as a job looks near its end.
JobRecord everything_record() {
  JobRecord record = new_job_record(full_spec("full-job"), 1000.25);
  record.status = TrainingJobStatus::kInProgress;
  record.secondary_status = SecondaryStatus::kUploading;
  record.transitions = {
      {SecondaryStatus::kStarting, 1000.25, 1010.5, "Preparing the instances for training"},
      {SecondaryStatus::kDownloading, 1010.5, 1020.0, "Downloading input data"},
      {SecondaryStatus::kTraining, 1020.0, 1500.0, "Training in progress"},
      {SecondaryStatus::kUploading, 1500.0, std::nullopt, "Uploading generated training model"},
  };
  record.failure_reason = "none yet";
  record.training_start_time = 1010.5;
  record.last_modified_time = 1500.0;
  record.final_metrics = {{"train:loss", 0.125, 1499.0},
                          {"validation:accuracy", 0.96875, 1499.5},
                          {"diverged", std::numeric_limits<double>::quiet_NaN(), 1499.75}};
  record.model_artifacts = "s3://bucket/full/output/full-job/output/model.tar.gz";
  record.training_time_in_seconds = 490;
  record.billable_time_in_seconds = 245;
  record.tags.push_back({"stage", "prod"});  // added after creation (AddTags)
  record.runner_process = RunnerProcess{.pid = 4242, .start_time = 987654321};
  record.gpu_allocation = {{"algo-1", {0, 1, 2, 3}}, {"algo-2", {4, 7}}};
  record.estimated_cost = 12.375;
  record.stop_requested = true;
  record.stop_requested_time = 1499.0;
  return record;
}

TEST_F(JobStoreTest, FullRecordRoundTrips) {
  JobRecord record = everything_record();
  const JobRecord stored = store_.create(record);
  record.arn = "arn:aws:sagemaker:us-east-1:000000000000:training-job/full-job";
  EXPECT_EQ(stored, record);
  EXPECT_EQ(store_.get("full-job"), record);
  EXPECT_EQ(store_.require("full-job"), record);
  // From the file, not from anything this object kept.
  JobStore reopened(dir_.path());
  EXPECT_EQ(reopened.require("full-job"), record);
  EXPECT_TRUE(std::isnan(reopened.require("full-job").final_metrics[2].value));
}

TEST_F(JobStoreTest, ArnUsesTheStoresRegionAndAccount) {
  JobStore other(dir_.path(), {.region = "eu-central-1", .account = "123456789012"});
  const JobRecord stored = other.create(new_job_record(small_spec("regional"), 1.0));
  EXPECT_EQ(stored.arn, "arn:aws:sagemaker:eu-central-1:123456789012:training-job/regional");
}

TEST_F(JobStoreTest, ReusedNameIsResourceInUseEvenAfterTheJobEnded) {
  create_job("taken", 10);
  EXPECT_THROW(create_job("taken", 11), ResourceInUse);
  // Names differ from each other ignoring case, as ARNs once lower-cased them.
  EXPECT_THROW(create_job("TAKEN", 11), ResourceInUse);
  store_.transition("taken", SecondaryStatus::kCompleted, "Training job completed", 20);
  try {
    create_job("taken", 30);
    FAIL() << "a reused name was accepted";
  } catch (const ResourceInUse& error) {
    EXPECT_NE(std::string(error.what()).find("'taken'"), std::string::npos) << error.what();
  }
  // DeleteTrainingJob frees the name; the new job starts from nothing.
  store_.remove("taken");
  const JobRecord again = create_job("taken", 40);
  EXPECT_EQ(again.transitions.size(), 1u);
  EXPECT_EQ(again.creation_time, 40);
}

TEST_F(JobStoreTest, LookupIgnoresCaseAndKeepsTheCreatedSpelling) {
  store_.create(new_job_record(small_spec("Mixed-Case"), 1));
  ASSERT_TRUE(store_.get("mixed-case").has_value());
  EXPECT_EQ(store_.get("mixed-case")->name, "Mixed-Case");
}

TEST_F(JobStoreTest, UnknownJobIsNulloptOrResourceNotFound) {
  EXPECT_FALSE(store_.get("nobody").has_value());
  try {
    store_.require("nobody");
    FAIL() << "require found a job that does not exist";
  } catch (const ResourceNotFound& error) {
    EXPECT_EQ(error.job_name(), "nobody");
    EXPECT_NE(std::string(error.what()).find("'nobody'"), std::string::npos);
  }
  EXPECT_THROW(store_.transition("nobody", SecondaryStatus::kTraining, "", 1), ResourceNotFound);
  EXPECT_THROW(store_.set_model_artifacts("nobody", "s3://b/k", 1), ResourceNotFound);
  EXPECT_THROW(store_.remove("nobody"), ResourceNotFound);
  EXPECT_THROW(store_.list_tags("nobody"), ResourceNotFound);
}

TEST_F(JobStoreTest, TransitionsCloseThePreviousEntryAndSetThePrimaryStatus) {
  create_job("lifecycle", 100);
  store_.transition("lifecycle", SecondaryStatus::kDownloading, "Downloading input data", 110);
  store_.transition("lifecycle", SecondaryStatus::kTraining, "Training in progress", 120);
  JobRecord running = store_.require("lifecycle");
  EXPECT_EQ(running.status, TrainingJobStatus::kInProgress);
  EXPECT_EQ(running.secondary_status, SecondaryStatus::kTraining);
  EXPECT_EQ(running.last_modified_time, 120);
  EXPECT_FALSE(running.training_end_time.has_value());
  ASSERT_EQ(running.transitions.size(), 3u);
  EXPECT_FALSE(running.transitions.back().end_time.has_value());

  store_.transition("lifecycle", SecondaryStatus::kUploading, "Uploading generated model", 150);
  store_.transition("lifecycle", SecondaryStatus::kCompleted, "Training job completed", 160);
  const JobRecord done = store_.require("lifecycle");
  const std::vector<StatusTransition> expected = {
      {SecondaryStatus::kStarting, 100, 110, "Starting the training job"},
      {SecondaryStatus::kDownloading, 110, 120, "Downloading input data"},
      {SecondaryStatus::kTraining, 120, 150, "Training in progress"},
      {SecondaryStatus::kUploading, 150, 160, "Uploading generated model"},
      {SecondaryStatus::kCompleted, 160, 160, "Training job completed"},
  };
  EXPECT_EQ(done.transitions, expected);
  EXPECT_EQ(done.status, TrainingJobStatus::kCompleted);
  EXPECT_EQ(done.secondary_status, SecondaryStatus::kCompleted);
  EXPECT_EQ(done.training_end_time, 160);
  EXPECT_EQ(done.last_modified_time, 160);
}

TEST_F(JobStoreTest, StoppingAndRuntimeLimitMapToTheirPrimaryStatuses) {
  create_job("stopped", 1);
  store_.transition("stopped", SecondaryStatus::kTraining, "", 2);
  store_.transition("stopped", SecondaryStatus::kStopping, "Stopping the training job", 3);
  EXPECT_EQ(store_.require("stopped").status, TrainingJobStatus::kStopping);
  EXPECT_FALSE(store_.require("stopped").training_end_time.has_value());
  store_.transition("stopped", SecondaryStatus::kStopped, "Training job stopped", 4);
  EXPECT_EQ(store_.require("stopped").status, TrainingJobStatus::kStopped);

  create_job("too-long", 1);
  store_.transition("too-long", SecondaryStatus::kMaxRuntimeExceeded, "", 9);
  const JobRecord record = store_.require("too-long");
  EXPECT_EQ(record.status, TrainingJobStatus::kStopped);
  EXPECT_EQ(record.secondary_status, SecondaryStatus::kMaxRuntimeExceeded);
  EXPECT_EQ(record.training_end_time, 9);
}

TEST_F(JobStoreTest, UpdateMessageChangesTheCurrentEntryOnly) {
  create_job("waiting", 100);
  store_.update_message("waiting", "Waiting for GPUs: 2 of 4 free", 105);
  store_.update_message("waiting", "Waiting for GPUs: 3 of 4 free", 107);
  const JobRecord record = store_.require("waiting");
  ASSERT_EQ(record.transitions.size(), 1u);
  EXPECT_EQ(record.transitions[0].status_message, "Waiting for GPUs: 3 of 4 free");
  EXPECT_EQ(record.transitions[0].start_time, 100);
  EXPECT_FALSE(record.transitions[0].end_time.has_value());
  EXPECT_EQ(record.last_modified_time, 107);
}

TEST_F(JobStoreTest, EndedJobsRefuseStatusChanges) {
  create_job("failed", 1);
  store_.set_gpu_allocation("failed", {{"algo-1", {0}}}, 2);
  store_.transition("failed", SecondaryStatus::kFailed, "Training job failed", 3);
  const JobRecord before = store_.require("failed");
  EXPECT_THROW(store_.transition("failed", SecondaryStatus::kTraining, "", 4), InvalidJobState);
  EXPECT_THROW(store_.transition("failed", SecondaryStatus::kFailed, "", 4), InvalidJobState);
  EXPECT_THROW(store_.update_message("failed", "again", 4), InvalidJobState);
  EXPECT_THROW(store_.request_stop("failed", 4), InvalidJobState);
  EXPECT_THROW(store_.set_gpu_allocation("failed", {{"algo-1", {1}}}, 4), InvalidJobState);
  EXPECT_EQ(store_.require("failed"), before);

  // The last facts may arrive after the end; releasing GPUs is always allowed.
  store_.set_failure_reason("failed", "AlgorithmError: , exit code: 1", 5);
  store_.set_gpu_allocation("failed", {}, 6);
  const JobRecord after = store_.require("failed");
  EXPECT_EQ(after.failure_reason, "AlgorithmError: , exit code: 1");
  EXPECT_TRUE(after.gpu_allocation.empty());
  EXPECT_EQ(after.transitions, before.transitions);
}

TEST_F(JobStoreTest, EverySetterMovesLastModifiedTime) {
  create_job("setters", 1);
  store_.set_failure_reason("setters", std::string(3000, 'e'), 2);
  EXPECT_EQ(store_.require("setters").failure_reason, std::string(1024, 'e'));
  EXPECT_EQ(store_.require("setters").last_modified_time, 2);

  store_.set_training_start_time("setters", 2.5, 3);
  store_.set_training_times("setters", 100, 50, 4);
  store_.set_final_metrics("setters", {{"loss", 0.5, 3.5}}, 5);
  store_.set_model_artifacts("setters", "s3://bucket/out/setters/output/model.tar.gz", 6);
  store_.set_runner_process("setters", RunnerProcess{.pid = 77, .start_time = 123}, 7);
  store_.set_gpu_allocation("setters", {{"algo-1", {2, 0}}}, 8);
  store_.set_estimated_cost("setters", 3.25, 9);
  JobRecord record = store_.require("setters");
  EXPECT_EQ(record.training_start_time, 2.5);
  EXPECT_EQ(record.training_time_in_seconds, 100);
  EXPECT_EQ(record.billable_time_in_seconds, 50);
  EXPECT_EQ(record.final_metrics, (std::vector<FinalMetric>{{"loss", 0.5, 3.5}}));
  EXPECT_EQ(record.model_artifacts, "s3://bucket/out/setters/output/model.tar.gz");
  EXPECT_EQ(record.runner_process, (RunnerProcess{.pid = 77, .start_time = 123}));
  EXPECT_EQ(record.gpu_allocation, (GpuAllocation{{"algo-1", {0, 2}}}));
  EXPECT_EQ(record.estimated_cost, 3.25);
  EXPECT_EQ(record.last_modified_time, 9);

  store_.set_runner_process("setters", std::nullopt, 10);
  store_.set_estimated_cost("setters", std::nullopt, 11);
  store_.set_final_metrics("setters", {}, 12);
  record = store_.require("setters");
  EXPECT_FALSE(record.runner_process.has_value());
  EXPECT_FALSE(record.estimated_cost.has_value());
  EXPECT_TRUE(record.final_metrics.empty());
  EXPECT_EQ(record.last_modified_time, 12);
}

TEST_F(JobStoreTest, BadArgumentsAreValueErrorsAndChangeNothing) {
  create_job("strict", 1);
  const JobRecord before = store_.require("strict");
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(store_.transition("strict", SecondaryStatus::kTraining, "", nan), ValueError);
  EXPECT_THROW(store_.set_training_start_time("strict", inf, 2), ValueError);
  EXPECT_THROW(store_.set_training_times("strict", -1, 0, 2), ValueError);
  EXPECT_THROW(store_.set_estimated_cost("strict", inf, 2), ValueError);
  std::vector<FinalMetric> too_many;
  for (int i = 0; i < 41; ++i) too_many.push_back({testing::numbered("m", i), 1.0, 1.0});
  EXPECT_THROW(store_.set_final_metrics("strict", too_many, 2), ValueError);
  EXPECT_THROW(store_.set_final_metrics("strict", {{"a", 1, 1}, {"a", 2, 1}}, 2), ValueError);
  EXPECT_THROW(store_.set_final_metrics("strict", {{"", 1, 1}}, 2), ValueError);
  EXPECT_THROW(store_.set_gpu_allocation("strict", {{"algo-1", {-1}}}, 2), ValueError);
  EXPECT_THROW(store_.set_gpu_allocation("strict", {{"algo-1", {1, 1}}}, 2), ValueError);
  EXPECT_THROW(store_.set_gpu_allocation("strict", {{"", {0}}}, 2), ValueError);
  EXPECT_EQ(store_.require("strict"), before);
}

TEST_F(JobStoreTest, CreateRefusesInconsistentRecords) {
  JobRecord renamed = new_job_record(small_spec("spec-name"), 1);
  renamed.name = "other-name";
  EXPECT_THROW(store_.create(renamed), ValueError);

  JobRecord wrong_primary = new_job_record(small_spec("wrong-primary"), 1);
  wrong_primary.status = TrainingJobStatus::kCompleted;
  EXPECT_THROW(store_.create(wrong_primary), ValueError);

  JobRecord no_history = new_job_record(small_spec("no-history"), 1);
  no_history.transitions.clear();
  EXPECT_THROW(store_.create(no_history), ValueError);

  JobRecord invalid_spec = new_job_record(small_spec("bad-spec"), 1);
  invalid_spec.spec.training_job_name = invalid_spec.name = "under_score";
  EXPECT_THROW(store_.create(invalid_spec), ValueError);

  EXPECT_EQ(store_.list({}).jobs.size(), 0u);
}

TEST_F(JobStoreTest, GpusHeldByALiveJobCannotBeTakenAndEndedJobsReleaseThem) {
  create_job("first", 1);
  create_job("second", 2);
  store_.set_gpu_allocation("first", {{"algo-1", {0, 1}}}, 3);
  try {
    store_.set_gpu_allocation("second", {{"algo-1", {1, 2}}}, 4);
    FAIL() << "a held GPU was handed out twice";
  } catch (const ResourceInUse& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("GPU 1 on host algo-1"), std::string::npos) << message;
    EXPECT_NE(message.find("'first'"), std::string::npos) << message;
  }
  EXPECT_TRUE(store_.require("second").gpu_allocation.empty());
  // The same index on another host is another GPU.
  store_.set_gpu_allocation("second", {{"algo-1", {2, 3}}, {"algo-2", {0}}}, 5);
  EXPECT_EQ(store_.allocated_gpus(), (std::vector<GpuHold>{{"algo-1", 0, "first"},
                                                           {"algo-1", 1, "first"},
                                                           {"algo-1", 2, "second"},
                                                           {"algo-1", 3, "second"},
                                                           {"algo-2", 0, "second"}}));

  store_.transition("first", SecondaryStatus::kCompleted, "", 6);
  EXPECT_EQ(store_.allocated_gpus(),
            (std::vector<GpuHold>{
                {"algo-1", 2, "second"}, {"algo-1", 3, "second"}, {"algo-2", 0, "second"}}));
  // The ended job's record still says which GPUs it ran on.
  EXPECT_EQ(store_.require("first").gpu_allocation, (GpuAllocation{{"algo-1", {0, 1}}}));
  create_job("third", 7);
  store_.set_gpu_allocation("third", {{"algo-1", {0, 1}}}, 8);
  // A job may re-assert its own GPUs.
  store_.set_gpu_allocation("third", {{"algo-1", {1}}}, 9);
  EXPECT_EQ(store_.require("third").gpu_allocation, (GpuAllocation{{"algo-1", {1}}}));
}

TEST_F(JobStoreTest, StopIsRecordedOnceWithItsFirstTime) {
  create_job("stop-me", 1);
  EXPECT_TRUE(store_.request_stop("stop-me", 5));
  EXPECT_FALSE(store_.request_stop("stop-me", 6));
  const JobRecord record = store_.require("stop-me");
  EXPECT_TRUE(record.stop_requested);
  EXPECT_EQ(record.stop_requested_time, 5);
  EXPECT_EQ(record.last_modified_time, 5);
  EXPECT_EQ(record.status, TrainingJobStatus::kInProgress);
}

TEST_F(JobStoreTest, RemoveOnlyEndedJobsAndTakeTheirRowsAlong) {
  create_job("busy", 1);
  store_.set_gpu_allocation("busy", {{"algo-1", {0}}}, 2);
  EXPECT_THROW(store_.remove("busy"), ResourceInUse);
  store_.transition("busy", SecondaryStatus::kStopping, "", 3);
  EXPECT_THROW(store_.remove("busy"), ResourceInUse);
  store_.transition("busy", SecondaryStatus::kStopped, "", 4);
  store_.remove("BUSY");
  EXPECT_FALSE(store_.get("busy").has_value());
  EXPECT_THROW(store_.remove("busy"), ResourceNotFound);
  // A new job of that name can take GPU 0 and carries none of the old job's rows.
  const JobRecord again = create_job("busy", 5);
  EXPECT_TRUE(again.gpu_allocation.empty());
  EXPECT_EQ(again.transitions.size(), 1u);
}

TEST_F(JobStoreTest, TagsAddOverwriteListAndDelete) {
  TrainingJobSpec spec = small_spec("tagged");
  spec.tags = {{"project", "mnist"}, {"owner", "ana"}};
  store_.create(new_job_record(spec, 1));
  EXPECT_EQ(store_.list_tags("tagged"), spec.tags);

  store_.add_tags("tagged", {{"owner", "bo"}, {"stage", "dev"}});
  EXPECT_EQ(store_.list_tags("tagged"),
            (std::vector<Tag>{{"project", "mnist"}, {"owner", "bo"}, {"stage", "dev"}}));
  store_.delete_tags("tagged", {"project", "not-there"});
  EXPECT_EQ(store_.list_tags("tagged"), (std::vector<Tag>{{"owner", "bo"}, {"stage", "dev"}}));
  // The request's copy of the tags stays as it was sent.
  EXPECT_EQ(store_.require("tagged").spec.tags, spec.tags);
  EXPECT_EQ(store_.require("tagged").last_modified_time, 1);

  std::vector<Tag> many;
  for (int i = 0; i < 48; ++i) many.push_back({testing::numbered("k", i), "v"});
  store_.add_tags("tagged", many);
  EXPECT_EQ(store_.list_tags("tagged").size(), 50u);
  EXPECT_THROW(store_.add_tags("tagged", {{"one-too-many", "v"}}), ValueError);
  EXPECT_THROW(store_.add_tags("tagged", {{"", "v"}}), ValueError);
  EXPECT_EQ(store_.list_tags("tagged").size(), 50u);
  // Overwriting keeps the count.
  store_.add_tags("tagged", {{"k0", "w"}});
  EXPECT_EQ(store_.list_tags("tagged").size(), 50u);
}

TEST_F(JobStoreTest, ActiveJobsAreTheOnesThatHaveNotEndedOldestFirst) {
  create_job("b-running", 20);
  create_job("a-done", 10);
  create_job("c-stopping", 30);
  create_job("d-failed", 5);
  store_.transition("a-done", SecondaryStatus::kCompleted, "", 40);
  store_.transition("c-stopping", SecondaryStatus::kStopping, "", 41);
  store_.transition("d-failed", SecondaryStatus::kFailed, "", 42);
  store_.set_runner_process("b-running", RunnerProcess{.pid = 10, .start_time = 20}, 43);
  const std::vector<JobRecord> active = store_.active_jobs();
  ASSERT_EQ(active.size(), 2u);
  EXPECT_EQ(active[0].name, "b-running");
  EXPECT_EQ(active[0].runner_process, (RunnerProcess{.pid = 10, .start_time = 20}));
  EXPECT_EQ(active[1].name, "c-stopping");
  EXPECT_EQ(active[1].status, TrainingJobStatus::kStopping);
}

TEST_F(JobStoreTest, ThreadsShareOneStore) {
  constexpr int kThreads = 4;
  constexpr int kJobsPerThread = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kJobsPerThread; ++i) {
        const std::string name = testing::numbered(testing::numbered("thread-", t) + "-job-", i);
        create_job(name, t * 1000 + i);
        store_.transition(name, SecondaryStatus::kTraining, "", t * 1000 + i + 0.5);
        store_.update_message(name, testing::numbered("step ", i), t * 1000 + i + 0.75);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(store_.active_jobs().size(), static_cast<size_t>(kThreads * kJobsPerThread));
  const JobRecord sample = store_.require("thread-2-job-7");
  ASSERT_EQ(sample.transitions.size(), 2u);
  EXPECT_EQ(sample.transitions[1].status_message, "step 7");
}

}  // namespace
}  // namespace trainyard::jobs
