// Weight initializers with Keras's formulas (keras-semantics.md section 1.10). An
// Initializer is a value: build it from a Keras identifier ("glorot_uniform") or with the
// factory functions below, and it fills tensors reproducibly from its seed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/tensor.h"

namespace trainyard::nn {

struct Initializer {
  // Keras identifier: glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform,
  // lecun_normal, zeros, ones, constant, random_normal, random_uniform, truncated_normal,
  // variance_scaling.
  std::string name = "glorot_uniform";
  double mean = 0.0;                              // random_normal, truncated_normal
  double stddev = 0.05;                           // random_normal, truncated_normal
  double minval = -0.05;                          // random_uniform
  double maxval = 0.05;                           // random_uniform
  double value = 0.0;                             // constant
  double scale = 1.0;                             // variance_scaling
  std::string mode = "fan_in";                    // variance_scaling: fan_in, fan_out, fan_avg
  std::string distribution = "truncated_normal";  // variance_scaling: truncated_normal,
                                                  // untruncated_normal, uniform
  // Unset: drawn from the global seed stream (set_random_seed) when the tensor is filled.
  std::optional<uint64_t> seed;

  Initializer() = default;
  Initializer(const char* identifier);         // NOLINT(google-explicit-constructor)
  Initializer(const std::string& identifier);  // NOLINT(google-explicit-constructor)

  // Fills `tensor` (float32 or float64, on the CPU). Throws ValueError for an unknown
  // identifier, naming it and listing the known ones.
  void fill(const Tensor& tensor) const;
};

// fan_in and fan_out as Keras computes them from a weight shape.
struct Fans {
  double fan_in;
  double fan_out;
};
Fans compute_fans(const Shape& shape);

namespace initializers {
Initializer RandomNormal(double mean = 0.0, double stddev = 0.05,
                         std::optional<uint64_t> seed = std::nullopt);
Initializer RandomUniform(double minval = -0.05, double maxval = 0.05,
                          std::optional<uint64_t> seed = std::nullopt);
Initializer TruncatedNormal(double mean = 0.0, double stddev = 0.05,
                            std::optional<uint64_t> seed = std::nullopt);
Initializer Constant(double value);
Initializer VarianceScaling(double scale, std::string mode, std::string distribution,
                            std::optional<uint64_t> seed = std::nullopt);
Initializer GlorotUniform(std::optional<uint64_t> seed = std::nullopt);
Initializer GlorotNormal(std::optional<uint64_t> seed = std::nullopt);
Initializer HeUniform(std::optional<uint64_t> seed = std::nullopt);
Initializer HeNormal(std::optional<uint64_t> seed = std::nullopt);
}  // namespace initializers

}  // namespace trainyard::nn
