// Instance-type value sets of SageMaker's model (generated into model_enums.cpp), plus the
// local types trainyard adds for running on the machine it is started on.
#pragma once

#include <string_view>
#include <vector>

namespace trainyard::jobs {

// Runs the job on this machine's CPUs.
inline constexpr std::string_view kLocalInstanceType = "local";
// Runs the job on this machine's GPUs.
inline constexpr std::string_view kLocalGpuInstanceType = "local_gpu";

// SageMaker's TrainingInstanceType enum, in the model's order (145 values in botocore 1.43).
const std::vector<std::string_view>& sagemaker_training_instance_types();
// What ResourceConfig.InstanceType accepts in trainyard: SageMaker's values, then "local" and
// "local_gpu".
const std::vector<std::string_view>& training_instance_types();
// SageMaker's ProcessingInstanceType enum (Debugger and profiler rule instances).
const std::vector<std::string_view>& processing_instance_types();

// True for "local" and "local_gpu".
bool is_local_instance_type(std::string_view instance_type);

}  // namespace trainyard::jobs
