#include "backend/cuda/caching_allocator.h"

#include "backend/backend.h"
#include "backend/cuda/cuda_check.h"
#include "core/error.h"
#include "core/memory_counter.h"

namespace trainyard::backend::cuda {
namespace {

constexpr size_t kSmallGranularity = 512;
constexpr size_t kLargeThreshold = size_t{1} << 20;
constexpr size_t kLargeGranularity = size_t{2} << 20;

// A free block serves a request only when it wastes little: at most a quarter of it, or
// any small block twice the request at most.
bool fits(size_t block, size_t request) {
  return block - request <= block / 4 || (block < kLargeThreshold && block <= 2 * request);
}

class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    TY_CUDA_CHECK(cudaGetDevice(&previous_));
    if (previous_ != device) TY_CUDA_CHECK(cudaSetDevice(device));
    device_ = device;
  }
  ~DeviceScope() {
    if (previous_ != device_) cudaSetDevice(previous_);
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = 0;
  int device_ = 0;
};

}  // namespace

CachingAllocator::CachingAllocator(int device_index, cudaStream_t stream)
    : device_index_(device_index), stream_(stream) {}

CachingAllocator::~CachingAllocator() {
  // Backends live for the whole process; a destructor that runs at exit must not throw.
  std::lock_guard lock(mutex_);
  for (auto& [size, pointer] : free_blocks_) cudaFree(pointer);
}

size_t CachingAllocator::rounded_size(size_t bytes) {
  if (bytes == 0) bytes = 1;
  size_t granularity = bytes < kLargeThreshold ? kSmallGranularity : kLargeGranularity;
  return (bytes + granularity - 1) / granularity * granularity;
}

void* CachingAllocator::allocate(size_t bytes) {
  {
    std::lock_guard lock(mutex_);
    if (capturing_) {
      throw backend::CaptureError("cuda:" + std::to_string(device_index_) +
                                  ": a captured step asked for " + std::to_string(bytes) +
                                  " bytes of device memory");
    }
  }
  const size_t size = rounded_size(bytes);
  DeviceScope scope(device_index_);
  void* pointer = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto it = free_blocks_.lower_bound(size);
    if (it != free_blocks_.end() && fits(it->first, size)) {
      pointer = it->second;
      memory_in_use(device()).add(static_cast<int64_t>(it->first));
      cached_bytes_ -= it->first;
      free_blocks_.erase(it);
    }
  }
  if (pointer == nullptr) {
    cudaError_t status = cudaMalloc(&pointer, size);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      release_cached();
      status = cudaMalloc(&pointer, size);
    }
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      size_t free_bytes = 0, total_bytes = 0;
      cudaMemGetInfo(&free_bytes, &total_bytes);
      throw ResourceError("CUDA out of memory on cuda:" + std::to_string(device_index_) +
                          ": asked for " + std::to_string(size) + " bytes, " +
                          std::to_string(free_bytes) + " of " + std::to_string(total_bytes) +
                          " free");
    }
    TY_CUDA_CHECK(status);
    std::lock_guard lock(mutex_);
    block_sizes_[pointer] = size;
    ++driver_allocations_;
    memory_reserved(device()).add(static_cast<int64_t>(size));
    memory_in_use(device()).add(static_cast<int64_t>(size));
  }
  TY_CUDA_CHECK(cudaMemsetAsync(pointer, 0, size, stream_));
  return pointer;
}

void CachingAllocator::deallocate(void* pointer, size_t) {
  std::lock_guard lock(mutex_);
  auto it = block_sizes_.find(pointer);
  if (it == block_sizes_.end()) return;  // not ours: nothing safe to do in a destructor path
  if (capturing_) deallocated_while_capturing_ = true;
  free_blocks_.emplace(it->second, pointer);
  cached_bytes_ += it->second;
  memory_in_use(device()).remove(static_cast<int64_t>(it->second));
}

void CachingAllocator::set_capturing(bool capturing) {
  std::lock_guard lock(mutex_);
  capturing_ = capturing;
  if (capturing) deallocated_while_capturing_ = false;
}

bool CachingAllocator::deallocated_while_capturing() const {
  std::lock_guard lock(mutex_);
  return deallocated_while_capturing_;
}

Device CachingAllocator::device() const {
  return Device(DeviceType::kCuda, device_index_);
}

int64_t CachingAllocator::driver_allocation_count() const {
  std::lock_guard lock(mutex_);
  return driver_allocations_;
}

size_t CachingAllocator::cached_bytes() const {
  std::lock_guard lock(mutex_);
  return cached_bytes_;
}

void CachingAllocator::release_cached() {
  DeviceScope scope(device_index_);
  TY_CUDA_CHECK(cudaStreamSynchronize(stream_));
  std::lock_guard lock(mutex_);
  for (auto& [size, pointer] : free_blocks_) {
    cudaFree(pointer);
    block_sizes_.erase(pointer);
    memory_reserved(device()).remove(static_cast<int64_t>(size));
  }
  free_blocks_.clear();
  cached_bytes_ = 0;
}

}  // namespace trainyard::backend::cuda
