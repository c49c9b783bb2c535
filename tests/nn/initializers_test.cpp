#include "nn/initializers.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/random.h"

namespace trainyard::nn {
namespace {

struct Moments {
  double mean = 0, stddev = 0, min = INFINITY, max = -INFINITY;
};

Moments moments(const Tensor& tensor) {
  Moments m;
  const float* v = tensor.data<float>();
  int64_t n = tensor.num_elements();
  for (int64_t i = 0; i < n; ++i) {
    m.mean += v[i];
    m.min = std::min<double>(m.min, v[i]);
    m.max = std::max<double>(m.max, v[i]);
  }
  m.mean /= double(n);
  for (int64_t i = 0; i < n; ++i) m.stddev += (v[i] - m.mean) * (v[i] - m.mean);
  m.stddev = std::sqrt(m.stddev / double(n));
  return m;
}

Tensor filled(const Initializer& initializer, const Shape& shape) {
  Tensor tensor = Tensor::zeros(shape);
  initializer.fill(tensor);
  return tensor;
}

TEST(InitializersTest, GlorotUniformUsesKerasLimit) {
  // L = sqrt(6 / (fan_in + fan_out)); uniform stddev = L / sqrt(3).
  Moments m = moments(filled(initializers::GlorotUniform(1), {784, 128}));
  double limit = std::sqrt(6.0 / (784 + 128));
  EXPECT_LE(m.max, limit);
  EXPECT_GE(m.min, -limit);
  EXPECT_GT(m.max, 0.99 * limit);
  EXPECT_NEAR(m.stddev, limit / std::sqrt(3.0), 0.01 * limit);
  EXPECT_NEAR(m.mean, 0.0, 0.01 * limit);
}

TEST(InitializersTest, HeNormalIsTruncatedWithCorrectedStddev) {
  // he_normal: truncated normal whose *resulting* stddev is sqrt(2 / fan_in), cut at 2 sigma
  // of the pre-truncation distribution sqrt(2 / fan_in) / 0.8796.
  Moments m = moments(filled(initializers::HeNormal(3), {400, 300}));
  double target = std::sqrt(2.0 / 400);
  EXPECT_NEAR(m.stddev, target, 0.02 * target);
  double sigma = target / 0.87962566103423978;
  EXPECT_LE(m.max, 2 * sigma);
  EXPECT_GE(m.min, -2 * sigma);
}

TEST(InitializersTest, ConvolutionFansIncludeReceptiveField) {
  Fans fans = compute_fans(Shape{3, 3, 16, 32});
  EXPECT_EQ(fans.fan_in, 9 * 16);
  EXPECT_EQ(fans.fan_out, 9 * 32);
  Fans vector = compute_fans(Shape{10});
  EXPECT_EQ(vector.fan_in, 10);
}

TEST(InitializersTest, SimpleInitializers) {
  EXPECT_EQ(moments(filled("zeros", {5, 5})).max, 0.0);
  EXPECT_EQ(moments(filled("ones", {5, 5})).min, 1.0);
  EXPECT_EQ(moments(filled(initializers::Constant(2.5), {3})).mean, 2.5);
  Moments uniform = moments(filled(initializers::RandomUniform(-0.05, 0.05, 9), {200, 200}));
  EXPECT_GE(uniform.min, -0.05);
  EXPECT_LT(uniform.max, 0.05);
  Moments normal = moments(filled(initializers::RandomNormal(0.0, 0.05, 9), {200, 200}));
  EXPECT_NEAR(normal.stddev, 0.05, 0.001);
  Moments truncated = moments(filled(initializers::TruncatedNormal(0.0, 0.05, 9), {200, 200}));
  EXPECT_LE(truncated.max, 0.1);
  EXPECT_GE(truncated.min, -0.1);
}

TEST(InitializersTest, SeedsMakeValuesReproducible) {
  Tensor a = filled(initializers::GlorotUniform(5), {10, 10});
  Tensor b = filled(initializers::GlorotUniform(5), {10, 10});
  Tensor c = filled(initializers::GlorotUniform(6), {10, 10});
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  EXPECT_NE(a.to_vector<float>(), c.to_vector<float>());
  set_random_seed(11);
  Tensor d = filled("glorot_uniform", {10, 10});
  set_random_seed(11);
  Tensor e = filled("glorot_uniform", {10, 10});
  EXPECT_EQ(d.to_vector<float>(), e.to_vector<float>());
}

TEST(InitializersTest, UnknownNameListsKnownOnes) {
  try {
    filled("glorot_uniformm", {2, 2});
    FAIL();
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what()).find("glorot_uniformm"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("he_normal"), std::string::npos);
  }
}

}  // namespace
}  // namespace trainyard::nn
