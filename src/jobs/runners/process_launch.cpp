// ChildProcess::start: the supervisor and program processes (see process.h for the shape).
//
// Everything the two children need (paths, argv, envp, descriptors) is prepared before the
// first fork. trainyard may have other threads, so after fork the children make system calls
// only: no allocation, no locks, no stdio. _Fork is used rather than fork so no pthread_atfork
// handler of a library (OpenBLAS registers one) runs in a child that is not going to exec.
//
// Start-up failures reach the parent through a close-on-exec pipe as small fixed-size
// messages; end of file on the pipe means the program has been exec'd (the supervisor sends
// the program's pid first, then closes its end).
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "jobs/runners/process.h"
#include "jobs/runners/process_internal.h"

namespace trainyard::jobs {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr int kReportFd = 3;  // the pipe's descriptor in both children

enum class Report : int32_t {
  kProgramPid = 1,  // value: the program's pid (sent by the supervisor)
  kSetupFailed,     // value: errno; setsid or descriptor set-up in the supervisor
  kForkFailed,      // value: errno
  kChdirFailed,     // value: errno (sent by the program)
  kExecFailed,      // value: errno (sent by the program)
};
struct ReportMessage {
  int32_t kind;
  int32_t value;
};

// What the children read; every pointer refers to memory prepared before the fork.
struct LaunchPlan {
  const char* program;
  char* const* argv;
  char* const* envp;
  const char* working_directory;
  int log_fd;
  int null_fd;
  int report_fd;
  const char* status_path;  // nullptr: no exit-status file
  const char* status_temp_path;
  const char* status_directory;
};

// --- Child side: async-signal-safe code only.

void send_report(int fd, Report kind, int value) {
  const ReportMessage message{static_cast<int32_t>(kind), value};
  while (write(fd, &message, sizeof message) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void report_and_exit(int fd, Report kind, int error) {
  send_report(fd, kind, error);
  _exit(127);
}

void close_descriptors_from(int first) {
  if (close_range(static_cast<unsigned>(first), ~0U, 0) == 0) return;
  // Kernels before 5.9: close them one by one, up to the descriptor limit.
  rlimit limit{};
  rlim_t last = 65536;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    last = limit.rlim_cur < (rlim_t{1} << 20) ? limit.rlim_cur : (rlim_t{1} << 20);
  }
  for (rlim_t fd = static_cast<rlim_t>(first); fd < last; ++fd) close(static_cast<int>(fd));
}

bool is_fault_signal(int signal) {
  return signal == SIGSEGV || signal == SIGBUS || signal == SIGFPE || signal == SIGILL ||
         signal == SIGTRAP || signal == SIGABRT || signal == SIGSYS;
}

void set_all_dispositions(void (*handler)(int), bool keep_faults) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  for (int signal = 1; signal < NSIG; ++signal) {
    if (signal == SIGKILL || signal == SIGSTOP) continue;
    if (keep_faults && (is_fault_signal(signal) || signal == SIGCHLD)) continue;
    sigaction(signal, &action, nullptr);  // fails harmlessly for the C library's own signals
  }
}

[[noreturn]] void run_program(const LaunchPlan& plan) {
  setpgid(0, 0);  // the supervisor does the same; whichever runs first wins
  set_all_dispositions(SIG_DFL, /*keep_faults=*/false);
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  if (chdir(plan.working_directory) != 0) report_and_exit(kReportFd, Report::kChdirFailed, errno);
  execve(plan.program, plan.argv, plan.envp);
  report_and_exit(kReportFd, Report::kExecFailed, errno);
}

size_t format_status(char* buffer, bool signaled, int value) {
  const char* word = signaled ? "signal " : "exit ";
  size_t length = 0;
  while (*word != '\0') buffer[length++] = *word++;
  char digits[12];
  size_t count = 0;
  unsigned number = static_cast<unsigned>(value);
  do {
    digits[count++] = static_cast<char>('0' + number % 10);
    number /= 10;
  } while (number != 0);
  while (count > 0) buffer[length++] = digits[--count];
  buffer[length++] = '\n';
  return length;
}

// Written to a temporary name, synced and renamed, so a reader never sees half a status.
void write_status_file(const LaunchPlan& plan, bool signaled, int value) {
  if (plan.status_path == nullptr) return;
  char text[32];
  const size_t length = format_status(text, signaled, value);
  const int fd = open(plan.status_temp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const bool written = write(fd, text, length) == static_cast<ssize_t>(length) && fsync(fd) == 0;
  close(fd);
  if (!written || rename(plan.status_temp_path, plan.status_path) != 0) {
    unlink(plan.status_temp_path);
    return;
  }
  const int directory = open(plan.status_directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory >= 0) {
    fsync(directory);
    close(directory);
  }
}

// Ends the supervisor the way the program ended, so waitpid() on it tells the same story.
[[noreturn]] void exit_like(bool signaled, int value) {
  if (signaled) {
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    sigaction(value, &action, nullptr);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, value);
    sigprocmask(SIG_UNBLOCK, &only, nullptr);
    kill(getpid(), value);
    _exit(128 + value);  // reached only for a signal that does not terminate
  }
  _exit(value);
}

[[noreturn]] void run_supervisor(const LaunchPlan& plan) {
  prctl(PR_SET_NAME, "trainyard-job", 0, 0, 0);
  if (setsid() < 0) report_and_exit(plan.report_fd, Report::kSetupFailed, errno);
  // Move the three descriptors above the standard ones first, so no dup2 below overwrites one
  // that is still needed, then close everything trainyard had open (sockets, databases).
  const int log_fd = fcntl(plan.log_fd, F_DUPFD, 10);
  const int null_fd = fcntl(plan.null_fd, F_DUPFD, 10);
  const int report_fd = fcntl(plan.report_fd, F_DUPFD, 10);
  if (log_fd < 0 || null_fd < 0 || report_fd < 0) {
    report_and_exit(plan.report_fd, Report::kSetupFailed, errno);
  }
  if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0 ||
      dup2(report_fd, kReportFd) < 0 || fcntl(kReportFd, F_SETFD, FD_CLOEXEC) < 0) {
    report_and_exit(report_fd, Report::kSetupFailed, errno);
  }
  close_descriptors_from(kReportFd + 1);
  if (chdir("/") != 0) report_and_exit(kReportFd, Report::kSetupFailed, errno);
  // A signal sent to the whole session (kill -TERM -<sid>) must not end the supervisor
  // before it has recorded the program's status.
  set_all_dispositions(SIG_IGN, /*keep_faults=*/true);

