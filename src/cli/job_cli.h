// What the job commands (train, describe, list, logs, stop) share: where trainyard keeps its
// data, the JobService over it, starting a detached supervisor, and the status lines
// printed while a job runs.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "jobs/service/job_service.h"
#include "platform/gpu_inventory.h"

namespace trainyard::cli {

// --data-dir, else $TRAINYARD_DATA_DIR, else $HOME/.trainyard.
std::filesystem::path resolve_data_dir(const std::string& flag);

// A JobService on this host's GPUs. Owns the GPU inventory it was built with.
class JobCli {
 public:
  explicit JobCli(const std::string& data_dir_flag);
  jobs::JobService& service() { return *service_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }

  // Finishes jobs whose supervisor died and starts a detached supervisor for those whose
  // program still runs or never started, so no job stays InProgress forever.
  void reconcile();
  // Runs `trainyard supervise NAME --data-dir DIR` in a new session, detached from this
  // terminal; returns at once.
  void start_detached_supervisor(const std::string& name) const;

 private:
  std::filesystem::path data_dir_;
  std::unique_ptr<platform::GpuInventory> gpus_;
  std::unique_ptr<jobs::JobService> service_;
};

// "2026-11-26 08:30:01": an epoch time in local time, as trainyard's tables show it.
std::string format_time(double epoch_seconds);

}  // namespace trainyard::cli
