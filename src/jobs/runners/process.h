// ChildProcess: a job's training program, run the way a container runs its main process.
//
// start() forks a small supervisor (a copy of trainyard that only makes system calls) in a new
// session; the supervisor forks the program into its own process group and waits for it:
//
//   trainyard ── supervisor (session leader, pid() and start_ticks() identify the job)
//                 └─ program (process_group() == its pid) ─ its descendants, same group
//
// Stop signals go to the program's process group, so they reach every descendant that stays
// in it (a descendant that calls setsid() or setpgid() escapes, as it would escape `docker
// stop`'s SIGTERM). When the program ends, the supervisor SIGKILLs whatever is left in the
// group (as the kernel does when a container's PID 1 exits), records the program's exit
// status in the exit-status file, and then ends with that same status: exit code N, or
// killed by the same signal. The supervisor ignores the signals a user might send to the
// whole session, so the program's status is recorded even then.
//
// Why a supervisor: the status must outlive trainyard. If trainyard dies while a job runs, the
// job keeps running; the next trainyard finds it again with process_matches() (pid plus start
// time, so a recycled pid never passes), waits with wait_for_exit_of_foreign() or stops it
// with terminate_foreign(), and reads the exit status with read_exit_status_file(). Only the
// parent of a process can learn its exit status from the kernel, so without the file a
// re-adopted job's outcome would be unknown.
//
// What the orchestrator can learn about a re-adopted job when the supervisor has ended:
//   - the file holds "exit N" or "signal N": the program's true outcome;
//   - no file: the supervisor itself was killed (SIGKILL sent to it directly, the OOM killer,
//     a reboot); the program's outcome is unknown and the job should be failed as such (or
//     marked Stopped when a stop had been requested).
//
// The exit status of the supervisor is collected with waitpid() on its pid only, so trainyard
// code that waits for other children, or installs a SIGCHLD handler, is not disturbed.
// REQUIRES (process-wide): SIGCHLD is not set to SIG_IGN, which would make the kernel reap the
// supervisor before wait() can read its status.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace trainyard::jobs {

// How long a stop waits between SIGTERM and SIGKILL: SageMaker's (and `docker stop -t`'s)
// 120 seconds.
inline constexpr std::chrono::milliseconds kDefaultStopGrace = std::chrono::seconds(120);

// The program could not be started: not found, not executable, no such working directory,
// log file not writable. The message says which ("cannot run '/x/train': No such file or
// directory"), so the orchestrator can put it in FailureReason.
class ProcessStartError : public IOError {
 public:
  using IOError::IOError;
};

// How a process ended: an exit code, or the signal that killed it.
struct ExitStatus {
  int exit_code = 0;  // meaningful when signal == 0
  int signal = 0;     // the terminating signal, or 0 when the process exited
  bool signaled() const { return signal != 0; }
  bool success() const { return signal == 0 && exit_code == 0; }
  // The number a shell reports in $?: the exit code, or 128 + signal. SageMaker's
  // "exit code: 137" for a SIGKILLed container is this number.
  int shell_code() const { return signal != 0 ? 128 + signal : exit_code; }
  // "exit code 3" or "signal 9 (SIGKILL)".
  std::string description() const;
  bool operator==(const ExitStatus&) const = default;
};

struct ProcessOptions {
  // The program and its arguments. argv[0] is a path (relative ones are taken from
  // working_directory), or a bare name looked up in environment's PATH (default
  // /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin, as in a Docker image).
  std::vector<std::string> argv;
  // The program's whole environment; nothing is inherited from trainyard.
  std::map<std::string, std::string> environment;
  // Where the program starts. Default: trainyard's current directory.
  std::filesystem::path working_directory;
  // stdout and stderr are both appended here (created 0644 if missing). Required.
  std::filesystem::path log_file;
  // Where the supervisor writes the program's exit status when it ends (see
  // read_exit_status_file). Empty: not written, and a re-adopted job's outcome is unknown.
  std::filesystem::path exit_status_file;
};

