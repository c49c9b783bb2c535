#include "backend/cuda/pinned_staging.h"

#include <cstring>

#include "backend/cuda/cuda_check.h"

namespace trainyard::backend::cuda {

PinnedStaging::PinnedStaging(cudaStream_t stream) : stream_(stream) {}

PinnedStaging::~PinnedStaging() {
  for (Slot& slot : slots_) {
    if (slot.read != nullptr) {
      cudaEventSynchronize(slot.read);
      cudaEventDestroy(slot.read);
    }
    if (slot.data != nullptr) cudaFreeHost(slot.data);
  }
}

void PinnedStaging::copy_to_device(void* device_destination, const void* host_source,
                                   size_t bytes) {
  if (bytes > kLargestStaged) {
    TY_CUDA_CHECK(
        cudaMemcpyAsync(device_destination, host_source, bytes, cudaMemcpyHostToDevice, stream_));
    return;
  }
  Slot& slot = slots_[next_];
  next_ = (next_ + 1) % kSlots;
  if (slot.read == nullptr) {
    TY_CUDA_CHECK(cudaEventCreateWithFlags(&slot.read, cudaEventDisableTiming));
  } else {
    // Usually long done: four copies ago.
    TY_CUDA_CHECK(cudaEventSynchronize(slot.read));
  }
  if (slot.bytes < bytes) {
    if (slot.data != nullptr) TY_CUDA_CHECK(cudaFreeHost(slot.data));
    slot.data = nullptr;
    slot.bytes = 0;
    TY_CUDA_CHECK(cudaHostAlloc(&slot.data, bytes, cudaHostAllocDefault));
    slot.bytes = bytes;
  }
  std::memcpy(slot.data, host_source, bytes);
  TY_CUDA_CHECK(
      cudaMemcpyAsync(device_destination, slot.data, bytes, cudaMemcpyHostToDevice, stream_));
  TY_CUDA_CHECK(cudaEventRecord(slot.read, stream_));
}

}  // namespace trainyard::backend::cuda
