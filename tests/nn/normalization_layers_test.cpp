// BatchNormalization and LayerNormalization layers: weights in Keras's order, training and
// inference modes, the moving-statistics update worked by hand over two steps, frozen
// layers, hand-computed outputs and the float64 finite-difference check through each layer.
#include <gtest/gtest.h>

#include <cmath>

#include "graph/step_plan.h"
#include "nn/layers/normalization.h"
#include "support/gradient_check.h"

namespace trainyard::nn {
namespace {

// Runs `layer` forward once on `x` in a fresh graph and returns the output.
Tensor run(Layer& layer, const Tensor& x, bool training) {
  graph::Graph graph;
  graph::NodeId input = graph.add_input("x", {x.shape(), x.dtype()});
  graph::NodeId output = layer.call(graph, input, {.training = training});
  graph::StepPlan plan(graph, {.outputs = {output}}, backend::cpu_backend());
  plan.bind_input(input, x);
  plan.forward({.training = training});
  return plan.value(output).clone();
}

void expect_values(const Tensor& got, const std::vector<double>& expected, double tolerance,
                   const std::string& what) {
  ASSERT_EQ(got.num_elements(), static_cast<int64_t>(expected.size())) << what;
  for (int64_t i = 0; i < got.num_elements(); ++i) {
    EXPECT_NEAR(got.item(i), expected[static_cast<size_t>(i)], tolerance) << what << " " << i;
  }
}

// The float64 gradient check of `layer` on an input of `shape`; non-trainable weights
// (moving statistics) are passed in but not differentiated.
testing::GradientCheckResult check_layer(Layer& layer, const Tensor& x,
                                         const CallContext& context) {
  std::vector<testing::GradientCheckInput> inputs{{x}};
  for (auto& weight : layer.weights()) {
    inputs.push_back({.differentiable = weight->trainable, .variable = weight});
  }
  return testing::check_gradients(
      [&](graph::Graph& graph, const std::vector<graph::NodeId>& nodes) {
        return layer.call(graph, nodes[0], context);
      },
      inputs);
}

// x [rows, C] in float64 with a different offset per column.
Tensor shifted(const Shape& shape, uint64_t seed) {
  Tensor x = testing::random_tensor(shape, seed);
  double* data = x.data<double>();
  for (int64_t i = 0; i < x.num_elements(); ++i)
    data[i] += 0.5 * static_cast<double>(i % shape[-1]);
  return x;
}

TEST(BatchNormalizationTest, WeightsInKerasOrder) {
  BatchNormalization bn;
  EXPECT_EQ(bn.class_name(), "BatchNormalization");
  EXPECT_EQ(bn.compute_output_shape(Shape{-1, 5, 5, 8}), Shape({-1, 5, 5, 8}));
  bn.build(Shape{-1, 5, 5, 8});
  auto weights = bn.weights();
  ASSERT_EQ(weights.size(), 4u);
  const char* names[] = {"gamma", "beta", "moving_mean", "moving_variance"};
  double initial[] = {1, 0, 0, 1};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(weights[i]->path, bn.name() + "/" + names[i]);
    EXPECT_EQ(weights[i]->value.shape(), Shape({8}));
    EXPECT_EQ(weights[i]->value.item(3), initial[i]) << names[i];
  }
  EXPECT_EQ(bn.trainable_weights().size(), 2u);
  EXPECT_EQ(bn.non_trainable_weights().size(), 2u);
  EXPECT_EQ(bn.count_params(), 32);
  // Frozen: every weight non-trainable, still in creation order.
  bn.set_trainable(false);
  EXPECT_TRUE(bn.trainable_weights().empty());
  ASSERT_EQ(bn.non_trainable_weights().size(), 4u);
  EXPECT_EQ(bn.non_trainable_weights()[0]->path, bn.name() + "/gamma");