// Owns a started program. Move-only. Not thread-safe: one thread calls wait() and
// terminate(), e.g. a runner loop that waits with a short timeout and stops the job when
// asked. Destroying a running ChildProcess leaves the job running (it may be re-adopted
// later); call wait() or terminate() before that to collect its status.
class ChildProcess {
 public:
  // Starts options.argv with stdin from /dev/null, stdout and stderr appended to
  // options.log_file, no other file descriptors open, default signal dispositions and an
  // empty signal mask. Removes a stale options.exit_status_file first. Returns once the
  // program has been exec'd. Throws ValueError for empty argv or an environment name that is
  // empty or holds '=' (or any string holding NUL), ProcessStartError when the program
  // cannot be started (nothing is left running then).
  static ChildProcess start(const ProcessOptions& options);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  // The supervisor's pid and start time: what the job store keeps to find the job again
  // after a restart (see process_matches).
  int pid() const { return supervisor_pid_; }
  int64_t start_ticks() const { return start_ticks_; }
  // The program's pid, which is also its process group's id.
  int process_group() const { return program_pid_; }

  // The program's exit status once it has ended (and its group's leftovers are gone), or
  // nullopt if it still runs after `timeout`. Once known, the status is returned again by
  // every later call.
  std::optional<ExitStatus> wait(std::chrono::milliseconds timeout);
  // Blocks until the program has ended.
  ExitStatus wait();

  // Stops the program like `docker stop`: SIGTERM to its process group, up to `grace` for it
  // to end, then SIGKILL to the group. Returns its exit status (e.g. exit code 0 when it
  // trapped SIGTERM and finished cleanly, signal 15, or signal 9 after the grace period).
  // Returns at once with the known status if the program has already ended.
  ExitStatus terminate(std::chrono::milliseconds grace = kDefaultStopGrace);

 private:
  ChildProcess(int supervisor_pid, int program_pid, int64_t start_ticks, int pidfd);
  void release();
  // Collects the supervisor's status once it has ended (it exits as the program did).
  ExitStatus reap();

  int supervisor_pid_ = -1;
  int program_pid_ = -1;
  int64_t start_ticks_ = 0;
  int pidfd_ = -1;  // the supervisor's pidfd; -1 on kernels without pidfd_open (polls then)
  std::filesystem::path exit_status_file_;
  std::optional<ExitStatus> status_;
};

// The start time of process `pid` in clock ticks after boot (field 22 of /proc/<pid>/stat), or
// nullopt if there is no such process.
std::optional<int64_t> process_start_ticks(int pid);

// True when `pid` is alive (not a zombie) and is the process that started at `start_ticks`,
// not another that got the pid after it ended.
bool process_matches(int pid, int64_t start_ticks);

// For a job started by an earlier trainyard (a process that is not our child): polls until
// the supervisor identified by (pid, start_ticks) has ended. Returns true when it has ended
// (or was already gone), false if it still runs after `timeout`. Its exit status is in the
// job's exit-status file (read_exit_status_file), not here.
bool wait_for_exit_of_foreign(int pid, int64_t start_ticks, std::chrono::milliseconds timeout);

// Stops such a job the way ChildProcess::terminate does: SIGTERM to the program's process
// group, `grace`, then SIGKILL; the group is found as the supervisor's child at the moment of
// signalling, and nothing is signalled unless (pid, start_ticks) still matches. Returns true
// when the supervisor has ended by the time it returns (it waits up to 10 s after SIGKILL).
bool terminate_foreign(int pid, int64_t start_ticks,
                       std::chrono::milliseconds grace = kDefaultStopGrace);

// Reads an exit-status file written by a supervisor: "exit N" or "signal N". Returns nullopt
// when the file does not exist; throws DataError naming the file if its content is anything
// else, IOError if it cannot be read.
std::optional<ExitStatus> read_exit_status_file(const std::filesystem::path& path);

}  // namespace trainyard::jobs
