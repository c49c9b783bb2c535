// Helpers the backend tests share: tensors built from double values in either float dtype,
// the tolerance each dtype earns against a long-double reference, and a scope that fixes
// the compute pool's thread count.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace trainyard::backend_test {

using Real = long double;

// A tensor of T holding `values` rounded to T.
template <typename T>
Tensor tensor_of(const Shape& shape, const std::vector<double>& values) {
  std::vector<T> converted(values.begin(), values.end());
  return Tensor::from_vector<T>(shape, converted);
}

// The elements of a float tensor widened to long double, so references see exactly the
// values the kernel saw.
inline std::vector<Real> reals_of(const Tensor& tensor) {
  std::vector<Real> out(static_cast<size_t>(tensor.num_elements()));
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    out[static_cast<size_t>(i)] = tensor.dtype() == DType::kFloat32
                                      ? static_cast<Real>(tensor.data<float>()[i])
                                      : static_cast<Real>(tensor.data<double>()[i]);
  }
  return out;
}

// Relative tolerance for a value computed in T by a short chain of correctly rounded
// operations and library calls: a handful of units in the last place.
template <typename T>
constexpr double relative_tolerance() {
  return std::is_same_v<T, float> ? 2e-6 : 1e-13;
}
// Absolute floor under which values count as equal: a few subnormals of T, so results
// that underflow (sigmoid(-100) in float32) are judged on absolute error.
template <typename T>
constexpr double absolute_floor() {
  return std::is_same_v<T, float> ? 1e-43 : 1e-300;
}

template <typename T>
::testing::AssertionResult near_reference(double got, Real expected, double relative,
                                          const std::string& what) {
  if (!std::isfinite(got)) {
    return ::testing::AssertionFailure() << what << ": got non-finite " << got;
  }
  Real error = std::fabs(static_cast<Real>(got) - expected);
  Real allowed = static_cast<Real>(relative) * std::fabs(expected) + absolute_floor<T>();
  if (error <= allowed) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": got " << got << ", reference " << static_cast<double>(expected) << ", error "
         << static_cast<double>(error) << " > " << static_cast<double>(allowed);
}

// True when both tensors hold the same bytes.
inline bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.nbytes() == b.nbytes() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

// Sets the compute pool's size for one test and restores the previous size after it.
class ThreadCountScope {
 public:
  explicit ThreadCountScope(int threads) : previous_(num_threads()) { set_num_threads(threads); }
  ~ThreadCountScope() { set_num_threads(previous_); }
  ThreadCountScope(const ThreadCountScope&) = delete;
  ThreadCountScope& operator=(const ThreadCountScope&) = delete;

 private:
  int previous_;
};

// Deterministic pseudo-random doubles in [low, high) for test inputs (a fixed linear
// congruential sequence, independent of the engine's own generator).
inline std::vector<double> sample_values(int64_t count, uint64_t seed, double low, double high) {
  std::vector<double> values(static_cast<size_t>(count));
  uint64_t state = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (auto& value : values) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    double unit = static_cast<double>(state >> 11) * (1.0 / 9007199254740992.0);
    value = low + (high - low) * unit;
  }
  return values;
}

inline backend::Backend& cpu() {
  return backend::cpu_backend();
}

using FloatTypes = ::testing::Types<float, double>;

}  // namespace trainyard::backend_test
