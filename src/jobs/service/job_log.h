// JobLog: the job's log file as the supervisor sees it: the program's stdout and stderr,
// with trainyard's own status lines ("[trainyard] Downloading: ...") added between them,
// read incrementally for streaming and for metric extraction.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "jobs/job_status.h"
#include "jobs/runners/log_follower.h"

namespace trainyard::jobs {

class JobLog {
 public:
  explicit JobLog(std::filesystem::path path);

  // Appends one line written by trainyard. Errors are ignored: a log line must never fail
  // a job.
  void append_line(const std::string& line);
  // Appends a status line as the SageMaker Python SDK prints them:
  // "[trainyard] 2026-11-26 08:30:01 Training - Downloading the training image".
  void append_status(double time, SecondaryStatus status, const std::string& message);
  // Calls on_bytes with what was appended since the last call, and on_line with each line
  // completed by it.
  void read_new(const std::function<void(std::string_view bytes)>& on_bytes,
                const std::function<void(const std::string& line)>& on_line);
  // The last `count` non-empty lines of the program's output (trainyard's own lines left
  // out), joined with "; ", for a FailureReason when the program wrote no failure file.
  std::string last_lines(size_t count) const;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  LogFollower follower_;
};

}  // namespace trainyard::jobs
