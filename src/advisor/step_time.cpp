#include "advisor/step_time.h"

#include <string>

#include "core/error.h"

namespace trainyard::advisor {
namespace {

void require_positive(double value, const char* field) {
  if (!(value > 0)) {
    throw ValueError(std::string("step time: ") + field + " must be positive, got " +
                     std::to_string(value));
  }
}

}  // namespace

double ring_all_reduce_seconds(int64_t gradient_bytes, int total_gpus,
                               double slowest_link_bytes_per_second) {
  if (total_gpus <= 1) return 0;
  require_positive(slowest_link_bytes_per_second, "link bandwidth");
  const double share = 2.0 * (total_gpus - 1) / total_gpus;
  return share * static_cast<double>(gradient_bytes) / slowest_link_bytes_per_second;
}

StepTime estimate_step_time(const StepInputs& inputs) {
  require_positive(static_cast<double>(inputs.global_batch), "global batch");
  require_positive(inputs.total_gpus, "GPU count");
  require_positive(inputs.instances, "instance count");
  require_positive(inputs.peak_flops_per_gpu, "peak rate");
  require_positive(inputs.efficiency, "efficiency");
  if (inputs.efficiency > 1) {
    throw ValueError("step time: efficiency " + std::to_string(inputs.efficiency) +
                     " is above 1 (the share of peak a step reaches)");
  }
  if (inputs.calls_per_step < 0 || inputs.seconds_per_call < 0) {
    throw ValueError("step time: calls per step and seconds per call must not be negative");
  }
  StepTime time;
  time.per_gpu_batch = (inputs.global_batch + inputs.total_gpus - 1) / inputs.total_gpus;
  time.compute_seconds = static_cast<double>(inputs.training_flops_per_sample) *
                         static_cast<double>(time.per_gpu_batch) /
                         (inputs.peak_flops_per_gpu * inputs.efficiency);
  // Added, not overlapped: a small step is a chain of kernels each at its floor, and a
  // large one's arithmetic dwarfs the floors.
  time.call_seconds = static_cast<double>(inputs.calls_per_step) * inputs.seconds_per_call;
  const double slowest_link = inputs.instances > 1 ? inputs.inter_instance_bytes_per_second
                                                   : inputs.intra_instance_bytes_per_second;
  time.all_reduce_seconds =
      ring_all_reduce_seconds(inputs.gradient_bytes, inputs.total_gpus, slowest_link);
  return time;
}

}  // namespace trainyard::advisor
