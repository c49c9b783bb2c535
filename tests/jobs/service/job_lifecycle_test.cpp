// A job's way through JobService: script mode to Completed with its model, metrics and
// status history; failures with SageMaker's reasons; stop; MaxRuntimeInSeconds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "jobs/staging/artifacts.h"
#include "service_test_util.h"

namespace trainyard::jobs {
namespace {

using ::testing::HasSubstr;

// Reads SageMaker's contract from its environment, as a user's script would, and leaves
// what it saw in the model directory.
constexpr const char* kContractScript = R"SH(set -eu
test -n "$SM_MODEL_DIR" && test -n "$SM_CHANNEL_TRAINING"
{
  echo "host=$SM_CURRENT_HOST"
  echo "hosts=$SM_HOSTS"
  echo "channels=$SM_CHANNELS"
  echo "epochs=$SM_HP_EPOCHS"
  echo "args=$*"
  echo "data=$(cat "$SM_CHANNEL_TRAINING/data.csv" | tr '\n' ';')"
} > "$SM_MODEL_DIR/seen.txt"
echo "checkpoint" > "$SM_OUTPUT_DATA_DIR/notes.txt"
echo "epoch 1 loss: 0.5"
echo "epoch 2 loss: 0.25"
echo "epoch 3 loss: 0.125 accuracy: 0.75"
)SH";

std::vector<SecondaryStatus> statuses_of(const JobRecord& record) {
  std::vector<SecondaryStatus> statuses;
  for (const auto& transition : record.transitions) {
    if (statuses.empty() || statuses.back() != transition.status)
      statuses.push_back(transition.status);
  }
  return statuses;
}

TEST_F(JobServiceFixture, ScriptModeJobReadsTheContractAndCompletes) {
  put_program("script-job", kContractScript);
  nlohmann::json request = script_job_request("script-job", "local");
  request["AlgorithmSpecification"]["MetricDefinitions"] = {
      {{"Name", "train:loss"}, {"Regex", "loss: ([0-9.]+)"}},
      {{"Name", "train:accuracy"}, {"Regex", "accuracy: ([0-9.]+)"}}};
  JobRecord record = submit_and_run(request);

  ASSERT_EQ(record.status, TrainingJobStatus::kCompleted) << record.failure_reason.value_or("");
  EXPECT_EQ(statuses_of(record),
            (std::vector<SecondaryStatus>{SecondaryStatus::kStarting, SecondaryStatus::kDownloading,
                                          SecondaryStatus::kTraining, SecondaryStatus::kUploading,
                                          SecondaryStatus::kCompleted}));
  // The last value of each metric, as FinalMetricDataList holds it.
  ASSERT_EQ(record.final_metrics.size(), 2u);
  EXPECT_EQ(record.final_metrics[0].name, "train:loss");
  EXPECT_DOUBLE_EQ(record.final_metrics[0].value, 0.125);
  EXPECT_EQ(record.final_metrics[1].name, "train:accuracy");
  EXPECT_DOUBLE_EQ(record.final_metrics[1].value, 0.75);
  ASSERT_TRUE(record.training_time_in_seconds.has_value());
  EXPECT_GE(*record.training_time_in_seconds, 1);

  // model.tar.gz where SageMaker puts it, holding what the program wrote.
  EXPECT_EQ(record.model_artifacts.value_or(""),
            "s3://output-bucket/jobs/script-job/output/model.tar.gz");
  ServiceTempDir unpacked;
  unpack_archive(object_path("output-bucket/jobs/script-job/output/model.tar.gz"),
                 unpacked.path() / "model");
  std::string seen = read_file_text(unpacked.path() / "model" / "seen.txt");
  EXPECT_THAT(seen, HasSubstr("host=algo-1\n"));
  EXPECT_THAT(seen, HasSubstr("hosts=[\"algo-1\"]\n"));
  EXPECT_THAT(seen, HasSubstr("channels=[\"code\",\"training\"]\n"));
  EXPECT_THAT(seen, HasSubstr("epochs=3\n"));
  EXPECT_THAT(seen, HasSubstr("--epochs 3"));
  EXPECT_THAT(seen, HasSubstr("--learning_rate 0.5"));
  EXPECT_THAT(seen, HasSubstr("data=1,2;3,4;\n"));
  unpack_archive(object_path("output-bucket/jobs/script-job/output/output.tar.gz"),
                 unpacked.path() / "output");
  EXPECT_EQ(read_file_text(unpacked.path() / "output" / "notes.txt"), "checkpoint\n");

  // The job's log keeps the program's output and the status lines.
  std::string log = read_file_text(service().directory("script-job").log_file());
  EXPECT_THAT(log, HasSubstr("epoch 3 loss: 0.125"));
  EXPECT_THAT(log, HasSubstr("Completed - Training job completed"));
}

TEST_F(JobServiceFixture, PythonProgramRunsThroughTheRuntimeRegistry) {
  put_object("code-bucket/py-job/train.py",
             "import json, os, sys\n"
             "hps = json.loads(os.environ['SM_HPS'])\n"
             "with open(os.path.join(os.environ['SM_MODEL_DIR'], 'model.json'), 'w') as f:\n"
             "    json.dump({'epochs': hps['epochs'], 'argv': sys.argv[1:]}, f)\n"
             "print('val_loss=0.0625')\n");
  write_file_text(directory_.path() / "runtimes.json",
                  R"({"runtimes": [{"image": "my-org/python-training:*", "python": "python3"}]})");
  nlohmann::json request = script_job_request("py-job", "local");
  request["AlgorithmSpecification"]["TrainingImage"] = "my-org/python-training:2.1";
  request["AlgorithmSpecification"]["MetricDefinitions"] = {
      {{"Name", "validation:loss"}, {"Regex", "val_loss=(\\S+)"}}};
  request["HyperParameters"]["sagemaker_program"] = "\"train.py\"";
  JobRecord record = submit_and_run(request);

  ASSERT_EQ(record.status, TrainingJobStatus::kCompleted) << record.failure_reason.value_or("");
  ASSERT_EQ(record.final_metrics.size(), 1u);
  EXPECT_DOUBLE_EQ(record.final_metrics[0].value, 0.0625);
  ServiceTempDir unpacked;
  unpack_archive(object_path("output-bucket/jobs/py-job/output/model.tar.gz"),
                 unpacked.path() / "model");
  nlohmann::json model =
      nlohmann::json::parse(read_file_text(unpacked.path() / "model" / "model.json"));
  EXPECT_EQ(model["epochs"], 3);
  EXPECT_EQ(model["argv"], (nlohmann::json{"--epochs", "3", "--learning_rate", "0.5"}));
}

TEST_F(JobServiceFixture, FailingProgramFailsWithItsFailureFileAndExitCode) {
  put_program("failing-job",
              "echo 'learning_rate must be below 0.1' > \"$SM_OUTPUT_DIR/failure\"\n"
              "exit 3\n");
  JobRecord record = submit_and_run(script_job_request("failing-job", "local"));
  EXPECT_EQ(record.status, TrainingJobStatus::kFailed);
  EXPECT_EQ(record.secondary_status, SecondaryStatus::kFailed);
  EXPECT_EQ(record.failure_reason.value_or(""),
            "AlgorithmError: learning_rate must be below 0.1, exit code: 3");
  EXPECT_FALSE(record.model_artifacts.has_value());
}

TEST_F(JobServiceFixture, FailingProgramWithoutFailureFileReportsItsLastLines) {
  put_program("crashing-job", "echo 'Traceback: out of patience' >&2\nkill -SEGV $$\n");
  JobRecord record = submit_and_run(script_job_request("crashing-job", "local"));
  EXPECT_EQ(record.status, TrainingJobStatus::kFailed);
  std::string reason = record.failure_reason.value_or("");
  EXPECT_THAT(reason, HasSubstr("AlgorithmError: "));
  EXPECT_THAT(reason, HasSubstr("Traceback: out of patience"));
  EXPECT_THAT(reason, HasSubstr("exit code: 139"));
}

TEST_F(JobServiceFixture, MissingProgramIsAClientError) {
  put_object("code-bucket/no-program-job/other.sh", "exit 0\n");
  JobRecord record = submit_and_run(script_job_request("no-program-job", "local"));
  EXPECT_EQ(record.status, TrainingJobStatus::kFailed);
  EXPECT_THAT(record.failure_reason.value_or(""), HasSubstr("ClientError: "));
  EXPECT_THAT(record.failure_reason.value_or(""), HasSubstr("train.sh"));
}

TEST_F(JobServiceFixture, MissingChannelDataIsAClientErrorNamingTheUri) {
  put_program("empty-channel-job", "exit 0\n");
  nlohmann::json request = script_job_request("empty-channel-job", "local");
  request["InputDataConfig"][1]["DataSource"]["S3DataSource"]["S3Uri"] =
      "s3://data-bucket/nothing-here/";
  JobRecord record = submit_and_run(request);
  EXPECT_EQ(record.status, TrainingJobStatus::kFailed);
  EXPECT_THAT(record.failure_reason.value_or(""), HasSubstr("ClientError: "));
  EXPECT_THAT(record.failure_reason.value_or(""), HasSubstr("s3://data-bucket/nothing-here/"));
}

TEST_F(JobServiceFixture, StopEndsTheProgramAndUploadsWhatItSaved) {
  // On SIGTERM the program saves its model and exits, as SageMaker asks programs to.
  put_program("stopped-job",
              "trap 'echo saved > \"$SM_MODEL_DIR/model.txt\"; exit 0' TERM\n"
              "echo started\n"
              "while true; do sleep 0.05; done\n");
  service().submit(parse_spec(script_job_request("stopped-job", "local")));
  std::thread stopper([&] {
    ASSERT_TRUE(wait_until("stopped-job", [&](const JobRecord& record) {
      return record.runner_process.has_value() &&
             read_file_text(service().directory("stopped-job").log_file()).find("started") !=
                 std::string::npos;
    }));
    service().stop("stopped-job");
  });
  JobRecord record = service().run("stopped-job");
  stopper.join();
  EXPECT_EQ(record.status, TrainingJobStatus::kStopped);
  EXPECT_EQ(record.secondary_status, SecondaryStatus::kStopped);
  EXPECT_TRUE(record.stop_requested);
  ServiceTempDir unpacked;
  unpack_archive(object_path("output-bucket/jobs/stopped-job/output/model.tar.gz"),
                 unpacked.path() / "model");
  EXPECT_EQ(read_file_text(unpacked.path() / "model" / "model.txt"), "saved\n");
  EXPECT_THROW(service().stop("stopped-job"), InvalidJobState);
}

TEST_F(JobServiceFixture, ProgramIgnoringTermIsKilledAfterTheGrace) {
  put_program("stubborn-job", "trap '' TERM\necho started\nwhile true; do sleep 0.05; done\n");
  service().submit(parse_spec(script_job_request("stubborn-job", "local")));
  std::thread stopper([&] {
    ASSERT_TRUE(wait_until("stubborn-job", [&](const JobRecord& record) {
      return record.runner_process.has_value() &&
             read_file_text(service().directory("stubborn-job").log_file()).find("started") !=
                 std::string::npos;
    }));
    service().stop("stubborn-job");
  });
  auto start = std::chrono::steady_clock::now();
  JobRecord record = service().run("stubborn-job");
  stopper.join();
  EXPECT_EQ(record.status, TrainingJobStatus::kStopped);
  // Not a timing threshold: the run cannot end before the grace it must wait out.
  EXPECT_GE(std::chrono::steady_clock::now() - start, test_service_options("/").stop_grace);
}

TEST_F(JobServiceFixture, MaxRuntimeEndsTheJobAsMaxRuntimeExceeded) {
  put_program("slow-job", "echo 'partial' > \"$SM_MODEL_DIR/partial.txt\"\nexec sleep 60\n");
  nlohmann::json request = script_job_request("slow-job", "local");
  request["StoppingCondition"]["MaxRuntimeInSeconds"] = 1;
  JobRecord record = submit_and_run(request);
  EXPECT_EQ(record.status, TrainingJobStatus::kStopped);
  EXPECT_EQ(record.secondary_status, SecondaryStatus::kMaxRuntimeExceeded);
  ASSERT_TRUE(record.training_time_in_seconds.has_value());
  EXPECT_LT(*record.training_time_in_seconds, 60);
  // SageMaker still uploads the model of a job that ran out of time.
  EXPECT_TRUE(
      std::filesystem::exists(object_path("output-bucket/jobs/slow-job/output/model.tar.gz")));
}

TEST_F(JobServiceFixture, ObserverSeesEveryStatusAndTheLog) {
  put_program("observed-job", "echo hello from the program\n");
  std::vector<SecondaryStatus> seen;
  std::string log;
  RunObserver observer;
  observer.on_status = [&](const JobRecord& record) {
    if (seen.empty() || seen.back() != record.secondary_status)
      seen.push_back(record.secondary_status);
  };
  observer.on_log = [&](std::string_view bytes) { log.append(bytes); };
  JobRecord record = submit_and_run(script_job_request("observed-job", "local"), observer);
  ASSERT_EQ(record.status, TrainingJobStatus::kCompleted);
  EXPECT_EQ(seen.back(), SecondaryStatus::kCompleted);
  EXPECT_THAT(log, HasSubstr("hello from the program"));
}

TEST_F(JobServiceFixture, AnEndedJobIsNotRunAgainAndNamesAreNotReused) {
  put_program("once-job", "exit 0\n");
  JobRecord record = submit_and_run(script_job_request("once-job", "local"));
  ASSERT_EQ(record.status, TrainingJobStatus::kCompleted);
  EXPECT_THROW(service().run("once-job"), InvalidJobState);
  EXPECT_THROW(service().submit(parse_spec(script_job_request("once-job", "local"))),
               ResourceInUse);
}

}  // namespace
}  // namespace trainyard::jobs
