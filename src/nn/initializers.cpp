#include "nn/initializers.h"

#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/random.h"

namespace trainyard::nn {
namespace {

// Standard deviation of a unit normal truncated to [-2, 2]: dividing by it makes the
// truncated samples' standard deviation the one asked for (Keras's VarianceScaling).
constexpr double kTruncatedStddevCorrection = 0.87962566103423978;

double truncated_normal(RandomGenerator& generator, double mean, double stddev) {
  for (;;) {
    double sample = generator.normal();
    if (std::abs(sample) <= 2.0) return mean + stddev * sample;
  }
}

void fill_values(const Tensor& tensor, const std::vector<double>& values) {
  if (tensor.dtype() == DType::kFloat32) {
    float* out = tensor.data<float>();
    for (size_t i = 0; i < values.size(); ++i) out[i] = static_cast<float>(values[i]);
  } else if (tensor.dtype() == DType::kFloat64) {
    double* out = tensor.data<double>();
    for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  } else {
    throw ValueError("initializers fill float32 or float64 tensors, got " + tensor.to_string());
  }
}

Initializer with_name(std::string name, std::optional<uint64_t> seed) {
  Initializer initializer;
  initializer.name = std::move(name);
  initializer.seed = seed;
  return initializer;
}

}  // namespace

Initializer::Initializer(const char* identifier) : name(identifier) {}
Initializer::Initializer(const std::string& identifier) : name(identifier) {}

Fans compute_fans(const Shape& shape) {
  if (shape.rank() == 0) return {1, 1};
  if (shape.rank() == 1) return {double(shape[0]), double(shape[0])};
  if (shape.rank() == 2) return {double(shape[0]), double(shape[1])};
  double receptive_field = 1;
  for (int64_t i = 0; i < shape.rank() - 2; ++i) receptive_field *= double(shape[i]);
  return {double(shape[-2]) * receptive_field, double(shape[-1]) * receptive_field};
}

void Initializer::fill(const Tensor& tensor) const {
  size_t count = static_cast<size_t>(tensor.num_elements());
  std::vector<double> values(count, 0.0);
  RandomGenerator generator(seed.value_or(next_random_seed()));

  std::string kind = name;
  double vs_scale = scale;
  std::string vs_mode = mode, vs_distribution = distribution;
  if (kind == "glorot_uniform" || kind == "glorot_normal") {
    vs_scale = 1.0;
    vs_mode = "fan_avg";
    vs_distribution = kind == "glorot_uniform" ? "uniform" : "truncated_normal";
    kind = "variance_scaling";
  } else if (kind == "he_uniform" || kind == "he_normal") {
    vs_scale = 2.0;
    vs_mode = "fan_in";
    vs_distribution = kind == "he_uniform" ? "uniform" : "truncated_normal";
    kind = "variance_scaling";
  } else if (kind == "lecun_uniform" || kind == "lecun_normal") {
    vs_scale = 1.0;
    vs_mode = "fan_in";
    vs_distribution = kind == "lecun_uniform" ? "uniform" : "truncated_normal";
    kind = "variance_scaling";
  }

  if (kind == "zeros") {
  } else if (kind == "ones") {
    std::fill(values.begin(), values.end(), 1.0);
  } else if (kind == "constant") {
    std::fill(values.begin(), values.end(), value);
  } else if (kind == "random_normal") {
    for (double& v : values) v = mean + stddev * generator.normal();
  } else if (kind == "random_uniform" || kind == "uniform") {
    for (double& v : values) v = minval + (maxval - minval) * generator.uniform();
  } else if (kind == "truncated_normal") {
    for (double& v : values) v = truncated_normal(generator, mean, stddev);
  } else if (kind == "variance_scaling") {
    Fans fans = compute_fans(tensor.shape());
    double n = vs_mode == "fan_in"    ? fans.fan_in
               : vs_mode == "fan_out" ? fans.fan_out
               : vs_mode == "fan_avg" ? (fans.fan_in + fans.fan_out) / 2.0
                                      : -1;
    if (n < 0) throw ValueError("variance_scaling: unknown mode '" + vs_mode + "'");
    double s = vs_scale / std::max(1.0, n);
    if (vs_distribution == "uniform") {
      double limit = std::sqrt(3.0 * s);
      for (double& v : values) v = -limit + 2.0 * limit * generator.uniform();
    } else if (vs_distribution == "truncated_normal") {
      double sigma = std::sqrt(s) / kTruncatedStddevCorrection;
      for (double& v : values) v = truncated_normal(generator, 0.0, sigma);
    } else if (vs_distribution == "untruncated_normal") {
      for (double& v : values) v = std::sqrt(s) * generator.normal();
    } else {
      throw ValueError("variance_scaling: unknown distribution '" + vs_distribution + "'");
    }
  } else {
    throw ValueError("unknown initializer '" + name +
                     "' (known: glorot_uniform, glorot_normal, he_uniform, he_normal, "
                     "lecun_uniform, lecun_normal, zeros, ones, constant, random_normal, "
                     "random_uniform, truncated_normal, variance_scaling)");
  }
  fill_values(tensor, values);
}

namespace initializers {

Initializer RandomNormal(double mean, double stddev, std::optional<uint64_t> seed) {
  Initializer initializer = with_name("random_normal", seed);
  initializer.mean = mean;
  initializer.stddev = stddev;
  return initializer;
}

Initializer RandomUniform(double minval, double maxval, std::optional<uint64_t> seed) {
  Initializer initializer = with_name("random_uniform", seed);
  initializer.minval = minval;
  initializer.maxval = maxval;
  return initializer;
}

Initializer TruncatedNormal(double mean, double stddev, std::optional<uint64_t> seed) {
  Initializer initializer = with_name("truncated_normal", seed);
  initializer.mean = mean;
  initializer.stddev = stddev;
  return initializer;
}

Initializer Constant(double value) {
  Initializer initializer = with_name("constant", std::nullopt);
  initializer.value = value;
  return initializer;
}

Initializer VarianceScaling(double scale, std::string mode, std::string distribution,
                            std::optional<uint64_t> seed) {
  Initializer initializer = with_name("variance_scaling", seed);
  initializer.scale = scale;
  initializer.mode = std::move(mode);
  initializer.distribution = std::move(distribution);
  return initializer;
}

Initializer GlorotUniform(std::optional<uint64_t> seed) {
  return with_name("glorot_uniform", seed);
}
Initializer GlorotNormal(std::optional<uint64_t> seed) {
  return with_name("glorot_normal", seed);
}
Initializer HeUniform(std::optional<uint64_t> seed) {
  return with_name("he_uniform", seed);
}
Initializer HeNormal(std::optional<uint64_t> seed) {
  return with_name("he_normal", seed);
}

}  // namespace initializers
}  // namespace trainyard::nn
