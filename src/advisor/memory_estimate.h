// The training memory a model needs per GPU (per replica) at a batch size, predicted from
// the graph trainyard would plan for it, so a job can be refused before it starts rather
// than run out of memory (docs/advisor.md, "Memory estimate", gives the formula).
#pragma once

#include <cstdint>
#include <string>

#include "core/device.h"
#include "keras/model.h"
#include "nn/optimizers/optimizer.h"

namespace trainyard::advisor {

struct MemoryEstimate {             // bytes per GPU (per replica)
  uint64_t parameters = 0;          // trainable (packed) and non-trainable variables
  uint64_t gradients = 0;           // one packed buffer shaped like the trainable ones
  uint64_t optimizer_slots = 0;     // the optimizer's slots, each shaped like the parameters
  uint64_t activations = 0;         // the step arena at its fullest plus the bound batch
  uint64_t workspace = 0;           // convolution scratch (im2col patches, cuDNN workspace)
  uint64_t allocator_overhead = 0;  // rounding of every allocation to the allocator's sizes
  uint64_t total() const;
};

// The training memory of `model` (built; compiled or not) at `batch_size` samples per
// replica under its layers' dtype policy, on `device`'s allocator. `optimizer` is a Keras
// name ("adam", "sgd", "rmsprop"; Keras's defaults, so "sgd" has no momentum slot); empty
// takes the model's compiled optimizer. Throws ValueError for an unbuilt model, a batch
// size below 1, an unknown optimizer, or an empty name on an uncompiled model.
MemoryEstimate estimate_training_memory(const keras::Model& model, int64_t batch_size,
                                        const std::string& optimizer, Device device);
// The same with a configured optimizer (SGD with momentum keeps one slot, without none).
MemoryEstimate estimate_training_memory(const keras::Model& model, int64_t batch_size,
                                        const nn::Optimizer& optimizer, Device device);

}  // namespace trainyard::advisor
