// ChildProcess and the foreign-process functions, run against real /bin/sh programs.
#include "jobs/runners/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "runner_test_util.h"

namespace trainyard::jobs {
namespace {

using namespace std::chrono_literals;

class ProcessTest : public ::testing::Test {
 protected:
  ProcessOptions shell(const std::string& script) const {
    return ProcessOptions{.argv = {"/bin/sh", "-c", script},
                          .environment = {{"PATH", "/usr/bin:/bin"}},
                          .working_directory = dir_.path(),
                          .log_file = dir_.path() / "log",
                          .exit_status_file = dir_.path() / "exit-status"};
  }
  std::string log() const { return read_text(dir_.path() / "log"); }

  TempDir dir_;
};

TEST_F(ProcessTest, ExitCodeIsReported) {
  ChildProcess child = ChildProcess::start(shell("exit 3"));
  const ExitStatus status = child.wait();
  EXPECT_EQ(status, (ExitStatus{.exit_code = 3, .signal = 0}));
  EXPECT_FALSE(status.success());
  EXPECT_EQ(status.description(), "exit code 3");
  EXPECT_EQ(read_exit_status_file(dir_.path() / "exit-status"), status);
}

TEST_F(ProcessTest, SuccessIsExitCodeZero) {
  ChildProcess child = ChildProcess::start(shell("true"));
  EXPECT_TRUE(child.wait().success());
  // The status is kept: asking again gives the same answer without a second waitpid.
  EXPECT_TRUE(child.wait(0ms)->success());
}

TEST_F(ProcessTest, TerminatingSignalIsReported) {
  ChildProcess child = ChildProcess::start(shell("kill -USR1 $$; sleep 5"));
  const ExitStatus status = child.wait();
  EXPECT_EQ(status.signal, SIGUSR1);
  EXPECT_EQ(status.shell_code(), 128 + SIGUSR1);
  EXPECT_EQ(status.description(), "signal " + std::to_string(SIGUSR1) + " (SIGUSR1)");
  EXPECT_EQ(read_exit_status_file(dir_.path() / "exit-status"), status);
}

TEST_F(ProcessTest, WaitWithTimeoutReportsStillRunning) {
  ChildProcess child = ChildProcess::start(shell("exec sleep 30"));
  EXPECT_EQ(child.wait(10ms), std::nullopt);
  EXPECT_EQ(child.terminate(5s).signal, SIGTERM);
}

TEST_F(ProcessTest, StdoutAndStderrAreAppendedToTheLog) {
  write_text(dir_.path() / "log", "earlier line\n");
  ChildProcess child = ChildProcess::start(shell("echo out; echo err >&2; echo out2"));
  ASSERT_TRUE(child.wait().success());
  EXPECT_EQ(log(), "earlier line\nout\nerr\nout2\n");
}

TEST_F(ProcessTest, StdinIsEmpty) {
  ChildProcess child = ChildProcess::start(shell("if read line; then echo got; else echo eof; fi"));
  ASSERT_TRUE(child.wait().success());
  EXPECT_EQ(log(), "eof\n");
}

TEST_F(ProcessTest, EnvironmentIsExactlyTheGivenOne) {
  ::setenv("TRAINYARD_TEST_SHOULD_NOT_LEAK", "1", 1);
  ProcessOptions options =
      shell("env | sort | grep -v '^PWD=' | grep -v '^SHLVL=' | grep -v '^_='");
  options.environment["SM_MODEL_DIR"] = "/opt/ml/model";
  options.environment["WITH_SPACE"] = "a b";
  ChildProcess child = ChildProcess::start(options);
  ASSERT_TRUE(child.wait().success());
  EXPECT_EQ(log(), "PATH=/usr/bin:/bin\nSM_MODEL_DIR=/opt/ml/model\nWITH_SPACE=a b\n");
}

TEST_F(ProcessTest, RunsInTheWorkingDirectory) {
  std::filesystem::create_directories(dir_.path() / "code");
  ProcessOptions options = shell("pwd");
  options.working_directory = dir_.path() / "code";
  ChildProcess child = ChildProcess::start(options);
  ASSERT_TRUE(child.wait().success());
  EXPECT_EQ(log(), std::filesystem::canonical(dir_.path() / "code").string() + "\n");
}

TEST_F(ProcessTest, NoOtherDescriptorIsInherited) {
  // A descriptor trainyard holds without close-on-exec must not reach the program.
  const int leaked = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaked, 0);
  ChildProcess child = ChildProcess::start(shell("ls /proc/self/fd | sort -n | tr '\\n' ' '"));
  ASSERT_TRUE(child.wait().success());
  ::close(leaked);
  // 0, 1, 2, and the descriptor ls uses to read the directory itself.
  EXPECT_EQ(log(), "0 1 2 3 ");
}

TEST_F(ProcessTest, ProgramIsFoundInThePathOfItsEnvironment) {
  write_executable(dir_.path() / "bin" / "hello", "#!/bin/sh\necho hello \"$@\"\n");
  ProcessOptions options = shell("");
  options.argv = {"hello", "a b", "c"};
  options.environment["PATH"] = (dir_.path() / "bin").string() + ":/usr/bin:/bin";
  ChildProcess child = ChildProcess::start(options);
  ASSERT_TRUE(child.wait().success());
  EXPECT_EQ(log(), "hello a b c\n");
}

TEST_F(ProcessTest, MissingProgramIsReportedByName) {
  ProcessOptions options = shell("");
  options.argv = {(dir_.path() / "nope" / "train").string()};
  try {
    ChildProcess::start(options);
    FAIL() << "expected ProcessStartError";
  } catch (const ProcessStartError& error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot run '" + options.argv[0] + "': No such file or directory");
  }
  // Nothing stays behind: no status file pretending the job ran.
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "exit-status"));
}

