#include "jobs/service/job_service.h"

#include "core/error.h"
#include "jobs/builtin/builtin_trainer.h"
#include "jobs/placement/memory_preflight.h"
#include "jobs/runners/process.h"
#include "jobs/service/job_run.h"
#include "jobs/service/service_clock.h"
#include "jobs/service/supervision_lock.h"
#include "platform/instance_catalog.h"

namespace trainyard::jobs {
namespace {

JobServiceOptions with_defaults(JobServiceOptions options) {
  if (options.data_dir.empty()) throw ValueError("JobService needs a data directory");
  if (options.object_store_root.empty()) {
    options.object_store_root = ObjectStore::default_root(options.data_dir);
  }
  if (options.runtime_registry.empty())
    options.runtime_registry = options.data_dir / "runtimes.json";
  if (options.trainyard_executable.empty()) {
    std::error_code error;
    options.trainyard_executable = std::filesystem::read_symlink("/proc/self/exe", error);
  }
  return options;
}

// Only the built-in trainer's model is known before the job runs (its model_config).
MemoryPreflight check_memory(const TrainingJobSpec& spec, const PlacementHost& host) {
  if (spec.algorithm_specification->training_image != kBuiltinTrainingImage ||
      !spec.resource_config->instance_type) {
    return {};
  }
  platform::InstanceType type =
      host.catalog.resolve(*spec.resource_config->instance_type, host.resources, host.gpus);
  return check_job_memory(spec, type, host.catalog);
}

}  // namespace

JobService::JobService(JobServiceOptions options, const platform::GpuInventory& gpus)
    : options_(with_defaults(std::move(options))),
      gpus_(gpus),
      store_(std::make_unique<JobStore>(options_.data_dir, options_.store)),
      object_store_(std::make_unique<ObjectStore>(options_.object_store_root)) {}

JobService::~JobService() = default;

JobDirectory JobService::directory(const std::string& job_name) const {
  return JobDirectory(options_.data_dir, job_name);
}

JobRecord JobService::submit(const TrainingJobSpec& spec, std::vector<std::string>* warnings) {
  PlacementHost host{platform::InstanceCatalog::builtin(), gpus_, platform::HostResources::detect(),
                     options_.build_targets};
  if (!spec.resource_config || !spec.algorithm_specification) {
    throw PlacementRefused("training job '" + spec.training_job_name +
                           "': serverless jobs (no ResourceConfig or AlgorithmSpecification) are "
                           "not supported by trainyard yet");
  }
  PlacementDecision decision = place_job(*spec.resource_config, host, options_.placement);
  if (!decision.fits()) throw PlacementRefused(decision.refusal);
  MemoryPreflight memory = check_memory(spec, host);
  if (memory.refusal) throw MemoryPreflightRefused(*memory.refusal);
  if (warnings) {
    warnings->insert(warnings->end(), decision.warnings.begin(), decision.warnings.end());
    warnings->insert(warnings->end(), memory.warnings.begin(), memory.warnings.end());
  }
  JobRecord record = store_->create(new_job_record(spec, epoch_seconds()));
  directory(record.name).create();
  return record;
}

JobRecord JobService::run(const std::string& name, const RunObserver& observer) {
  JobRecord record = store_->require(name);
  if (is_terminal(record.status)) {
    throw InvalidJobState("training job '" + record.name + "' has already ended (" +
                          std::string(to_string(record.status)) + ")");
  }
  std::optional<SupervisionLock> lock = SupervisionLock::try_acquire(directory(record.name).root());
  if (!lock) {
    throw ValueError("training job '" + record.name +
                     "' is already being run by another trainyard process");
  }
  detail::RunContext context{*this, gpus_, observer};
  return detail::run_job(context, record.name);
}

void JobService::stop(const std::string& name) {
  JobRecord record = store_->require(name);
  if (is_terminal(record.status)) {
    throw InvalidJobState("training job '" + record.name + "' has already ended (" +
                          std::string(to_string(record.status)) + ")");
  }
  store_->request_stop(record.name, epoch_seconds());
}

std::vector<std::string> JobService::reconcile(const RunObserver& observer) {
  std::vector<std::string> still_running;
  for (const JobRecord& record : store_->active_jobs()) {
    std::optional<SupervisionLock> lock =
        SupervisionLock::try_acquire(directory(record.name).root());
    if (!lock) continue;  // a live supervisor has it
    const auto& process = record.runner_process;
    if (process && process_matches(int(process->pid), process->start_time)) {
      still_running.push_back(record.name);
      continue;
    }
    if (!process && record.secondary_status != SecondaryStatus::kStarting &&
        record.secondary_status != SecondaryStatus::kPending) {
      // The supervisor died between placing the job and starting its program.
      store_->set_failure_reason(record.name,
                                 "InternalServerError: trainyard stopped while preparing the job "
                                 "(" +
                                     std::string(to_string(record.secondary_status)) + ")",
                                 epoch_seconds());
      store_->set_gpu_allocation(record.name, {}, epoch_seconds());
      store_->transition(record.name, SecondaryStatus::kFailed, "Training job failed",
                         epoch_seconds());
      continue;
    }
    if (!process) {
      // Never started: waiting for GPUs or about to stage. Whoever supervises it next
      // (trainyard train, the server) starts it; reconciliation only reports it.
      still_running.push_back(record.name);
      continue;
    }
    // The program ended while nobody watched: finish it from its recorded exit status.
    detail::RunContext context{*this, gpus_, observer};
    detail::run_job(context, record.name);
  }
  return still_running;
}

}  // namespace trainyard::jobs