  const pid_t program = _Fork();
  if (program < 0) report_and_exit(kReportFd, Report::kForkFailed, errno);
  if (program == 0) run_program(plan);
  setpgid(program, program);
  send_report(kReportFd, Report::kProgramPid, program);
  close(kReportFd);

  // Wait without reaping: while the program is a zombie its pid, and so its process group id,
  // cannot be reused, so the SIGKILL below reaches only what the program left behind.
  siginfo_t info{};
  while (waitid(P_PID, static_cast<id_t>(program), &info, WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR) _exit(127);
  }
  kill(-program, SIGKILL);
  const bool signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
  write_status_file(plan, signaled, info.si_status);
  int status = 0;
  while (waitpid(program, &status, 0) < 0 && errno == EINTR) {
  }
  exit_like(signaled, info.si_status);
}

// --- Parent side.

// Closes a descriptor when it goes out of scope.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

std::string error_text(int error) {
  return std::system_category().message(error);
}

bool has_nul(const std::string& text) {
  return text.find('\0') != std::string::npos;
}

void check_options(const ProcessOptions& options) {
  if (options.argv.empty()) throw ValueError("ChildProcess::start: argv is empty");
  for (const std::string& argument : options.argv) {
    if (has_nul(argument)) throw ValueError("ChildProcess::start: an argument holds a NUL byte");
  }
  for (const auto& [name, value] : options.environment) {
    if (name.empty() || name.find('=') != std::string::npos || has_nul(name) || has_nul(value)) {
      throw ValueError("ChildProcess::start: invalid environment variable name '" + name + "'");
    }
  }
  if (options.log_file.empty()) throw ValueError("ChildProcess::start: log_file is empty");
}

bool is_executable_file(const std::filesystem::path& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && access(path.c_str(), X_OK) == 0;
}

// argv[0] as execve needs it: a path as given, or a bare name found in the program's PATH.
std::string find_program(const ProcessOptions& options,
                         const std::filesystem::path& working_directory) {
  const std::string& name = options.argv[0];
  if (name.find('/') != std::string::npos) return name;
  const auto path_entry = options.environment.find("PATH");
  const std::string search =
      path_entry != options.environment.end() ? path_entry->second : kDefaultPath;
  size_t begin = 0;
  while (begin <= search.size()) {
    size_t end = search.find(':', begin);
    if (end == std::string::npos) end = search.size();
    const std::filesystem::path directory =
        end == begin ? std::filesystem::path(".")
                     : std::filesystem::path(search.substr(begin, end - begin));
    const std::filesystem::path candidate =
        directory.is_absolute() ? directory / name : working_directory / directory / name;
    if (!name.empty() && is_executable_file(candidate)) return candidate.string();
    begin = end + 1;
  }
  throw ProcessStartError("cannot run '" + name + "': not found in PATH=" + search);
}