TEST_F(ProcessTest, ProgramNotInPathIsReported) {
  ProcessOptions options = shell("");
  options.argv = {"no-such-trainer"};
  try {
    ChildProcess::start(options);
    FAIL() << "expected ProcessStartError";
  } catch (const ProcessStartError& error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot run 'no-such-trainer': not found in PATH=/usr/bin:/bin");
  }
}

TEST_F(ProcessTest, NonExecutableProgramIsReported) {
  write_text(dir_.path() / "train.sh", "echo hi\n");  // no execute permission
  ProcessOptions options = shell("");
  options.argv = {(dir_.path() / "train.sh").string()};
  try {
    ChildProcess::start(options);
    FAIL() << "expected ProcessStartError";
  } catch (const ProcessStartError& error) {
    EXPECT_EQ(std::string(error.what()), "cannot run '" + options.argv[0] + "': Permission denied");
  }
}

TEST_F(ProcessTest, MissingWorkingDirectoryIsReported) {
  ProcessOptions options = shell("true");
  options.working_directory = dir_.path() / "absent";
  try {
    ChildProcess::start(options);
    FAIL() << "expected ProcessStartError";
  } catch (const ProcessStartError& error) {
    EXPECT_EQ(std::string(error.what()), "cannot run '/bin/sh': working directory '" +
                                             options.working_directory.string() +
                                             "': No such file or directory");
  }
}

TEST_F(ProcessTest, UnwritableLogIsReported) {
  ProcessOptions options = shell("true");
  options.log_file = dir_.path() / "absent" / "log";
  EXPECT_THROW(ChildProcess::start(options), ProcessStartError);
}

TEST_F(ProcessTest, BadOptionsAreRefused) {
  ProcessOptions options = shell("true");
  options.argv.clear();
  EXPECT_THROW(ChildProcess::start(options), ValueError);
  options = shell("true");
  options.environment["A=B"] = "c";
  EXPECT_THROW(ChildProcess::start(options), ValueError);
  options = shell("true");
  options.environment[""] = "c";
  EXPECT_THROW(ChildProcess::start(options), ValueError);
}

TEST_F(ProcessTest, StaleExitStatusFileIsRemovedAtStart) {
  write_text(dir_.path() / "exit-status", "exit 9\n");
  ChildProcess child = ChildProcess::start(shell("sleep 30"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "exit-status"));
  child.terminate(5s);
}

TEST_F(ProcessTest, TerminateLetsAProgramThatTrapsSigtermFinish) {
  // The program saves its work and exits 0 on SIGTERM, well within the grace period.
  ChildProcess child = ChildProcess::start(
      shell("trap 'echo saving; exit 0' TERM; echo ready; while true; do sleep 0.01; done"));
  wait_for_text(dir_.path() / "log", "ready\n");
  const ExitStatus status = child.terminate(60s);
  EXPECT_EQ(status, (ExitStatus{.exit_code = 0, .signal = 0}));
  // The shell's sleep, also in the group, may die of SIGTERM first ("Terminated").
  EXPECT_TRUE(log().starts_with("ready\n") && log().ends_with("saving\n")) << log();
}

