#include "jobs/runners/process.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "jobs/runners/process_internal.h"

namespace trainyard::jobs {

namespace detail {

int open_pidfd(int pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));  // pidfds are close-on-exec
#else
  errno = ENOSYS;
  return -1;
#endif
}

bool wait_readable(int pidfd, std::chrono::milliseconds timeout) {
  const bool forever = timeout.count() < 0;
  const auto deadline =
      std::chrono::steady_clock::now() + (forever ? std::chrono::milliseconds(0) : timeout);
  for (;;) {
    int wait_ms = -1;
    if (!forever) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1 << 30));
    }
    pollfd entry{.fd = pidfd, .events = POLLIN, .revents = 0};
    const int ready = poll(&entry, 1, wait_ms);
    if (ready > 0) return true;
    if (ready == 0 && (forever || std::chrono::steady_clock::now() >= deadline)) return false;
    if (ready < 0 && errno != EINTR) return true;  // a broken pidfd: let waitpid answer
  }
}

ExitStatus decode_wait_status(int status) {
  if (WIFSIGNALED(status)) return ExitStatus{.exit_code = 0, .signal = WTERMSIG(status)};
  return ExitStatus{.exit_code = WEXITSTATUS(status), .signal = 0};
}

}  // namespace detail

std::string ExitStatus::description() const {
  if (signal == 0) return "exit code " + std::to_string(exit_code);
  const char* name = sigabbrev_np(signal);
  return "signal " + std::to_string(signal) +
         (name != nullptr ? " (SIG" + std::string(name) + ")" : std::string());
}

ChildProcess::ChildProcess(int supervisor_pid, int program_pid, int64_t start_ticks, int pidfd)
    : supervisor_pid_(supervisor_pid),
      program_pid_(program_pid),
      start_ticks_(start_ticks),
      pidfd_(pidfd) {}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : supervisor_pid_(std::exchange(other.supervisor_pid_, -1)),
      program_pid_(std::exchange(other.program_pid_, -1)),
      start_ticks_(other.start_ticks_),
      pidfd_(std::exchange(other.pidfd_, -1)),
      exit_status_file_(std::move(other.exit_status_file_)),
      status_(std::exchange(other.status_, std::nullopt)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    release();
    supervisor_pid_ = std::exchange(other.supervisor_pid_, -1);
    program_pid_ = std::exchange(other.program_pid_, -1);
    start_ticks_ = other.start_ticks_;
    pidfd_ = std::exchange(other.pidfd_, -1);
    exit_status_file_ = std::move(other.exit_status_file_);
    status_ = std::exchange(other.status_, std::nullopt);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  release();
}

void ChildProcess::release() {
  if (pidfd_ >= 0) close(pidfd_);
  pidfd_ = -1;
}

ExitStatus ChildProcess::reap() {
  int status = 0;
  for (;;) {
    if (waitpid(supervisor_pid_, &status, 0) == supervisor_pid_) {
      status_ = detail::decode_wait_status(status);
      return *status_;
    }
    if (errno == EINTR) continue;
    // ECHILD: someone else collected the supervisor (SIGCHLD set to SIG_IGN, or a waitpid(-1)
    // elsewhere). The exit-status file still knows how the program ended.
    const int error = errno;
    if (!exit_status_file_.empty()) {
      if (auto recorded = read_exit_status_file(exit_status_file_)) {
        status_ = recorded;
        return *status_;
      }
    }
    throw InternalError("waitpid(" + std::to_string(supervisor_pid_) +
                        ") for a job's supervisor failed: " + std::strerror(error) +
                        "; is SIGCHLD ignored in this process?");
  }
}

std::optional<ExitStatus> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  TY_CHECK(supervisor_pid_ > 0, "ChildProcess::wait on a moved-from ChildProcess");
  if (pidfd_ >= 0) {
    if (!detail::wait_readable(pidfd_, timeout)) return std::nullopt;
    return reap();
  }
  // No pidfd (kernels before 5.3): poll waitpid.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(supervisor_pid_, &status, WNOHANG);
    if (done == supervisor_pid_) {
      status_ = detail::decode_wait_status(status);
      return status_;
    }
    if (done < 0 && errno != EINTR) return reap();
    if (timeout.count() >= 0 && std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

ExitStatus ChildProcess::wait() {
  return *wait(std::chrono::milliseconds(-1));
}

ExitStatus ChildProcess::terminate(std::chrono::milliseconds grace) {
  if (status_) return *status_;
  TY_CHECK(supervisor_pid_ > 0, "ChildProcess::terminate on a moved-from ChildProcess");
  // The supervisor keeps the program unreaped until it has swept the group, and we keep the
  // supervisor unreaped, so the group id still names the job's group here (ESRCH once empty).
  kill(-program_pid_, SIGTERM);
  if (auto status = wait(grace)) return *status;
  kill(-program_pid_, SIGKILL);
  return wait();
}

std::optional<ExitStatus> read_exit_status_file(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    if (error && error != std::errc::no_such_file_or_directory) {
      throw IOError("cannot read exit-status file " + path.string() + ": " + error.message());
    }
    return std::nullopt;
  }
  std::ifstream file(path);
  std::stringstream buffer;
  buffer << file.rdbuf();
  if (!file) throw IOError("cannot read exit-status file " + path.string());
  std::string text = buffer.str();
  const std::string shown = text.substr(0, 40);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  const auto malformed = [&]() {
    return DataError("exit-status file " + path.string() +
                     ": expected 'exit N' or 'signal N', got '" + shown + "'");
  };
  const size_t space = text.find(' ');
  if (space == std::string::npos || space + 1 == text.size() || text.size() - space > 4) {
    throw malformed();
  }
  const std::string word = text.substr(0, space);
  int number = 0;
  for (size_t i = space + 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') throw malformed();
    number = number * 10 + (text[i] - '0');
  }
  if (word == "exit" && number <= 255) return ExitStatus{.exit_code = number, .signal = 0};
  if (word == "signal" && number >= 1 && number < NSIG) {
    return ExitStatus{.exit_code = 0, .signal = number};
  }
  throw malformed();
}

}  // namespace trainyard::jobs
