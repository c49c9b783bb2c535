// PinnedStaging: the page-locked host buffers that host-to-device copies pass through, so each
// copy is a DMA queued on the stream and the caller's (pageable) buffer is free as soon as the
// call returns. Slots are reused round robin, each only after the GPU has finished reading it.
// Thread safety: one thread at a time, like the backend that owns it.
#pragma once

#include <cuda_runtime.h>

#include <array>
#include <cstddef>

namespace trainyard::backend::cuda {

class PinnedStaging {
 public:
  explicit PinnedStaging(cudaStream_t stream);
  ~PinnedStaging();
  PinnedStaging(const PinnedStaging&) = delete;
  PinnedStaging& operator=(const PinnedStaging&) = delete;

  // Queues device_destination = the `bytes` at host_source on the stream.
  void copy_to_device(void* device_destination, const void* host_source, size_t bytes);

  // Copies above this size (moving a whole model or dataset) go straight from pageable
  // memory rather than pinning that much host memory.
  static constexpr size_t kLargestStaged = size_t{64} << 20;

 private:
  struct Slot {
    void* data = nullptr;
    size_t bytes = 0;
    cudaEvent_t read = nullptr;  // recorded after the copy that last read this slot
  };
  // A training step stages its inputs and targets: four slots let two steps' copies be queued.
  static constexpr size_t kSlots = 4;

  cudaStream_t stream_;
  std::array<Slot, kSlots> slots_{};
  size_t next_ = 0;
};

}  // namespace trainyard::backend::cuda
