// Portable SIMD vectors for the CPU kernels that are register-blocked by hand (the direct
// convolutions): GCC vector extensions sized to the widest vector unit the build targets, so
// one source compiles to AVX-512, AVX2 or SSE. Internal to the CPU backend.
#pragma once

#include <cstdint>
#include <cstring>

namespace trainyard::backend::cpu::simd {

#if defined(__AVX512F__)
inline constexpr int kVectorBytes = 64;
inline constexpr int kVectorRegisters = 32;
#elif defined(__AVX__)
inline constexpr int kVectorBytes = 32;
inline constexpr int kVectorRegisters = 16;
#else
inline constexpr int kVectorBytes = 16;
inline constexpr int kVectorRegisters = 16;
#endif

// Accumulators a register tile may hold, leaving registers for the operands it loads.
inline constexpr int kMaxAccumulators = kVectorRegisters * 7 / 8;

// Vec<T>: kVectorBytes of T. `vector * scalar` broadcasts the scalar, and `acc += a * b`
// compiles to a fused multiply-add.
template <typename T>
struct VecOf {
  typedef T type __attribute__((vector_size(kVectorBytes)));
};
template <typename T>
using Vec = typename VecOf<T>::type;

template <typename T>
inline constexpr int64_t kLanes = kVectorBytes / static_cast<int64_t>(sizeof(T));

// Unaligned load and store of one vector.
template <typename T>
inline Vec<T> load(const T* source) {
  Vec<T> value;
  std::memcpy(&value, source, sizeof value);
  return value;
}
template <typename T>
inline void store(T* destination, Vec<T> value) {
  std::memcpy(destination, &value, sizeof value);
}
// Stores the first `count` lanes (1 <= count <= kLanes<T>).
template <typename T>
inline void store_first(T* destination, Vec<T> value, int64_t count) {
  std::memcpy(destination, &value, static_cast<size_t>(count) * sizeof(T));
}

// `count` rounded up to whole vectors of T.
template <typename T>
inline int64_t padded_to_lanes(int64_t count) {
  return (count + kLanes<T> - 1) / kLanes<T> * kLanes<T>;
}

}  // namespace trainyard::backend::cpu::simd
