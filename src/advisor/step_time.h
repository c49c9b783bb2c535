// Time of one data-parallel training step: the per-GPU compute at the GPU's peak rate
// times an efficiency, a floor per kernel the step launches, and a ring all-reduce of the
// gradients.
#pragma once

#include <cstdint>

namespace trainyard::advisor {

// What a step's time depends on, for one instance type and count.
struct StepInputs {
  int64_t training_flops_per_sample = 0;
  int64_t global_batch = 0;  // samples per step, all GPUs together
  int total_gpus = 1;        // instances x GPUs per instance
  int instances = 1;
  double peak_flops_per_gpu = 0;  // at the step's precision
  double efficiency = 0;          // share of peak reached, (0, 1]
  int64_t calls_per_step = 0;     // op calls of a forward and backward pass, one kernel each
  double seconds_per_call = 0;    // the least time one of them takes on the GPU
  int64_t gradient_bytes = 0;
  double intra_instance_bytes_per_second = 0;
  double inter_instance_bytes_per_second = 0;
};

struct StepTime {
  int64_t per_gpu_batch = 0;  // the global batch split evenly, rounded up
  double compute_seconds = 0;
  double call_seconds = 0;  // calls_per_step x seconds_per_call
  double all_reduce_seconds = 0;
  double seconds() const { return compute_seconds + call_seconds + all_reduce_seconds; }
};

// Ring all-reduce over N GPUs sends 2(N-1)/N of the gradient bytes through the slowest
// link of the ring: the network between instances when there are several, else the
// GPU-to-GPU link. One GPU needs no all-reduce.
double ring_all_reduce_seconds(int64_t gradient_bytes, int total_gpus,
                               double slowest_link_bytes_per_second);

// Throws ValueError when a count, rate or efficiency is not positive, or a call count or
// time is negative.
StepTime estimate_step_time(const StepInputs& inputs);

}  // namespace trainyard::advisor
