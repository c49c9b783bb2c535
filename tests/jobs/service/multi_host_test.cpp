// Jobs with InstanceCount above 1: every host runs its own program under one mpirun, each with
// its own /opt/ml and SageMaker environment; the job completes with algo-1's artifacts, and a
// host that dies fails the whole job with a reason naming it, leaving no process behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "jobs/staging/artifacts.h"
#include "platform/runtime_libraries.h"
#include "service_test_util.h"

namespace trainyard::jobs {
namespace {

using ::testing::HasSubstr;

bool have_mpirun() {
  return platform::find_on_path("mpirun").has_value();
}

nlohmann::json two_host_request(const std::string& name) {
  nlohmann::json request = script_job_request(name, "local");
  request["ResourceConfig"]["InstanceCount"] = 2;
  return request;
}

// Every host records what SageMaker's contract told it; algo-1 keeps all of them as its model.
constexpr const char* kHostScript = R"SH(set -eu
echo "host=$SM_CURRENT_HOST hosts=$SM_HOSTS rank=${OMPI_COMM_WORLD_RANK:-none}" \
  > "$SM_MODEL_DIR/seen-$SM_CURRENT_HOST.txt"
grep -q "\"current_host\": *\"$SM_CURRENT_HOST\"" "$SM_INPUT_CONFIG_DIR/resourceconfig.json"
echo "$SM_CURRENT_HOST trained"
)SH";

TEST_F(JobServiceFixture, TwoHostJobRunsEveryHostAndKeepsTheFirstHostsModel) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun is not on PATH (scripts/setup installs openmpi-bin)";
  put_program("two-hosts", kHostScript);
  JobRecord record = submit_and_run(two_host_request("two-hosts"));
  ASSERT_EQ(record.status, TrainingJobStatus::kCompleted) << record.failure_reason.value_or("");

  const JobDirectory directory = service().directory("two-hosts");
  // Each host wrote into its own model directory, with its own name and rank.
  EXPECT_EQ(read_file_text(directory.model() / "seen-algo-1.txt"),
            "host=algo-1 hosts=[\"algo-1\",\"algo-2\"] rank=0\n");
  EXPECT_EQ(read_file_text(directory.for_host(1).model() / "seen-algo-2.txt"),
            "host=algo-2 hosts=[\"algo-1\",\"algo-2\"] rank=1\n");
  // One set of artifacts: algo-1's.
  ServiceTempDir unpacked;
  unpack_archive(object_path("output-bucket/jobs/two-hosts/output/model.tar.gz"),
                 unpacked.path() / "model");
  EXPECT_TRUE(std::filesystem::exists(unpacked.path() / "model" / "seen-algo-1.txt"));
  EXPECT_FALSE(std::filesystem::exists(unpacked.path() / "model" / "seen-algo-2.txt"));
  std::string log = read_file_text(directory.log_file());
  EXPECT_THAT(log, HasSubstr("algo-1 trained"));
  EXPECT_THAT(log, HasSubstr("algo-2 trained"));
}

// The PID of a process whose environment holds every one of `markers` and whose command line
// contains `command` (any when empty), or 0.
pid_t process_with_environment(const std::vector<std::string>& markers,
                               const std::string& command = "") {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream file(entry.path() / "environ", std::ios::binary);
    std::string environment((std::istreambuf_iterator<char>(file)), {});
    bool all = !environment.empty();
    for (const std::string& marker : markers) {
      all = all && environment.find(marker + '\0') != std::string::npos;
    }
    std::ifstream cmdline_file(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(cmdline_file)), {});
    if (all && cmdline.find(command) != std::string::npos) {
      return static_cast<pid_t>(std::stol(name));
    }
  }
  return 0;
}

TEST_F(JobServiceFixture, AKilledHostFailsTheJobNamingItAndLeavesNoProcess) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun is not on PATH (scripts/setup installs openmpi-bin)";
  put_program("lost-host",
              "echo \"$SM_CURRENT_HOST started\"\n"
              "while true; do sleep 0.05; done\n");
  nlohmann::json request = two_host_request("lost-host");
  // A backstop: should the failure go unnoticed, the job still ends.
  request["StoppingCondition"]["MaxRuntimeInSeconds"] = 90;
  service().submit(parse_spec(request));
  std::atomic<pid_t> killed{0};
  std::thread killer([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline && killed == 0) {
      std::string log = read_file_text(service().directory("lost-host").log_file());
      if (log.find("algo-2 started") != std::string::npos) {
        // The host's program itself, not one of its short-lived sleeps.
        pid_t pid = process_with_environment(
            {"TRAINING_JOB_NAME=lost-host", "SM_CURRENT_HOST=algo-2"}, "train.sh");
        if (pid != 0 && ::kill(pid, SIGKILL) == 0) killed = pid;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  const auto start = std::chrono::steady_clock::now();
  JobRecord record = service().run("lost-host");
  killer.join();
  ASSERT_NE(killed.load(), 0) << "algo-2's program was never found";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  EXPECT_EQ(record.status, TrainingJobStatus::kFailed);
  EXPECT_THAT(record.failure_reason.value_or(""), HasSubstr("host algo-2 (rank 1, PID "));
  EXPECT_THAT(record.failure_reason.value_or(""), HasSubstr("exited on signal 9"));
  // Neither host's program outlives the job.
  EXPECT_EQ(process_with_environment({"TRAINING_JOB_NAME=lost-host"}), 0);
}

}  // namespace
}  // namespace trainyard::jobs
