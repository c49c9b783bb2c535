// GPUs through JobService on fake hosts: jobs that can never run here are refused before
// anything is stored, jobs that must wait for busy GPUs queue, and jobs running side by side
// never share a GPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "service_test_util.h"

namespace trainyard::jobs {
namespace {

using ::testing::HasSubstr;

// Holds its GPU for a while; fails if another job holds the same GPU at the same moment
// (mkdir is atomic: a second holder cannot create the GPU's lock directory).
constexpr const char* kGpuHolderScript = R"(set -u
case "$CUDA_VISIBLE_DEVICES" in
  ''|*,*) echo "expected one GPU, got '$CUDA_VISIBLE_DEVICES'" > "$SM_OUTPUT_DIR/failure"; exit 2;;
esac
lock="$GPU_LOCKS/gpu-$CUDA_VISIBLE_DEVICES"
if ! mkdir "$lock" 2>/dev/null; then
  echo "GPU $CUDA_VISIBLE_DEVICES is in use by another job" > "$SM_OUTPUT_DIR/failure"; exit 1
fi
echo "$CUDA_VISIBLE_DEVICES" > "$SM_MODEL_DIR/gpu.txt"
sleep 0.4
rmdir "$lock"
)";

class GpuJobsTest : public JobServiceFixture {
 protected:
  nlohmann::json gpu_job(const std::string& name, const std::string& instance_type) {
    put_program(name, kGpuHolderScript);
    nlohmann::json request = script_job_request(name, instance_type);
    request["Environment"] = {{"GPU_LOCKS", locks_.path().string()}};
    return request;
  }
  ServiceTempDir locks_;
};

TEST_F(GpuJobsTest, JobsSideBySideNeverShareAGpuAndTheThirdWaits) {
  platform::FakeGpuInventory host = platform::FakeGpuInventory::of("A10G", 2);
  JobService& jobs = service(&host);
  const std::vector<std::string> names = {"gpu-job-a", "gpu-job-b", "gpu-job-c", "gpu-job-d"};
  for (const auto& name : names) jobs.submit(parse_spec(gpu_job(name, "ml.g5.xlarge")));

  std::mutex mutex;
  std::set<std::string> waited;  // jobs that reported waiting for GPUs
  std::vector<JobRecord> results(names.size());
  std::vector<std::thread> runners;
  for (size_t i = 0; i < names.size(); ++i) {
    runners.emplace_back([&, i] {
      RunObserver observer;
      observer.on_status = [&](const JobRecord& record) {
        if (record.transitions.back().status_message.find("Waiting for GPUs") !=
            std::string::npos) {
          std::lock_guard lock(mutex);
          waited.insert(record.name);
        }
      };
      results[i] = jobs.run(names[i], observer);
    });
  }
  for (auto& runner : runners) runner.join();

  std::set<std::string> gpus_used;
  for (const JobRecord& record : results) {
    ASSERT_EQ(record.status, TrainingJobStatus::kCompleted)
        << record.name << ": " << record.failure_reason.value_or("");
    EXPECT_TRUE(record.gpu_allocation.empty()) << "GPUs are given back when a job ends";
  }
  // Four one-GPU jobs on two GPUs: at least two of them had to wait for a GPU.
  EXPECT_GE(waited.size(), 2u);
  EXPECT_TRUE(jobs.store().allocated_gpus().empty());
}

TEST_F(GpuJobsTest, ATypeThisHostCannotEverRunIsRefusedAndNothingIsStored) {
  platform::FakeGpuInventory host = platform::FakeGpuInventory::of("A10G", 2);
  JobService& jobs = service(&host);
  // Four A10Gs on a two-GPU host.
  try {
    jobs.submit(parse_spec(gpu_job("too-big", "ml.g5.12xlarge")));
    FAIL() << "expected PlacementRefused";
  } catch (const PlacementRefused& refusal) {
    EXPECT_THAT(std::string(refusal.what()), HasSubstr("ml.g5.12xlarge"));
    EXPECT_THAT(std::string(refusal.what()), HasSubstr("ml.g5.xlarge"));  // a type that fits
  }
  // A K80 type: CUDA 13 cannot run on compute capability 3.7 at all.
  try {
    jobs.submit(parse_spec(gpu_job("kepler", "ml.p2.xlarge")));
    FAIL() << "expected PlacementRefused";
  } catch (const PlacementRefused& refusal) {
    EXPECT_THAT(std::string(refusal.what()), HasSubstr("3.7"));
  }
  EXPECT_FALSE(jobs.store().get("too-big").has_value());
  EXPECT_FALSE(jobs.store().get("kepler").has_value());
}