TEST_F(ProcessTest, TerminateKillsAProgramThatIgnoresSigterm) {
  ChildProcess child =
      ChildProcess::start(shell("trap '' TERM; echo ready; while true; do sleep 0.01; done"));
  wait_for_text(dir_.path() / "log", "ready\n");
  const ExitStatus status = child.terminate(100ms);
  EXPECT_EQ(status.signal, SIGKILL);
  EXPECT_EQ(status.shell_code(), 137);
  EXPECT_EQ(read_exit_status_file(dir_.path() / "exit-status"), status);
}

TEST_F(ProcessTest, TerminateReachesDescendants) {
  // The program starts a grandchild that outlives SIGTERM unless it is signalled itself.
  ChildProcess child =
      ChildProcess::start(shell("sleep 300 & echo $! > grandchild; echo ready; wait"));
  wait_for_text(dir_.path() / "log", "ready\n");
  const int grandchild = std::stoi(read_text(dir_.path() / "grandchild"));
  const int64_t grandchild_ticks = process_start_ticks(grandchild).value();
  EXPECT_TRUE(process_matches(grandchild, grandchild_ticks));
  child.terminate(60s);
  EXPECT_TRUE(wait_for_exit_of_foreign(grandchild, grandchild_ticks, 30s));
}

TEST_F(ProcessTest, LeftoversAreKilledWhenTheProgramEnds) {
  // Like a container whose main process exits: nothing it started keeps running, not even a
  // process that ignores SIGTERM.
  write_text(dir_.path() / "go", "");
  ChildProcess child =
      ChildProcess::start(shell("(trap '' TERM; exec sleep 300) & echo $! > leftover; echo ready;"
                                "while [ -e go ]; do sleep 0.01; done; exit 4"));
  wait_for_text(dir_.path() / "log", "ready\n");
  const int leftover = std::stoi(read_text(dir_.path() / "leftover"));
  const int64_t leftover_ticks = process_start_ticks(leftover).value();
  std::filesystem::remove(dir_.path() / "go");
  EXPECT_EQ(child.wait().exit_code, 4);
  EXPECT_TRUE(wait_for_exit_of_foreign(leftover, leftover_ticks, 30s));
}

TEST_F(ProcessTest, SupervisorAndProgramAreDistinctProcesses) {
  ChildProcess child = ChildProcess::start(shell("echo $$ > program_pid; sleep 30"));
  wait_for_text(dir_.path() / "program_pid", "\n");
  EXPECT_EQ(std::stoi(read_text(dir_.path() / "program_pid")), child.process_group());
  EXPECT_NE(child.pid(), child.process_group());
  EXPECT_EQ(::getpgid(child.process_group()), child.process_group());
  EXPECT_EQ(::getsid(child.process_group()), child.pid());
  EXPECT_TRUE(process_matches(child.pid(), child.start_ticks()));
  child.terminate(5s);
  EXPECT_FALSE(process_matches(child.pid(), child.start_ticks()));
}

TEST_F(ProcessTest, MovedChildKeepsItsProcess) {
  ChildProcess first = ChildProcess::start(shell("exit 7"));
  const int pid = first.pid();
  ChildProcess second = std::move(first);
  EXPECT_EQ(second.pid(), pid);
  EXPECT_EQ(second.wait().exit_code, 7);
}

