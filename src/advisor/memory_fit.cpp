#include "advisor/memory_fit.h"

#include "advisor/memory_estimate.h"

namespace trainyard::advisor {

// A GPU's view: the CUDA caching allocator's rounding and cuDNN's workspace bound.
std::optional<uint64_t> training_memory_needed(const keras::Model& model, int64_t per_gpu_batch,
                                               const std::string& optimizer) {
  return estimate_training_memory(model, per_gpu_batch, optimizer, Device("cuda:0")).total();
}

}  // namespace trainyard::advisor
