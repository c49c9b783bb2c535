// One job's way through the lifecycle, run by the process that holds its SupervisionLock.
// Internal to the service: JobService::run and JobService::reconcile use it.
#pragma once

#include <optional>
#include <string>

#include "jobs/runners/process.h"
#include "jobs/service/job_service.h"

namespace trainyard::jobs::detail {

struct RunContext {
  JobService& service;
  const platform::GpuInventory& gpus;
  const RunObserver& observer;
};

// Runs job `name` from wherever it stands (Starting; or Training with a program started by
// an earlier trainyard) to its end. REQUIRES: the caller holds the job's SupervisionLock.
JobRecord run_job(const RunContext& context, const std::string& name);

}  // namespace trainyard::jobs::detail
