// What the CUDA backend tests share: a skip with the reason printed when no GPU is present,
// moves between host and device, fresh random inputs, NaN-poisoned outputs (so an element a
// kernel never wrote fails the comparison), and the relative error ||out - ref|| / ||ref||
// against a float64 reference computed by the CPU backend.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "backend/backend.h"
#include "backend/cuda/cuda_backend.h"
#include "core/tensor.h"

namespace trainyard::cuda_test {

// The backend of cuda:0, or null with `reason` set when this machine has no usable GPU.
inline backend::cuda::CudaBackend* gpu_or_null(std::string* reason) {
  if (backend::cuda::cuda_device_count(reason) == 0) return nullptr;
  return &backend::cuda::cuda_backend(0);
}

// Base fixture: every test in it skips with the reason when there is no GPU, and gets the
// backend as gpu() and a fresh random engine (seed printed on failure) as random().
class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason;
    gpu_ = gpu_or_null(&reason);
    if (gpu_ == nullptr) GTEST_SKIP() << "no GPU, CUDA test skipped: " << reason;
    seed_ = std::random_device{}();
    random_.seed(seed_);
    RecordProperty("seed", std::to_string(seed_));
    SCOPED_TRACE("seed " + std::to_string(seed_));
  }
  backend::cuda::CudaBackend& gpu() { return *gpu_; }
  std::mt19937_64& random() { return random_; }
  uint64_t seed() const { return seed_; }

  // A host tensor of `dtype` with values uniform in [low, high).
  Tensor random_host(const Shape& shape, DType dtype = DType::kFloat32, double low = -1.0,
                     double high = 1.0) {
    std::uniform_real_distribution<double> uniform(low, high);
    Tensor host = Tensor::zeros(shape, dtype);
    for (int64_t i = 0; i < host.num_elements(); ++i) {
      if (dtype == DType::kFloat32) {
        host.data<float>()[i] = static_cast<float>(uniform(random_));
      } else {
        host.data<double>()[i] = uniform(random_);
      }
    }
    return host;
  }
  // `host` on the GPU.
  Tensor on_gpu(const Tensor& host) { return backend::to_device(host, gpu().device()); }
  // A GPU tensor whose every element is NaN, for outputs that must be fully written.
  Tensor poisoned(const Shape& shape, DType dtype = DType::kFloat32) {
    Tensor host = Tensor::zeros(shape, dtype);
    host.fill(std::numeric_limits<double>::quiet_NaN());
    return on_gpu(host);
  }

 private:
  backend::cuda::CudaBackend* gpu_ = nullptr;
  std::mt19937_64 random_;
  uint64_t seed_ = 0;
};

// `tensor` on the host (a copy when it lives on a GPU).
inline Tensor on_host(const Tensor& tensor) {
  return backend::to_device(tensor, cpu_device());
}

// The same values as a float64 host tensor: the CPU backend's reference runs on these.
inline Tensor as_float64(const Tensor& tensor) {
  Tensor host = on_host(tensor);
  return host.dtype() == DType::kFloat64 ? host.clone() : host.cast(DType::kFloat64);
}

// ||got - reference|| / ||reference|| over all elements (both moved to the host); infinity
// when any element of `got` is NaN or infinite, or the shapes differ.
inline double relative_error(const Tensor& got, const Tensor& reference) {
  Tensor a = as_float64(got), b = as_float64(reference);
  if (a.num_elements() != b.num_elements()) return std::numeric_limits<double>::infinity();
  double difference = 0, norm = 0;
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    const double x = a.data<double>()[i], y = b.data<double>()[i];
    if (!std::isfinite(x)) return std::numeric_limits<double>::infinity();
    difference += (x - y) * (x - y);
    norm += y * y;
  }
  if (norm == 0) return std::sqrt(difference);
  return std::sqrt(difference / norm);
}

// Bounds from METHOD: float32 arithmetic lands far under 1e-3 (1e-5 for short chains of
// operations, 1e-4 for long reductions); TF32 near 3e-4, so 2e-3 allows for sums.
constexpr double kFloat32Bound = 1e-5;
constexpr double kFloat32ReductionBound = 1e-4;
constexpr double kTf32Bound = 2e-3;

}  // namespace trainyard::cuda_test
