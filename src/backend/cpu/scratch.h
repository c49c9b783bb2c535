// Scratch: a byte buffer a kernel reuses from call to call. It grows on first use (while a
// plan warms up) and then never allocates again, keeping steady-state steps allocation-free.
// Not thread-safe: one per purpose per backend.
#pragma once

#include <cstddef>
#include <vector>

namespace trainyard::backend::cpu {

class Scratch {
 public:
  // At least `count` elements of T, 64-byte aligned; contents are unspecified.
  template <typename T>
  T* get(size_t count) {
    size_t bytes = count * sizeof(T) + 64;
    if (buffer_.size() < bytes) buffer_.resize(bytes);
    auto address = reinterpret_cast<uintptr_t>(buffer_.data());
    return reinterpret_cast<T*>((address + 63) & ~uintptr_t{63});
  }

 private:
  std::vector<std::byte> buffer_;
};

}  // namespace trainyard::backend::cpu
