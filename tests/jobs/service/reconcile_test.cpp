// A job outlives the trainyard that supervised it: after `kill -9` of that process, the next
// trainyard finds the job (reconcile), supervises its still-running program again or
// finishes it from its recorded exit status, and uploads its model.
//
// The supervising process is this test binary run again with one test selected
// (SupervisorChild.RunsTheJob) and the job named in TRAINYARD_SERVICE_TEST_CHILD.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jobs/runners/process.h"
#include "jobs/staging/artifacts.h"
#include "service_test_util.h"

extern char** environ;

namespace trainyard::jobs {
namespace {

constexpr const char* kChildVariable = "TRAINYARD_SERVICE_TEST_CHILD";

// In the child: runs the job named by "<data dir>\n<job name>" in kChildVariable.
TEST(SupervisorChild, RunsTheJob) {
  const char* job = std::getenv(kChildVariable);
  if (job == nullptr) GTEST_SKIP() << "runs only as the supervisor child of ReconcileTest";
  std::string text = job;
  size_t newline = text.find('\n');
  platform::FakeGpuInventory gpus = platform::FakeGpuInventory::without_gpus("no driver");
  JobService service(test_service_options(text.substr(0, newline)), gpus);
  service.run(text.substr(newline + 1));
}

class ReconcileTest : public JobServiceFixture {
 protected:
  // Starts this binary as the job's supervisor; returns its pid.
  pid_t spawn_supervisor(const std::string& name) {
    std::vector<std::string> variables;
    for (char** variable = environ; *variable != nullptr; ++variable)
      variables.emplace_back(*variable);
    variables.push_back(std::string(kChildVariable) + "=" + directory_.path().string() + "\n" +
                        name);
    std::vector<char*> envp;
    for (auto& variable : variables) envp.push_back(variable.data());
    envp.push_back(nullptr);
    std::string executable = std::filesystem::read_symlink("/proc/self/exe").string();
    std::string filter = "--gtest_filter=SupervisorChild.RunsTheJob";
    char* argv[] = {executable.data(), filter.data(), nullptr};
    // The child's own gtest report would only clutter this test's output.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    int error = posix_spawn(&pid, executable.c_str(), &actions, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) throw std::runtime_error("posix_spawn failed");
    return pid;
  }

  void kill_supervisor(pid_t pid) {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }

