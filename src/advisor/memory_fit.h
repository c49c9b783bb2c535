// The one place `trainyard advise` asks how much GPU memory a training step needs, so the
// memory estimate of src/advisor plugs in here and nowhere else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace trainyard::keras {
class Model;
}

namespace trainyard::advisor {

// Bytes one GPU needs to train `model` at `per_gpu_batch` samples with `optimizer` (a Keras
// name), from estimate_training_memory; empty when no estimate can be made (advise then
// shows fits? as unknown). Throws ValueError as estimate_training_memory does.
std::optional<uint64_t> training_memory_needed(const keras::Model& model, int64_t per_gpu_batch,
                                               const std::string& optimizer);

}  // namespace trainyard::advisor