// A 784-128-10 MLP, as the built-in trainer's users give it in the model_config
// hyperparameter.
constexpr const char* kMlpConfig =
    R"({"class_name": "Sequential", "config": {"name": "mlp", "layers": [)"
    R"({"class_name": "InputLayer", "config": {"batch_shape": [null, 784]}},)"
    R"({"class_name": "Dense", "config": {"units": 128, "activation": "relu"}},)"
    R"({"class_name": "Dense", "config": {"units": 10}}]}})";

TEST_F(GpuJobsTest, AModelThatCannotFitTheGpuMemoryIsRefusedWithTheFieldsAndNothingIsStored) {
  platform::FakeGpuInventory host = platform::FakeGpuInventory::of("A10G", 1);
  JobService& jobs = service(&host);
  nlohmann::json request = script_job_request("too-much-memory", "ml.g5.xlarge");
  request["HyperParameters"] = {{"model_config", kMlpConfig}, {"batch_size", "8000000"}};
  try {
    jobs.submit(parse_spec(request));
    FAIL() << "expected MemoryPreflightRefused";
  } catch (const MemoryPreflightRefused& refusal) {
    const std::string text = refusal.what();
    EXPECT_THAT(text, HasSubstr("ResourceConfig.InstanceType ml.g5.xlarge"));
    EXPECT_THAT(text, HasSubstr("HyperParameters.batch_size 8000000"));
    EXPECT_THAT(text, HasSubstr("(1) a smaller per-GPU batch"));
    EXPECT_THAT(text, HasSubstr("(2) an instance type with more GPU memory"));
    EXPECT_THAT(text, HasSubstr("(3) more GPUs"));
  }
  EXPECT_FALSE(jobs.store().get("too-much-memory").has_value());

  // At 32 samples it fits a 24 GB A10G with room to spare: stored, no memory warning.
  request["TrainingJobName"] = "fits";
  request["HyperParameters"]["batch_size"] = "32";
  std::vector<std::string> warnings;
  jobs.submit(parse_spec(request), &warnings);
  EXPECT_TRUE(jobs.store().get("fits").has_value());
  for (const auto& warning : warnings) EXPECT_THAT(warning, ::testing::Not(HasSubstr("10%")));
}

TEST_F(GpuJobsTest, AGpuJobOnAHostWithoutGpusIsRefused) {
  platform::FakeGpuInventory host = platform::FakeGpuInventory::without_gpus("no driver");
  EXPECT_THROW(service(&host).submit(parse_spec(gpu_job("no-gpus", "ml.g5.xlarge"))),
               PlacementRefused);
}

TEST_F(GpuJobsTest, AJobStoppedWhileWaitingForAGpuNeverStarts) {
  platform::FakeGpuInventory host = platform::FakeGpuInventory::of("A10G", 1);
  JobService& jobs = service(&host);
  put_program("holder", "trap 'exit 0' TERM\nwhile true; do sleep 0.05; done\n");
  jobs.submit(parse_spec(script_job_request("holder", "ml.g5.xlarge")));
  jobs.submit(parse_spec(gpu_job("queued", "ml.g5.xlarge")));

  JobRecord holder_result;
  std::thread holder([&] { holder_result = jobs.run("holder"); });
  ASSERT_TRUE(
      wait_until("holder", [](const JobRecord& r) { return r.runner_process.has_value(); }));
  JobRecord queued_result;
  std::thread queued([&] { queued_result = jobs.run("queued"); });
  ASSERT_TRUE(wait_until("queued", [](const JobRecord& r) {
    return r.transitions.back().status_message.find("Waiting for GPUs") != std::string::npos;
  }));
  jobs.stop("queued");
  queued.join();
  EXPECT_EQ(queued_result.status, TrainingJobStatus::kStopped);
  EXPECT_FALSE(queued_result.runner_process.has_value()) << "its program never started";
  jobs.stop("holder");
  holder.join();
  EXPECT_EQ(holder_result.status, TrainingJobStatus::kStopped);
  EXPECT_TRUE(jobs.store().allocated_gpus().empty());
}

}  // namespace
}  // namespace trainyard::jobs
