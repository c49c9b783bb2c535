// Granting this host's GPUs to a job through the job store, so that trainyard processes
// running jobs side by side never hand out one GPU twice: the free set is computed from
// every grant the store holds, and the store's allocation write is atomic (a lost race is
// retried on the next poll).
#pragma once

#include <optional>
#include <string>

#include "jobs/placement/gpu_requirement.h"
#include "jobs/store/job_store.h"
#include "platform/gpu_inventory.h"

namespace trainyard::jobs {

// Grants GPUs to job `name` and records them in the store. Returns nullopt when granted,
// else the message to show while waiting ("Waiting for GPUs: 2 of 4 free").
std::optional<std::string> try_grant_gpus(JobStore& store, const platform::GpuInventory& gpus,
                                          const std::string& name,
                                          const GpuRequirement& requirement, double time);

}  // namespace trainyard::jobs
