// Helpers shared by the process files of the runners folder; not part of the public API.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "jobs/runners/process.h"

namespace trainyard::jobs::detail {

// What /proc/<pid>/stat says about a process.
struct ProcStat {
  char state = '?';  // R, S, D, Z, T, ...
  int parent_pid = 0;
  int process_group = 0;
  int64_t start_ticks = 0;
};
std::optional<ProcStat> read_proc_stat(int pid);

// The pids whose parent is `parent_pid`, from a scan of /proc.
std::vector<int> child_pids(int parent_pid);

// A pidfd for `pid` (close-on-exec), or -1 when the kernel has no pidfd_open or the process
// is gone (errno tells which).
int open_pidfd(int pid);

// Waits until `pidfd` is readable (its process has ended) or `timeout` passes. A negative
// timeout waits for ever. Returns true when readable.
bool wait_readable(int pidfd, std::chrono::milliseconds timeout);

// The ExitStatus a waitpid() status word describes.
ExitStatus decode_wait_status(int status);

}  // namespace trainyard::jobs::detail
