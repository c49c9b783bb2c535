#include "advisor/memory_estimate.h"

#include <algorithm>
#include <vector>

#include "advisor/step_activations.h"
#include "core/error.h"
#include "nn/optimizers/optimizers.h"

namespace trainyard::advisor {
namespace {

// The trainer packs each trainable variable at a 16-element boundary of one flat buffer.
constexpr int64_t kPackAlignElements = 16;
// Matches backend/cpu/conv.cpp: im2col patches are made for as many samples as fit this.
constexpr uint64_t kCpuPatchBudgetBytes = uint64_t{4} << 20;
// Matches backend/cuda/conv.cpp: cuDNN algorithms wanting more workspace are passed over.

uint64_t round_up(uint64_t bytes, uint64_t granularity) {
  if (bytes == 0) bytes = 1;
  return (bytes + granularity - 1) / granularity * granularity;
}

// What the allocator of `device` hands out for a request of `bytes`: the host's 64-byte
// alignment, or the CUDA caching allocator's 512-byte / 2 MiB blocks.
uint64_t allocated_size(uint64_t bytes, Device device) {
  if (device.is_cpu()) return round_up(bytes, 64);
  constexpr uint64_t kLargeThreshold = uint64_t{1} << 20;
  return round_up(bytes, bytes < kLargeThreshold ? 512 : uint64_t{2} << 20);
}

size_t slot_count(const keras::Model& model, const std::string& optimizer) {
  if (!optimizer.empty()) return nn::make_optimizer(optimizer)->slot_names().size();
  if (!model.compiled()) {
    throw ValueError("estimate_training_memory: model '" + model.name() +
                     "' is not compiled, so the optimizer must be named");
  }
  return model.optimizer().slot_names().size();
}

// Im2col patches of the largest convolution: CPU kernels make them for a bounded number of
// samples at a time; on CUDA a measured flat amount for cuDNN (below).
constexpr uint64_t kCudnnWorkspaceBytes = uint64_t{6} << 20;

uint64_t convolution_workspace(const StepActivations& step, int64_t batch_size, Device device) {
  uint64_t largest = 0;
  for (uint64_t per_sample : step.conv_patch_bytes_per_sample) {
    uint64_t samples = static_cast<uint64_t>(batch_size);
    if (device.is_cpu()) {
      samples =
          std::min<uint64_t>(samples, std::max<uint64_t>(1, kCpuPatchBudgetBytes / per_sample));
    }
    if (!device.is_cpu()) continue;
    largest = std::max(largest, per_sample * samples);
  }
  // cuDNN: trainyard grants up to 1 GiB (backend/cuda/conv.cpp), but the algorithms cuDNN
  // picks take far less and not in proportion to the batch: on an H200 the Fashion-MNIST
  // CNN's measured peak exceeded everything else by 4.3, 10.6 and 4.0 MB at batch 32, 256
  // and 4096. A flat kCudnnWorkspaceBytes stands for it; the grant is the bound.
  if (!device.is_cpu() && !step.conv_patch_bytes_per_sample.empty()) {
    return kCudnnWorkspaceBytes;
  }
  return largest;
}

// The estimate once the optimizer is known by its slot count.
MemoryEstimate estimate_with_slots(const keras::Model& model, int64_t batch_size, size_t slots,
                                   Device device) {
  if (!model.built()) {
    throw ValueError("estimate_training_memory: model '" + model.name() +
                     "' is not built; build it for its input shapes first");
  }
  if (batch_size < 1) {
    throw ValueError("estimate_training_memory: batch_size must be at least 1, got " +
                     std::to_string(batch_size));
  }
  MemoryEstimate estimate;
  int64_t packed_elements = 0;
  size_t element_bytes = 4;
  for (const auto& variable : model.trainable_weights()) {
    element_bytes = dtype_size(variable->value.dtype());
    packed_elements += (variable->value.num_elements() + kPackAlignElements - 1) /
                       kPackAlignElements * kPackAlignElements;
  }
  const uint64_t packed_bytes = static_cast<uint64_t>(packed_elements) * element_bytes;
  uint64_t exact_variables = packed_bytes * (2 + slots);
  uint64_t allocated_variables = allocated_size(packed_bytes, device) * (2 + slots);
  estimate.parameters = packed_bytes;
  estimate.gradients = packed_bytes;
  estimate.optimizer_slots = packed_bytes * slots;
  for (const auto& variable : model.non_trainable_weights()) {
    uint64_t bytes = variable->value.num_elements() * dtype_size(variable->value.dtype());
    estimate.parameters += bytes;
    exact_variables += bytes;
    allocated_variables += allocated_size(bytes, device);
  }

  StepActivations step = plan_step_activations(model, batch_size);
  // One device copy of the batch: the trainer gathers it on the host and stages it into
  // the step's input buffers (measured on an H200: a second device copy is not made).
  estimate.activations = step.arena_bytes + step.batch_bytes;
  estimate.workspace = convolution_workspace(step, batch_size, device);
  if (device.is_cpu()) estimate.workspace += step.float32_staging_bytes;
  uint64_t allocated_rest =
      allocated_size(step.arena_bytes, device) + allocated_size(estimate.workspace, device);
  for (uint64_t bytes : step.batch_buffer_bytes) {
    allocated_rest += allocated_size(bytes, device);
  }
  uint64_t exact_rest = step.arena_bytes + estimate.workspace + step.batch_bytes;
  estimate.allocator_overhead =
      (allocated_variables - exact_variables) + (allocated_rest - exact_rest);
  return estimate;
}

}  // namespace

uint64_t MemoryEstimate::total() const {
  return parameters + gradients + optimizer_slots + activations + workspace + allocator_overhead;
}

MemoryEstimate estimate_training_memory(const keras::Model& model, int64_t batch_size,
                                        const std::string& optimizer, Device device) {
  return estimate_with_slots(model, batch_size, slot_count(model, optimizer), device);
}

MemoryEstimate estimate_training_memory(const keras::Model& model, int64_t batch_size,
                                        const nn::Optimizer& optimizer, Device device) {
  return estimate_with_slots(model, batch_size, optimizer.slot_names().size(), device);
}

}  // namespace trainyard::advisor
