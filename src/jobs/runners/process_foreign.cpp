// Processes that are not our children: a job started by an earlier trainyard, found again by
// its supervisor's pid and start time.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "jobs/runners/process.h"
#include "jobs/runners/process_internal.h"

namespace trainyard::jobs {

namespace detail {

std::optional<ProcStat> read_proc_stat(int pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!file || !std::getline(file, text)) return std::nullopt;
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so the fields
  // start after the last ')'.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 1));
  ProcStat stat;
  std::string token;
  for (int field = 3; field <= 22 && fields >> token; ++field) {
    if (field == 3) stat.state = token[0];
    if (field == 4) stat.parent_pid = std::atoi(token.c_str());
    if (field == 5) stat.process_group = std::atoi(token.c_str());
    if (field == 22) {
      stat.start_ticks = std::strtoll(token.c_str(), nullptr, 10);
      return stat;
    }
  }
  return std::nullopt;
}

std::vector<int> child_pids(int parent_pid) {
  std::vector<int> children;
  std::error_code error;
  // increment(error) rather than range-for: processes come and go while /proc is listed.
  for (std::filesystem::directory_iterator entry("/proc", error), end; !error && entry != end;
       entry.increment(error)) {
    const std::string name = entry->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::atoi(name.c_str());
    const auto stat = read_proc_stat(pid);
    if (stat && stat->parent_pid == parent_pid) children.push_back(pid);
  }
  return children;
}

}  // namespace detail

std::optional<int64_t> process_start_ticks(int pid) {
  const auto stat = detail::read_proc_stat(pid);
  if (!stat) return std::nullopt;
  return stat->start_ticks;
}

bool process_matches(int pid, int64_t start_ticks) {
  const auto stat = detail::read_proc_stat(pid);
  return stat && stat->state != 'Z' && stat->state != 'X' && stat->start_ticks == start_ticks;
}

bool wait_for_exit_of_foreign(int pid, int64_t start_ticks, std::chrono::milliseconds timeout) {
  const int pidfd = detail::open_pidfd(pid);
  if (pidfd < 0 && errno == ESRCH) return true;
  if (pidfd >= 0) {
    // The pidfd names whatever process has this pid now; it is the job's only if the start
    // time still matches after the pidfd was opened.
    bool ended = !process_matches(pid, start_ticks);
    if (!ended) ended = detail::wait_readable(pidfd, timeout);
    close(pidfd);
    return ended;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (process_matches(pid, start_ticks)) {
    if (timeout.count() >= 0 && std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

namespace {

// Sends `signal` to the job's program group: the supervisor's child leads it. Nothing is sent
// unless the supervisor is still the job's, checked just before.
void signal_foreign_group(int pid, int64_t start_ticks, int signal) {
  if (!process_matches(pid, start_ticks)) return;
  for (const int child : detail::child_pids(pid)) {
    const auto stat = detail::read_proc_stat(child);
    if (stat && stat->process_group == child) {
      kill(-child, signal);
    } else {
      kill(child, signal);
    }
  }
}

}  // namespace

bool terminate_foreign(int pid, int64_t start_ticks, std::chrono::milliseconds grace) {
  signal_foreign_group(pid, start_ticks, SIGTERM);
  if (wait_for_exit_of_foreign(pid, start_ticks, grace)) return true;
  signal_foreign_group(pid, start_ticks, SIGKILL);
  return wait_for_exit_of_foreign(pid, start_ticks, std::chrono::seconds(10));
}

}  // namespace trainyard::jobs
