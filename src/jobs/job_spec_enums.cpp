#include "jobs/job_spec.h"
#include "jobs/model_enums.h"

namespace trainyard::jobs {

const std::vector<std::string_view>& training_instance_types() {
  static const std::vector<std::string_view> values = [] {
    std::vector<std::string_view> all = sagemaker_training_instance_types();
    all.push_back(kLocalInstanceType);
    all.push_back(kLocalGpuInstanceType);
    return all;
  }();
  return values;
}

bool is_local_instance_type(std::string_view instance_type) {
  return instance_type == kLocalInstanceType || instance_type == kLocalGpuInstanceType;
}

TrainingInputMode effective_input_mode(const TrainingJobSpec& spec, const Channel& channel) {
  if (channel.input_mode) return *channel.input_mode;
  if (spec.algorithm_specification) return spec.algorithm_specification->training_input_mode;
  return TrainingInputMode::kFile;
}

}  // namespace trainyard::jobs