std::string describe_failure(const ReportMessage& report, const std::string& program,
                             const std::filesystem::path& working_directory) {
  const std::string prefix = "cannot run '" + program + "': ";
  switch (static_cast<Report>(report.kind)) {
    case Report::kExecFailed:
      return prefix + error_text(report.value);
    case Report::kChdirFailed:
      return prefix + "working directory '" + working_directory.string() +
             "': " + error_text(report.value);
    case Report::kForkFailed:
      return prefix + "fork: " + error_text(report.value);
    default:
      return prefix + "setting up its process: " + error_text(report.value);
  }
}

}  // namespace

ChildProcess ChildProcess::start(const ProcessOptions& options) {
  check_options(options);
  const std::filesystem::path working_directory = options.working_directory.empty()
                                                      ? std::filesystem::current_path()
                                                      : options.working_directory;
  const std::string program = find_program(options, working_directory);

  std::vector<std::string> environment_strings;
  for (const auto& [name, value] : options.environment)
    environment_strings.push_back(name + "=" + value);
  std::vector<char*> argv_pointers;
  for (const std::string& argument : options.argv)
    argv_pointers.push_back(const_cast<char*>(argument.c_str()));
  argv_pointers.push_back(nullptr);
  std::vector<char*> envp_pointers;
  for (const std::string& entry : environment_strings)
    envp_pointers.push_back(const_cast<char*>(entry.c_str()));
  envp_pointers.push_back(nullptr);

  UniqueFd log(
      open(options.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644));
  if (log.get() < 0) {
    throw ProcessStartError("cannot open log file '" + options.log_file.string() +
                            "': " + error_text(errno));
  }
  UniqueFd null_input(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_input.get() < 0) throw ProcessStartError("cannot open /dev/null: " + error_text(errno));
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw ProcessStartError("cannot create a pipe: " + error_text(errno));
  UniqueFd report_read(pipe_fds[0]);
  UniqueFd report_write(pipe_fds[1]);

  const std::filesystem::path& status_path = options.exit_status_file;
  const std::string status_temp = status_path.string() + ".tmp";
  const std::filesystem::path status_directory =
      status_path.has_parent_path() ? status_path.parent_path() : std::filesystem::path(".");
  if (!status_path.empty()) {
    std::error_code error;
    std::filesystem::remove(status_path, error);
    if (error) {
      throw ProcessStartError("cannot remove stale exit-status file '" + status_path.string() +
                              "': " + error.message());
    }
  }

  const LaunchPlan plan{
      .program = program.c_str(),
      .argv = argv_pointers.data(),
      .envp = envp_pointers.data(),
      .working_directory = working_directory.c_str(),
      .log_fd = log.get(),
      .null_fd = null_input.get(),
      .report_fd = report_write.get(),
      .status_path = status_path.empty() ? nullptr : status_path.c_str(),
      .status_temp_path = status_temp.c_str(),
      .status_directory = status_directory.c_str(),
  };
  const pid_t supervisor = _Fork();
  if (supervisor < 0)
    throw ProcessStartError("cannot run '" + program + "': fork: " + error_text(errno));
  if (supervisor == 0) run_supervisor(plan);
  report_write.reset();
  UniqueFd pidfd(detail::open_pidfd(supervisor));

  std::optional<ReportMessage> failure;
  int program_pid = -1;
  ReportMessage message{};
  size_t filled = 0;
  for (;;) {
    const ssize_t count = read(report_read.get(), reinterpret_cast<char*>(&message) + filled,
                               sizeof message - filled);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) break;
    filled += static_cast<size_t>(count);
    if (filled < sizeof message) continue;
    filled = 0;
    if (static_cast<Report>(message.kind) == Report::kProgramPid) {
      program_pid = message.value;
    } else if (!failure) {
      failure = message;
    }
  }

  const std::optional<int64_t> start_ticks = process_start_ticks(supervisor);
  if (failure || program_pid <= 0 || !start_ticks) {
    // The supervisor ends by itself once the program has failed; collect it and its status file.
    if (program_pid > 0 && !failure) kill(-program_pid, SIGKILL);
    int status = 0;
    while (waitpid(supervisor, &status, 0) < 0 && errno == EINTR) {
    }
    if (!status_path.empty()) {
      std::error_code ignored;
      std::filesystem::remove(status_path, ignored);
    }
    if (failure) throw ProcessStartError(describe_failure(*failure, program, working_directory));
    throw ProcessStartError("cannot run '" + program + "': its supervisor ended with " +
                            detail::decode_wait_status(status).description() +
                            " before starting it");
  }
  ChildProcess child(supervisor, program_pid, *start_ticks, pidfd.release());
  child.exit_status_file_ = status_path;
  return child;
}

}  // namespace trainyard::jobs
