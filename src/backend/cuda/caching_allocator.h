// CachingAllocator: device memory for one GPU, handed out from blocks it keeps after their
// first use, so a training step in its steady state never calls cudaMalloc. Blocks are
// reused in stream order: the backend queues all work on one stream, so a block freed by
// one kernel's owner is only touched again by work queued after it.
// Bytes handed out and bytes reserved from the driver count in core/memory_counter.h's
// counters of its device (handed out at block size, so the rounding shows in the peak).
// Thread safety: all members may be called from any thread.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <mutex>

#include "core/storage.h"

namespace trainyard::backend::cuda {

class CachingAllocator final : public Allocator {
 public:
  CachingAllocator(int device_index, cudaStream_t stream);
  ~CachingAllocator() override;
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // Zero-filled (queued on the stream) like the host allocator's memory, aligned to 256
  // bytes. Throws ResourceError when the device is out of memory even after the cache is
  // returned to the driver.
  void* allocate(size_t bytes) override;
  void deallocate(void* pointer, size_t bytes) override;
  Device device() const override;

  // cudaMalloc calls made so far: flat in a steady state.
  int64_t driver_allocation_count() const;
  // Bytes held in free blocks, ready for reuse.
  size_t cached_bytes() const;
  // Returns every free block to the driver (after the stream drains).
  void release_cached();

  // While a stream capture records a step, handing out memory would bake a block the graph
  // does not own into it: allocate() then throws CaptureError, and a block freed meanwhile
  // is noted (deallocated_while_capturing) so the capture is dropped.
  void set_capturing(bool capturing);
  bool deallocated_while_capturing() const;

  // Requests are rounded up to this granularity, so slightly different sizes share blocks.
  static size_t rounded_size(size_t bytes);

 private:
  int device_index_;
  cudaStream_t stream_;
  mutable std::mutex mutex_;
  std::multimap<size_t, void*> free_blocks_;  // by size, for best fit
  std::map<void*, size_t> block_sizes_;       // every block handed out or cached
  size_t cached_bytes_ = 0;
  int64_t driver_allocations_ = 0;
  bool capturing_ = false;
  bool deallocated_while_capturing_ = false;
};

}  // namespace trainyard::backend::cuda