  // Waits until the job's program and its supervisor have ended (the supervisor writes the
  // exit status just before it exits).
  void wait_for_program_end(const std::string& name) {
    JobRecord record = service().store().require(name);
    ASSERT_TRUE(record.runner_process.has_value());
    const RunnerProcess process = *record.runner_process;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (process_matches(int(process.pid), process.start_time) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_FALSE(process_matches(int(process.pid), process.start_time));
    ASSERT_TRUE(std::filesystem::exists(service().directory(name).root() / "exit-status"));
  }

  bool log_contains(const std::string& name, const std::string& text) {
    return read_file_text(service().directory(name).log_file()).find(text) != std::string::npos;
  }

  std::string model_file(const std::string& name, const std::string& file) {
    ServiceTempDir unpacked;
    unpack_archive(object_path("output-bucket/jobs/" + name + "/output/model.tar.gz"),
                   unpacked.path() / "model");
    return read_file_text(unpacked.path() / "model" / file);
  }
};

TEST_F(ReconcileTest, ARunningProgramIsSupervisedAgainAfterKill9) {
  // The program waits for a go signal, so it is certainly still running at reconcile.
  const std::filesystem::path go = directory_.path() / "go";
  put_program("survivor",
              "echo started\nwhile [ ! -e \"$GO\" ]; do sleep 0.02; done\n"
              "echo 'final loss: 0.5'\necho trained > \"$SM_MODEL_DIR/model.txt\"\n");
  nlohmann::json request = script_job_request("survivor", "local");
  request["Environment"] = {{"GO", go.string()}};
  request["AlgorithmSpecification"]["MetricDefinitions"] = {
      {{"Name", "loss"}, {"Regex", "loss: ([0-9.]+)"}}};
  service().submit(parse_spec(request));

  pid_t supervisor = spawn_supervisor("survivor");
  ASSERT_TRUE(wait_until("survivor", [&](const JobRecord& record) {
    return record.runner_process.has_value() && log_contains("survivor", "started");
  }));
  kill_supervisor(supervisor);
  EXPECT_EQ(service().store().require("survivor").status, TrainingJobStatus::kInProgress);

  std::vector<std::string> running = service().reconcile();
  ASSERT_EQ(running, std::vector<std::string>{"survivor"});
  write_file_text(go, "");
  JobRecord record = service().run("survivor");
  ASSERT_EQ(record.status, TrainingJobStatus::kCompleted) << record.failure_reason.value_or("");
  ASSERT_EQ(record.final_metrics.size(), 1u);
  EXPECT_DOUBLE_EQ(record.final_metrics[0].value, 0.5);
  EXPECT_EQ(model_file("survivor", "model.txt"), "trained\n");
}

TEST_F(ReconcileTest, MetricsWrittenWhileUnwatchedAreKept) {
  // The metric line is written before the supervisor dies; the one that adopts the job must
  // still find it.
  const std::filesystem::path go = directory_.path() / "go";
  put_program("quiet",
              "echo 'final loss: 0.25'\nwhile [ ! -e \"$GO\" ]; do sleep 0.02; done\nexit 0\n");
  nlohmann::json request = script_job_request("quiet", "local");
  request["Environment"] = {{"GO", go.string()}};
  request["AlgorithmSpecification"]["MetricDefinitions"] = {
      {{"Name", "loss"}, {"Regex", "loss: ([0-9.]+)"}}};
  service().submit(parse_spec(request));

  pid_t supervisor = spawn_supervisor("quiet");
  ASSERT_TRUE(wait_until("quiet", [&](const JobRecord& record) {
    return record.runner_process.has_value() && log_contains("quiet", "final loss");
  }));
  kill_supervisor(supervisor);
  ASSERT_EQ(service().reconcile(), std::vector<std::string>{"quiet"});
  write_file_text(go, "");
  JobRecord record = service().run("quiet");
  ASSERT_EQ(record.status, TrainingJobStatus::kCompleted) << record.failure_reason.value_or("");
  ASSERT_EQ(record.final_metrics.size(), 1u);
  EXPECT_DOUBLE_EQ(record.final_metrics[0].value, 0.25);
}

TEST_F(ReconcileTest, AProgramThatEndedUnwatchedIsFinishedFromItsExitStatus) {
  const std::filesystem::path go = directory_.path() / "go";
  put_program("orphan",
              "echo started\nwhile [ ! -e \"$GO\" ]; do sleep 0.02; done\n"
              "echo done > \"$SM_MODEL_DIR/model.txt\"\nexit 0\n");
  nlohmann::json request = script_job_request("orphan", "local");
  request["Environment"] = {{"GO", go.string()}};
  service().submit(parse_spec(request));

  pid_t supervisor = spawn_supervisor("orphan");
  ASSERT_TRUE(wait_until("orphan", [&](const JobRecord& record) {
    return record.runner_process.has_value() && log_contains("orphan", "started");
  }));
  kill_supervisor(supervisor);
  // Let the program end while no trainyard watches it.
  write_file_text(go, "");
  wait_for_program_end("orphan");

  EXPECT_TRUE(service().reconcile().empty());
  JobRecord record = service().store().require("orphan");
  ASSERT_EQ(record.status, TrainingJobStatus::kCompleted) << record.failure_reason.value_or("");
  EXPECT_EQ(model_file("orphan", "model.txt"), "done\n");
}

TEST_F(ReconcileTest, AFailedProgramThatEndedUnwatchedIsFailedWithItsReason) {
  const std::filesystem::path go = directory_.path() / "go";
  put_program("orphan-fails",
              "echo started\nwhile [ ! -e \"$GO\" ]; do sleep 0.02; done\n"
              "echo 'out of data' > \"$SM_OUTPUT_DIR/failure\"\nexit 4\n");
  nlohmann::json request = script_job_request("orphan-fails", "local");
  request["Environment"] = {{"GO", go.string()}};
  service().submit(parse_spec(request));
  pid_t supervisor = spawn_supervisor("orphan-fails");
  ASSERT_TRUE(wait_until("orphan-fails", [&](const JobRecord& record) {
    return record.runner_process.has_value() && log_contains("orphan-fails", "started");
  }));
  kill_supervisor(supervisor);
  write_file_text(go, "");
  wait_for_program_end("orphan-fails");

  EXPECT_TRUE(service().reconcile().empty());
  JobRecord record = service().store().require("orphan-fails");
  EXPECT_EQ(record.status, TrainingJobStatus::kFailed);
  EXPECT_EQ(record.failure_reason.value_or(""), "AlgorithmError: out of data, exit code: 4");
}

TEST_F(ReconcileTest, AJobWhoseSupervisorIsAliveIsLeftToIt) {
  const std::filesystem::path go = directory_.path() / "go";
  put_program("watched", "echo started\nwhile [ ! -e \"$GO\" ]; do sleep 0.02; done\n");
  nlohmann::json request = script_job_request("watched", "local");
  request["Environment"] = {{"GO", go.string()}};
  service().submit(parse_spec(request));
  pid_t supervisor = spawn_supervisor("watched");
  ASSERT_TRUE(wait_until("watched", [&](const JobRecord& record) {
    return record.runner_process.has_value() && log_contains("watched", "started");
  }));
  // The live supervisor holds the job: reconcile neither reports nor touches it.
  EXPECT_TRUE(service().reconcile().empty());
  EXPECT_THROW(service().run("watched"), ValueError);
  write_file_text(go, "");
  int status = 0;
  ::waitpid(supervisor, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(service().store().require("watched").status, TrainingJobStatus::kCompleted);
}

}  // namespace
}  // namespace trainyard::jobs
