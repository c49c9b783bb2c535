// What a model's training step holds besides its variables, found by building the graph the
// trainer builds and planning it as a StepPlan would, without allocating.
#pragma once

#include <cstdint>
#include <vector>

#include "keras/model.h"

namespace trainyard::advisor {

struct StepActivations {
  uint64_t arena_bytes = 0;                           // the planned step arena
  uint64_t batch_bytes = 0;                           // the bound batch: inputs and targets
  std::vector<uint64_t> batch_buffer_bytes;           // the same, one entry per tensor
  std::vector<uint64_t> conv_patch_bytes_per_sample;  // im2col patches of each Conv2D
  // The CPU backend runs a bfloat16 op on float32 copies of its tensors in one buffer: the
  // largest op's inputs and output, widened.
  uint64_t float32_staging_bytes = 0;
  // Op calls of one forward and backward pass: each launches at least one kernel on a GPU,
  // which sets the step's time when its arithmetic is small (step_time.h).
  int64_t calls = 0;
};

// Plans a training step of `model` (built) at `batch_size`. Targets are assumed as Keras's
// sparse labels ([batch], sparse categorical crossentropy) for an output of rank 2 with more
// than one unit, else shaped like the output (mean squared error); either way they are a
// small part of the total.
StepActivations plan_step_activations(const keras::Model& model, int64_t batch_size);

}  // namespace trainyard::advisor