TEST(ProcessIdentityTest, StartTicksTellAForkedChildFromItsParent) {
  const int64_t own_ticks = process_start_ticks(::getpid()).value();
  EXPECT_TRUE(process_matches(::getpid(), own_ticks));
  EXPECT_FALSE(process_matches(::getpid(), own_ticks + 1));
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t forked = ::fork();
  if (forked == 0) {
    char byte = 0;
    ::close(ready[1]);
    (void)!::read(ready[0], &byte, 1);  // waits until the parent closes its end
    _exit(0);
  }
  ::close(ready[0]);
  const auto child_ticks = process_start_ticks(forked);
  ASSERT_TRUE(child_ticks.has_value());
  EXPECT_TRUE(process_matches(forked, *child_ticks));
  // The child's identity is its own: the parent's start time does not pass for it.
  EXPECT_GE(*child_ticks, own_ticks);
  EXPECT_FALSE(process_matches(forked, *child_ticks + 1));
  ::close(ready[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(forked, &status, 0), forked);
  EXPECT_FALSE(process_matches(forked, *child_ticks));
  EXPECT_EQ(process_start_ticks(forked), std::nullopt);
}

TEST(ProcessIdentityTest, NoSuchProcess) {
  EXPECT_EQ(process_start_ticks(-1), std::nullopt);
  EXPECT_FALSE(process_matches(0, 0));
  EXPECT_TRUE(wait_for_exit_of_foreign(-1, 0, 0ms));
}

// A job whose trainyard is gone: an intermediate process starts it and exits without waiting,
// so the supervisor is re-parented and this test process is a stranger to it.
class ForeignProcessTest : public ProcessTest {
 protected:
  std::pair<int, int64_t> start_orphaned(const std::string& script) {
    int channel[2];
    EXPECT_EQ(::pipe(channel), 0);
    const pid_t intermediate = ::fork();
    if (intermediate == 0) {
      ::close(channel[0]);
      int64_t identity[2] = {-1, -1};
      try {
        ChildProcess child = ChildProcess::start(shell(script));
        identity[0] = child.pid();
        identity[1] = child.start_ticks();
      } catch (...) {
      }
      (void)!::write(channel[1], identity, sizeof identity);
      _exit(0);
    }
    ::close(channel[1]);
    int64_t identity[2] = {-1, -1};
    (void)!::read(channel[0], identity, sizeof identity);
    ::close(channel[0]);
    int status = 0;
    ::waitpid(intermediate, &status, 0);
    return {static_cast<int>(identity[0]), identity[1]};
  }
};

TEST_F(ForeignProcessTest, WaitsForAForeignJobAndReadsItsStatus) {
  write_text(dir_.path() / "go", "");
  const auto [pid, ticks] =
      start_orphaned("while [ -e go ]; do sleep 0.01; done; echo finished; exit 5");
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(process_matches(pid, ticks));
  EXPECT_FALSE(wait_for_exit_of_foreign(pid, ticks, 20ms));
  std::filesystem::remove(dir_.path() / "go");
  EXPECT_TRUE(wait_for_exit_of_foreign(pid, ticks, 60s));
  EXPECT_EQ(read_exit_status_file(dir_.path() / "exit-status"),
            (ExitStatus{.exit_code = 5, .signal = 0}));
  EXPECT_EQ(log(), "finished\n");
}

TEST_F(ForeignProcessTest, TerminatesAForeignJobThatTrapsSigterm) {
  const auto [pid, ticks] = start_orphaned(
      "trap 'echo stopping; exit 0' TERM; echo ready; while true; do sleep 0.01; done");
  ASSERT_GT(pid, 0);
  wait_for_text(dir_.path() / "log", "ready\n");
  EXPECT_TRUE(terminate_foreign(pid, ticks, 60s));
  EXPECT_EQ(read_exit_status_file(dir_.path() / "exit-status"),
            (ExitStatus{.exit_code = 0, .signal = 0}));
  EXPECT_TRUE(log().starts_with("ready\n") && log().ends_with("stopping\n")) << log();
}

TEST_F(ForeignProcessTest, KillsAForeignJobThatIgnoresSigterm) {
  const auto [pid, ticks] =
      start_orphaned("trap '' TERM; echo ready; while true; do sleep 0.01; done");
  ASSERT_GT(pid, 0);
  wait_for_text(dir_.path() / "log", "ready\n");
  EXPECT_TRUE(terminate_foreign(pid, ticks, 50ms));
  EXPECT_EQ(read_exit_status_file(dir_.path() / "exit-status"),
            (ExitStatus{.exit_code = 0, .signal = SIGKILL}));
}

TEST_F(ForeignProcessTest, RecycledPidIsNeverSignalled) {
  // A stale identity (right pid, wrong start time) must leave the live process alone.
  ChildProcess child = ChildProcess::start(shell("exec sleep 30"));
  EXPECT_TRUE(terminate_foreign(child.pid(), child.start_ticks() + 1, 10ms));
  EXPECT_EQ(child.wait(20ms), std::nullopt);
  EXPECT_TRUE(process_matches(child.pid(), child.start_ticks()));
  child.terminate(5s);
}

TEST(ExitStatusFileTest, ParsesBothForms) {
  TempDir dir;
  EXPECT_EQ(read_exit_status_file(dir.path() / "none"), std::nullopt);
  write_text(dir.path() / "a", "exit 0\n");
  EXPECT_EQ(read_exit_status_file(dir.path() / "a"), (ExitStatus{.exit_code = 0, .signal = 0}));
  write_text(dir.path() / "b", "signal 15\n");
  EXPECT_EQ(read_exit_status_file(dir.path() / "b"), (ExitStatus{.exit_code = 0, .signal = 15}));
  for (const std::string bad : {"", "exit", "exit -1", "exit 256", "signal 0", "quit 1", "exit 1 2",
                                "exit 99999999999999"}) {
    write_text(dir.path() / "c", bad);
    EXPECT_THROW(read_exit_status_file(dir.path() / "c"), DataError) << bad;
  }
}

}  // namespace
}  // namespace trainyard::jobs
