// Convolution and pooling layers: output shapes, weights, errors, and the float64
// finite-difference check through each layer.
#include <gtest/gtest.h>

#include "nn/layers/conv.h"
#include "nn/layers/pooling.h"
#include "support/gradient_check.h"

namespace trainyard::nn {
namespace {

using backend::PoolKind;

testing::GradientCheckResult check_layer(Layer& layer, const Shape& input_shape) {
  layer.set_dtype(DType::kFloat64);
  layer.build(input_shape.with_batch(-1));
  std::vector<testing::GradientCheckInput> inputs{{testing::random_tensor(input_shape, 21)}};
  for (auto& weight : layer.weights()) inputs.push_back({.variable = weight});
  return testing::check_gradients(
      [&](graph::Graph& graph, const std::vector<graph::NodeId>& nodes) {
        return layer.call(graph, nodes[0], {});
      },
      inputs);
}

TEST(Conv2DTest, ShapesAndWeights) {
  Conv2D conv(32, 3, {.activation = "relu"});
  EXPECT_EQ(conv.compute_output_shape(Shape{-1, 28, 28, 1}), Shape({-1, 26, 26, 32}));
  conv.build(Shape{-1, 28, 28, 1});
  ASSERT_EQ(conv.weights().size(), 2u);
  EXPECT_EQ(conv.weights()[0]->value.shape(), Shape({3, 3, 1, 32}));
  EXPECT_EQ(conv.count_params(), 3 * 3 * 32 + 32);
  Conv2D same(8, {4, 2}, {.strides = 2, .padding = "same"});
  EXPECT_EQ(same.compute_output_shape(Shape{-1, 7, 6, 3}), Shape({-1, 4, 3, 8}));
  EXPECT_THROW(Conv2D(8, 3, {.padding = "causal"}), ValueError);
  EXPECT_THROW(Conv2D(0, 3), ValueError);
  EXPECT_THROW(conv.compute_output_shape(Shape{-1, 28, 28}), ShapeError);
  EXPECT_THROW(Conv2D(4, 5).compute_output_shape(Shape{-1, 3, 3, 1}), ShapeError);
}

TEST(Conv1DTest, ShapesIncludingCausal) {
  Conv1D conv(16, 3);
  EXPECT_EQ(conv.compute_output_shape(Shape{-1, 10, 4}), Shape({-1, 8, 16}));
  Conv1D causal(16, 3, {.padding = "causal", .dilation_rate = 2});
  EXPECT_EQ(causal.compute_output_shape(Shape{-1, 10, 4}), Shape({-1, 10, 16}));
  conv.build(Shape{-1, 10, 4});
  EXPECT_EQ(conv.weights()[0]->value.shape(), Shape({3, 4, 16}));
}

TEST(PoolingTest, Shapes) {
  Pooling2D max_pool(PoolKind::kMax, 2);
  EXPECT_EQ(max_pool.compute_output_shape(Shape{-1, 26, 26, 32}), Shape({-1, 13, 13, 32}));
  EXPECT_EQ(max_pool.compute_output_shape(Shape{-1, 11, 11, 64}), Shape({-1, 5, 5, 64}));
  Pooling2D average(PoolKind::kAverage, 3, {.strides = 2, .padding = "same"});
  EXPECT_EQ(average.compute_output_shape(Shape{-1, 7, 7, 2}), Shape({-1, 4, 4, 2}));
  GlobalPooling2D global(PoolKind::kAverage);
  EXPECT_EQ(global.compute_output_shape(Shape{-1, 5, 5, 7}), Shape({-1, 7}));
  EXPECT_EQ(max_pool.class_name(), "MaxPooling2D");
  EXPECT_EQ(global.class_name(), "GlobalAveragePooling2D");
}

TEST(ConvLayerGradientTest, EveryLayer) {
  Conv2D conv(3, {3, 2},
              {.padding = "same", .activation = "tanh", .bias_initializer = "random_uniform"});
  auto result = check_layer(conv, Shape{2, 5, 4, 2});
  EXPECT_TRUE(result.passed) << "Conv2D: " << result.report;
  // ReLU and sigmoid run inside the Conv2D op, from its output; gelu in an op after it.
  Conv2D conv_relu(4, {3, 3}, {.activation = "relu", .bias_initializer = "random_uniform"});
  result = check_layer(conv_relu, Shape{2, 6, 5, 3});
  EXPECT_TRUE(result.passed) << "Conv2D relu: " << result.report;
  Conv2D conv_gelu(2, {2, 2}, {.activation = "gelu", .bias_initializer = "random_uniform"});
  result = check_layer(conv_gelu, Shape{1, 4, 5, 2});
  EXPECT_TRUE(result.passed) << "Conv2D gelu: " << result.report;
  Conv1D conv1d(2, 3,
                {.padding = "causal", .dilation_rate = 2, .bias_initializer = "random_uniform"});
  result = check_layer(conv1d, Shape{2, 7, 3});
  EXPECT_TRUE(result.passed) << "Conv1D: " << result.report;
  Conv1D conv1d_sigmoid(3, 2, {.activation = "sigmoid", .bias_initializer = "random_uniform"});
  result = check_layer(conv1d_sigmoid, Shape{2, 6, 2});
  EXPECT_TRUE(result.passed) << "Conv1D sigmoid: " << result.report;
  Pooling2D max_pool(PoolKind::kMax, 2, {.padding = "same"});
  result = check_layer(max_pool, Shape{2, 5, 5, 2});
  EXPECT_TRUE(result.passed) << "MaxPooling2D: " << result.report;
  Pooling2D average(PoolKind::kAverage, {2, 3});
  result = check_layer(average, Shape{1, 4, 6, 3});
  EXPECT_TRUE(result.passed) << "AveragePooling2D: " << result.report;
  GlobalPooling2D global_max(PoolKind::kMax);
  result = check_layer(global_max, Shape{2, 3, 4, 2});
  EXPECT_TRUE(result.passed) << "GlobalMaxPooling2D: " << result.report;
  GlobalPooling2D global_average(PoolKind::kAverage);
  result = check_layer(global_average, Shape{2, 3, 4, 2});
  EXPECT_TRUE(result.passed) << "GlobalAveragePooling2D: " << result.report;
}

}  // namespace
}  // namespace trainyard::nn
