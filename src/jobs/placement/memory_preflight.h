// The memory preflight of a job: before it starts, a built-in trainer job whose model is
// given (the model_config hyperparameter) on an instance type with GPUs has its training
// memory per GPU estimated (advisor/memory_estimate.h) at its per-GPU batch (batch_size
// split evenly over ResourceConfig.InstanceCount hosts, one GPU each). A job that does
// not fit the type's GPU memory is refused with the numbers and three ways out; one that
// fits with under 10% headroom gets a warning.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "jobs/job_spec.h"
#include "platform/instance_catalog.h"

namespace trainyard::jobs {

struct MemoryPreflight {
  std::optional<std::string> refusal;  // set when the job cannot fit
  std::vector<std::string> warnings;
};

// Checks `spec` (validated) trained on `instance_type` (resolved; `catalog` supplies the
// alternatives named in a refusal). Jobs without a model_config, with a model whose input
// shape is only known from the data, or on types without GPUs pass unchecked. Throws
// ValueError naming HyperParameters.model_config when the config does not parse.
MemoryPreflight check_job_memory(const TrainingJobSpec& spec,
                                 const platform::InstanceType& instance_type,
                                 const platform::InstanceCatalog& catalog);

}  // namespace trainyard::jobs
