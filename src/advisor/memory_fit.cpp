#include "advisor/memory_fit.h"

namespace trainyard::advisor {

// The memory estimate (estimate_training_memory) lands in this library separately; until
// it is wired here, every fit is reported as unknown rather than guessed.
std::optional<uint64_t> training_memory_needed(const keras::Model& /*model*/,
                                               int64_t /*per_gpu_batch*/,
                                               const std::string& /*optimizer*/) {
  return std::nullopt;
}

}  // namespace trainyard::advisor
