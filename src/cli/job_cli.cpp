#include "cli/job_cli.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>

#include "core/error.h"

namespace trainyard::cli {

std::filesystem::path resolve_data_dir(const std::string& flag) {
  if (!flag.empty()) return std::filesystem::absolute(flag);
  if (const char* value = std::getenv("TRAINYARD_DATA_DIR"); value && *value) {
    return std::filesystem::absolute(value);
  }
  const char* home = std::getenv("HOME");
  if (!home || !*home) {
    throw ValueError("no data directory: pass --data-dir, or set TRAINYARD_DATA_DIR or HOME");
  }
  return std::filesystem::path(home) / ".trainyard";
}

JobCli::JobCli(const std::string& data_dir_flag)
    : data_dir_(resolve_data_dir(data_dir_flag)),
      gpus_(std::make_unique<platform::SystemGpuInventory>(
          platform::GpuDetectionOptions::from_environment())) {
  jobs::JobServiceOptions options;
  options.data_dir = data_dir_;
  service_ = std::make_unique<jobs::JobService>(options, *gpus_);
}

void JobCli::reconcile() {
  for (const std::string& name : service_->reconcile()) start_detached_supervisor(name);
}

void JobCli::start_detached_supervisor(const std::string& name) const {
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) throw IOError("cannot find the trainyard executable: " + error.message());
  // Built before fork: in a threaded server the child may only make async-signal-safe calls
  // (another thread may have held the allocator's lock at the fork).
  const std::string data_dir = data_dir_.string();
  pid_t child = ::fork();
  if (child < 0) throw IOError("cannot start a supervisor for '" + name + "': fork failed");
  if (child == 0) {
    // Detach twice so the supervisor is nobody's child and survives this process.
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    // Nothing else of the parent's: a server's listening socket and its clients' connections
    // would otherwise stay open for as long as the job runs.
    ::close_range(3, ~0U, 0);
    ::execl(self.c_str(), self.c_str(), "supervise", name.c_str(), "--data-dir", data_dir.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
}

std::string format_time(double epoch_seconds) {
  std::time_t seconds = static_cast<std::time_t>(epoch_seconds);
  std::tm local{};
  ::localtime_r(&seconds, &local);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &local);
  return stamp;
}

}  // namespace trainyard::cli