  BatchNormalization bare({.center = false, .scale = false});
  bare.build(Shape{-1, 3});
  EXPECT_EQ(bare.weights().size(), 2u);
  EXPECT_EQ(bare.weights()[0]->path, bare.name() + "/moving_mean");

  EXPECT_THROW(BatchNormalization({.epsilon = 0}), ValueError);
  EXPECT_THROW(BatchNormalization({.momentum = 1.5}), ValueError);
  EXPECT_THROW(BatchNormalization({.axis = 1}).build(Shape{-1, 4, 3}), ValueError);
  EXPECT_NO_THROW(BatchNormalization({.axis = 2}).build(Shape{-1, 4, 3}));
  EXPECT_THROW(bn.compute_output_shape(Shape{-1}), ShapeError);
}

TEST(BatchNormalizationTest, MovingStatisticsOverTwoTrainingSteps) {
  BatchNormalization bn;
  bn.build(Shape{-1, 2});
  // Step 1: columns {1, 3} (mean 2, variance 1) and {2, 6} (mean 4, variance 4).
  Tensor y = run(bn, Tensor::from_vector<float>(Shape{2, 2}, {1, 2, 3, 6}), true);
  double s0 = 1 / std::sqrt(1.001), s1 = 1 / std::sqrt(4.001);
  expect_values(y, {-s0, -2 * s1, s0, 2 * s1}, 1e-6, "step 1 output");
  // moving = moving * 0.99 + batch * 0.01, from mean 0 and variance 1.
  expect_values(bn.moving_mean()->value, {0.02, 0.04}, 1e-7, "moving_mean after step 1");
  expect_values(bn.moving_variance()->value, {1.0, 1.03}, 1e-6, "moving_variance after step 1");
  // Step 2: columns {0, 4} (mean 2, variance 4) and {0, 2} (mean 1, variance 1).
  run(bn, Tensor::from_vector<float>(Shape{2, 2}, {0, 0, 4, 2}), true);
  // mean: 0.02 * 0.99 + 2 * 0.01 = 0.0398, 0.04 * 0.99 + 1 * 0.01 = 0.0496
  // variance: 1.0 * 0.99 + 4 * 0.01 = 1.03, 1.03 * 0.99 + 1 * 0.01 = 1.0297
  expect_values(bn.moving_mean()->value, {0.0398, 0.0496}, 1e-7, "moving_mean after step 2");
  expect_values(bn.moving_variance()->value, {1.03, 1.0297}, 1e-6, "moving_variance after step 2");

  // Inference normalizes with the moving statistics and leaves them alone.
  Tensor inference = run(bn, Tensor::from_vector<float>(Shape{1, 2}, {1, 1}), false);
  expect_values(inference, {(1 - 0.0398) / std::sqrt(1.031), (1 - 0.0496) / std::sqrt(1.0307)},
                1e-6, "inference output");
  expect_values(bn.moving_mean()->value, {0.0398, 0.0496}, 1e-7, "moving_mean after inference");
}

TEST(BatchNormalizationTest, FrozenLayerUsesMovingStatisticsEvenWhenTraining) {
  BatchNormalization bn({.momentum = 0.5});
  bn.build(Shape{-1, 2});
  bn.moving_mean()->value.copy_from(Tensor::from_vector<float>(Shape{2}, {1, -1}));
  bn.moving_variance()->value.copy_from(Tensor::from_vector<float>(Shape{2}, {4, 0.25}));
  bn.set_trainable(false);
  Tensor y = run(bn, Tensor::from_vector<float>(Shape{2, 2}, {3, 0, 5, 1}), true);
  expect_values(
      y, {2 / std::sqrt(4.001), 1 / std::sqrt(0.251), 4 / std::sqrt(4.001), 2 / std::sqrt(0.251)},
      1e-6, "frozen output");
  expect_values(bn.moving_mean()->value, {1, -1}, 0, "moving_mean");
  expect_values(bn.moving_variance()->value, {4, 0.25}, 0, "moving_variance");
  // Unfrozen, the same call trains: the statistics move halfway to the batch's.
  bn.set_trainable(true);
  run(bn, Tensor::from_vector<float>(Shape{2, 2}, {3, 0, 5, 1}), true);
  expect_values(bn.moving_mean()->value, {0.5 * 1 + 0.5 * 4, 0.5 * -1 + 0.5 * 0.5}, 1e-6,
                "moving_mean after training");
}

TEST(BatchNormalizationTest, GradientsInEveryMode) {
  BatchNormalization training({.momentum = 0.9,
                               .beta_initializer = "random_uniform",
                               .gamma_initializer = initializers::RandomUniform(0.5, 1.5)});
  training.set_dtype(DType::kFloat64);
  training.build(Shape{-1, 3, 4});
  auto result = check_layer(training, shifted({2, 3, 4}, 1), {.training = true});
  EXPECT_TRUE(result.passed) << "training: " << result.report;

  BatchNormalization inference(
      {.gamma_initializer = initializers::RandomUniform(0.5, 1.5),
       .moving_mean_initializer = "random_uniform",
       .moving_variance_initializer = initializers::RandomUniform(0.5, 2.0)});
  inference.set_dtype(DType::kFloat64);
  inference.build(Shape{-1, 3});
  result = check_layer(inference, shifted({4, 3}, 2), {.training = false});
  EXPECT_TRUE(result.passed) << "inference: " << result.report;

  // Frozen inside fit (training = true): inference math, gradient to x only.
  inference.set_trainable(false);
  result = check_layer(inference, shifted({4, 3}, 3), {.training = true});
  EXPECT_TRUE(result.passed) << "frozen: " << result.report;
}

TEST(LayerNormalizationTest, HandComputedOutput) {
  LayerNormalization ln;
  EXPECT_EQ(ln.class_name(), "LayerNormalization");
  ln.build(Shape{-1, 3});
  ASSERT_EQ(ln.weights().size(), 2u);
  EXPECT_EQ(ln.weights()[0]->path, ln.name() + "/gamma");
  EXPECT_EQ(ln.weights()[1]->path, ln.name() + "/beta");
  ln.weights()[0]->value.copy_from(Tensor::from_vector<float>(Shape{3}, {1, 2, 3}));
  ln.weights()[1]->value.copy_from(Tensor::from_vector<float>(Shape{3}, {0, 1, -1}));
  // Row {1, 2, 3}: mean 2, biased variance 2/3; row {4, 4, 4}: variance 0, xhat 0.
  Tensor y = run(ln, Tensor::from_vector<float>(Shape{2, 3}, {1, 2, 3, 4, 4, 4}), true);
  double s = 1 / std::sqrt(2.0 / 3.0 + 1e-3);
  expect_values(y, {-s, 1, 3 * s - 1, 0, 1, -1}, 1e-6, "output");
  EXPECT_THROW(LayerNormalization({.epsilon = -1}), ValueError);
  EXPECT_THROW(ln.compute_output_shape(Shape{-1}), ShapeError);
}

TEST(LayerNormalizationTest, Gradients) {
  LayerNormalization ln({.beta_initializer = "random_uniform",
                         .gamma_initializer = initializers::RandomUniform(0.5, 1.5)});
  ln.set_dtype(DType::kFloat64);
  ln.build(Shape{-1, 2, 5});
  auto result = check_layer(ln, testing::random_tensor({3, 2, 5}, 4, -2, 2), {});
  EXPECT_TRUE(result.passed) << result.report;
  LayerNormalization bare({.center = false, .scale = false});
  bare.set_dtype(DType::kFloat64);
  bare.build(Shape{-1, 4});
  EXPECT_TRUE(bare.weights().empty());
  result = check_layer(bare, testing::random_tensor({3, 4}, 5), {});
  EXPECT_TRUE(result.passed) << "no gamma or beta: " << result.report;
}

}  // namespace
}  // namespace trainyard::nn
