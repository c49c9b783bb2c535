// Layers: shapes, weights, errors, and the shared float64 gradient check through each layer.
#include <gtest/gtest.h>

#include "graph/step_plan.h"
#include "nn/layers/activation.h"
#include "nn/layers/dense.h"
#include "nn/layers/dropout.h"
#include "nn/layers/flatten.h"
#include "support/gradient_check.h"

namespace trainyard::nn {
namespace {

using testing::check_gradients;
using testing::random_tensor;

TEST(DenseTest, BuildsKernelAndBiasInKerasOrder) {
  Dense dense(10, {.activation = "relu"});
  dense.build(Shape{-1, 784});
  auto weights = dense.weights();
  ASSERT_EQ(weights.size(), 2u);
  EXPECT_EQ(weights[0]->value.shape(), Shape({784, 10}));
  EXPECT_EQ(weights[1]->value.shape(), Shape({10}));
  EXPECT_EQ(weights[0]->path, dense.name() + "/kernel");
  EXPECT_EQ(dense.count_params(), 7850);
  EXPECT_EQ(dense.compute_output_shape(Shape{-1, 5, 784}), Shape({-1, 5, 10}));
  EXPECT_THROW(dense.build(Shape{-1, 100}), ShapeError);
  Dense no_bias(3, {.use_bias = false});
  no_bias.build(Shape{-1, 4});
  EXPECT_EQ(no_bias.weights().size(), 1u);
}

TEST(DenseTest, RejectsBadArguments) {
  EXPECT_THROW(Dense(0), ValueError);
  EXPECT_THROW(Dense(4, {.activation = "relux"}), ValueError);
}

TEST(DenseTest, TrainableFlagMovesWeights) {
  Dense dense(2);
  dense.build(Shape{-1, 3});
  dense.set_trainable(false);
  EXPECT_TRUE(dense.trainable_weights().empty());
  EXPECT_EQ(dense.non_trainable_weights().size(), 2u);
  dense.set_trainable(true);
  EXPECT_EQ(dense.trainable_weights().size(), 2u);
}

TEST(FlattenReshapeTest, Shapes) {
  Flatten flatten;
  EXPECT_EQ(flatten.compute_output_shape(Shape{-1, 28, 28}), Shape({-1, 784}));
  Reshape reshape({-1, 4});
  EXPECT_EQ(reshape.compute_output_shape(Shape{-1, 2, 8}), Shape({-1, 4, 4}));
  EXPECT_THROW(Reshape({3, 5}).compute_output_shape(Shape{-1, 16}), ShapeError);
  EXPECT_THROW(Reshape({-1, -1}), ValueError);
  EXPECT_THROW(Dropout(1.5), ValueError);
}

// Gradient check of a layer in float64: the checker perturbs its input and its own weights.
testing::GradientCheckResult check_layer(Layer& layer, const Shape& input_shape,
                                         const CallContext& context) {
  layer.set_dtype(DType::kFloat64);
  layer.build(input_shape.with_batch(-1));
  std::vector<testing::GradientCheckInput> inputs{{random_tensor(input_shape, 17)}};
  for (auto& weight : layer.weights()) inputs.push_back({.variable = weight});
  return check_gradients(
      [&](graph::Graph& graph, const std::vector<graph::NodeId>& nodes) {
        return layer.call(graph, nodes[0], context);
      },
      inputs);
}

TEST(LayerGradientTest, DenseWithEachActivation) {
  for (const char* activation : {"linear", "relu", "sigmoid", "tanh", "softmax", "gelu", "silu",
                                 "leaky_relu", "elu", "softplus"}) {
    Dense dense(3, {.activation = activation, .bias_initializer = "random_uniform"});
    auto result = check_layer(dense, Shape{4, 5}, {});
    EXPECT_TRUE(result.passed) << activation << ": " << result.report;
  }
}

TEST(LayerGradientTest, FlattenAndActivationAndDropout) {
  Flatten flatten;
  EXPECT_TRUE(check_layer(flatten, Shape{2, 3, 4}, {}).passed);
  ActivationLayer tanh_layer("tanh");
  EXPECT_TRUE(check_layer(tanh_layer, Shape{3, 4}, {}).passed);
  Dropout dropout(0.4, {.seed = 3});
  auto result = check_layer(dropout, Shape{8, 16}, {.training = true});
  EXPECT_TRUE(result.passed) << result.report;
}

}  // namespace
}  // namespace trainyard::nn
