// Scratch: a byte buffer a kernel reuses from call to call. It grows on first use (while a
// plan warms up) and then never allocates again, keeping steady-state steps allocation-free.
// Its bytes count in the host's memory counters (core/memory_counter.h), so a measured peak
// includes kernel workspace.
// Not thread-safe: one per purpose per backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/memory_counter.h"

namespace trainyard::backend::cpu {

class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { count(-static_cast<int64_t>(buffer_.capacity())); }

  // At least `count` elements of T, 64-byte aligned; contents are unspecified.
  template <typename T>
  T* get(size_t count) {
    size_t bytes = count * sizeof(T) + 64;
    if (buffer_.size() < bytes) grow(bytes);
    auto address = reinterpret_cast<uintptr_t>(buffer_.data());
    return reinterpret_cast<T*>((address + 63) & ~uintptr_t{63});
  }

 private:
  void grow(size_t bytes) {
    size_t before = buffer_.capacity();
    buffer_.resize(bytes);
    this->count(static_cast<int64_t>(buffer_.capacity()) - static_cast<int64_t>(before));
  }
  static void count(int64_t bytes) {
    MemoryCounter& counter = memory_in_use(cpu_device());
    MemoryCounter& reserved = memory_reserved(cpu_device());
    if (bytes >= 0) {
      counter.add(bytes);
      reserved.add(bytes);
    } else {
      counter.remove(-bytes);
      reserved.remove(-bytes);
    }
  }

  std::vector<std::byte> buffer_;
};

}  // namespace trainyard::backend::cpu
