// A reference-counted block of device memory that tensors view. Every block comes from an
// Allocator, and every allocation is counted so tests can prove a steady state allocates
// nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/device.h"

namespace trainyard {

// Hands out raw device memory. Implementations must be thread-safe.
class Allocator {
 public:
  virtual ~Allocator() = default;
  // Returns memory of at least `bytes` bytes aligned to 64 bytes; throws on failure.
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* pointer, size_t bytes) = 0;
  virtual Device device() const = 0;
};

// The host allocator (64-byte aligned, zero-filled).
Allocator& cpu_allocator();

// Allocations made through any Allocator owned by trainyard since the process started.
int64_t storage_allocation_count();

class Storage {
 public:
  // Allocates `bytes` bytes from `allocator`.
  Storage(size_t bytes, Allocator& allocator);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return allocator_->device(); }

 private:
  void* data_;
  size_t bytes_;
  Allocator* allocator_;
};

namespace detail {
void count_storage_allocation();
}  // namespace detail

}  // namespace trainyard
