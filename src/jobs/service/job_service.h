// JobService: trainyard's control plane for training jobs on this host. It stores a job
// (CreateTrainingJob), runs it through SageMaker's lifecycle — Starting (waiting for GPUs
// when they are busy), Downloading (staging channels), Training (the program, its log and
// metrics), Uploading (model.tar.gz and output.tar.gz), then Completed, Failed, Stopped or
// MaxRuntimeExceeded — records every transition in the job store, and finishes jobs whose
// supervising process died.
//
// Every trainyard process on the machine (CLI commands, a server) shares the job store, so
// state lives there: a job is run by whichever process holds its SupervisionLock, a stop is
// a request in the store that the supervisor acts on, and GPUs are granted through the
// store's atomic allocation so two jobs never share one.
//
// Thread safety: submit/stop/describe/list may be called from any thread; run() blocks
// while the job runs, one call per job at a time (the lock refuses a second).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/job_directory.h"
#include "jobs/job_spec.h"
#include "jobs/placement/placement.h"
#include "jobs/runners/process.h"
#include "jobs/staging/object_store.h"
#include "jobs/store/job_store.h"
#include "platform/gpu_inventory.h"

namespace trainyard::jobs {

struct JobServiceOptions {
  std::filesystem::path data_dir;
  // Where s3:// URIs resolve. Empty: <data_dir>/s3.
  std::filesystem::path object_store_root;
  // The trainyard executable, which runs the built-in trainer (`trainyard builtin-train`)
  // for TrainingImage "trainyard-keras". Empty: /proc/self/exe.
  std::filesystem::path trainyard_executable;
  // Runtimes for other training images. Empty: <data_dir>/runtimes.json.
  std::filesystem::path runtime_registry;
  // Between SIGTERM and SIGKILL when a job is stopped or runs out of time (SageMaker: 120 s).
  std::chrono::milliseconds stop_grace = kDefaultStopGrace;
  // How often a running job's supervisor checks for stop requests, time limits and log lines.
  std::chrono::milliseconds poll_interval{100};
  PlacementOptions placement;
  BuildTargets build_targets;  // the GPU architectures this build has kernels for
  StoreOptions store;
};

// CreateTrainingJob was refused before anything was stored: the job can never run on this
// host. what() is the placement's paragraph (what is missing, which types would fit).
class PlacementRefused : public ValueError {
 public:
  using ValueError::ValueError;
};

// The memory preflight refused the job: its model does not fit the instance type's GPU
// memory at the requested batch (what() names the fields, the numbers and the ways out).
// The API answers it as a ValidationException: the request, not the account, must change.
class MemoryPreflightRefused : public PlacementRefused {
 public:
  using PlacementRefused::PlacementRefused;
};

// Callbacks while run() works; all optional, called on run()'s thread.
struct RunObserver {
  // After every status change or status message change, with the job as stored.
  std::function<void(const JobRecord&)> on_status;
  // Bytes appended to the job's log (the program's stdout and stderr), as they arrive.
  std::function<void(std::string_view)> on_log;
};

class JobService {
 public:
  // Opens (or creates) the store under options.data_dir. `gpus` must outlive the service.
  JobService(JobServiceOptions options, const platform::GpuInventory& gpus);
  ~JobService();
  JobService(const JobService&) = delete;
  JobService& operator=(const JobService&) = delete;

  JobStore& store() { return *store_; }
  const ObjectStore& object_store() const { return *object_store_; }
  const JobServiceOptions& options() const { return options_; }
  JobDirectory directory(const std::string& job_name) const;

  // CreateTrainingJob for a validated spec: places it on this host and stores it as
  // InProgress/Starting. Throws PlacementRefused (nothing stored) when it can never run
  // here (MemoryPreflightRefused when its model cannot fit the type's GPU memory),
  // ResourceInUse when the name was used before. Placement warnings (fewer vCPUs than
  // the type has, ...) are appended to `warnings` when given.
  JobRecord submit(const TrainingJobSpec& spec, std::vector<std::string>* warnings = nullptr);

  // Runs the stored job to its end in this process and returns it as finally stored. Waits
  // for GPUs while they are busy. Throws InvalidJobState when the job has ended, ValueError
  // when another process supervises it. Failures of the job itself are not exceptions: they
  // end the job Failed with a FailureReason.
  JobRecord run(const std::string& name, const RunObserver& observer = {});

  // StopTrainingJob: records the request; the supervisor stops the program (SIGTERM, grace,
  // SIGKILL), uploads the model and ends the job Stopped. Throws ResourceNotFound, and
  // InvalidJobState when the job has ended.
  void stop(const std::string& name);

  // Finds jobs that have not ended and whose supervisor is gone. A job whose program has
  // also ended is finished here (its exit status read back, artifacts uploaded); the names
  // of jobs whose program still runs are returned, for the caller to supervise again with
  // run(). A job that never started its program is ended Failed.
  std::vector<std::string> reconcile(const RunObserver& observer = {});

 private:
  class Run;

  JobServiceOptions options_;
  const platform::GpuInventory& gpus_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<ObjectStore> object_store_;
};

}  // namespace trainyard::jobs
