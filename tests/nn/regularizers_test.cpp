// Weight regularizers: Keras's identifiers and defaults, the penalty values from Keras's
// formulas (l1 * sum |w|, l2 * sum w^2 with no 1/2), Dense / Conv2D / Conv1D losses(), and
// the float64 finite-difference check of a penalty through a layer.
#include <gtest/gtest.h>

#include <cmath>

#include "graph/ops/ops.h"
#include "graph/step_plan.h"
#include "nn/layers/conv.h"
#include "nn/layers/dense.h"
#include "support/gradient_check.h"

namespace trainyard::nn {
namespace {

using graph::NodeId;

TEST(RegularizerTest, IdentifiersAndDefaults) {
  Regularizer l1 = "l1";
  EXPECT_EQ(l1.class_name, "L1");
  EXPECT_EQ(l1.l1, 0.01);
  EXPECT_EQ(l1.l2, 0.0);
  Regularizer l2 = "l2";
  EXPECT_EQ(l2.class_name, "L2");
  EXPECT_EQ(l2.l1, 0.0);
  EXPECT_EQ(l2.l2, 0.01);
  Regularizer both = "l1_l2";
  EXPECT_EQ(both.class_name, "L1L2");
  EXPECT_EQ(both.l1, 0.01);
  EXPECT_EQ(both.l2, 0.01);
  // The L1L2 class defaults to 0 / 0, unlike the "l1_l2" string.
  Regularizer cls = "L1L2";
  EXPECT_EQ(cls.l1, 0.0);
  EXPECT_EQ(cls.l2, 0.0);
  EXPECT_EQ(Regularizer(), regularizers::L1L2());
  EXPECT_EQ(regularizers::L2(0.5).l2, 0.5);
  EXPECT_EQ(Regularizer("L2"), regularizers::L2());
  EXPECT_THROW(Regularizer("l3"), ValueError);
  EXPECT_THROW(regularizers::L1(-0.1), ValueError);
  EXPECT_THROW(regularizers::L1L2(0.0, NAN), ValueError);
}

// Evaluates a layer's penalties: returns one value per losses() node.
std::vector<double> penalties(const Layer& layer) {
  graph::Graph graph;
  std::vector<NodeId> losses = layer.losses(graph);
  if (losses.empty()) return {};
  graph::StepPlan plan(graph, {.outputs = losses}, backend::cpu_backend());
  plan.forward({});
  std::vector<double> values;
  for (NodeId loss : losses) values.push_back(plan.value(loss).item());
  return values;
}

double sum_abs(const Tensor& w) {
  double total = 0;
  for (int64_t i = 0; i < w.num_elements(); ++i) total += std::abs(w.item(i));
  return total;
}

double sum_squares(const Tensor& w) {
  double total = 0;
  for (int64_t i = 0; i < w.num_elements(); ++i) total += w.item(i) * w.item(i);
  return total;
}

TEST(RegularizerTest, DensePenaltiesFollowKerasFormulas) {
  Dense dense(3, {.bias_initializer = "random_uniform",
                  .kernel_regularizer = regularizers::L1L2(0.1, 0.2),
                  .bias_regularizer = "l2"});
  dense.build(Shape{-1, 4});
  // Hand values: kernel set to known numbers. 0.1 * (1 + 2 + ... ) etc.
  std::vector<float> kernel(12);
  for (size_t i = 0; i < kernel.size(); ++i) kernel[i] = (i % 2 ? -0.5f : 1.0f) * float(i);
  dense.weights()[0]->value.copy_from(Tensor::from_vector<float>(Shape{4, 3}, kernel));
  dense.weights()[1]->value.copy_from(Tensor::from_vector<float>(Shape{3}, {1, -2, 3}));
  // kernel: |w| = 0, .5, 2, 1.5, 4, 2.5, 6, 3.5, 8, 4.5, 10, 5.5 -> sum 48;
  // w^2 = 0 + .25 + 4 + 2.25 + 16 + 6.25 + 36 + 12.25 + 64 + 20.25 + 100 + 30.25 = 291.5
  std::vector<double> values = penalties(dense);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_NEAR(values[0], 0.1 * 48 + 0.2 * 291.5, 1e-4);
  EXPECT_NEAR(values[1], 0.01 * (1 + 4 + 9), 1e-7);  // L2: no 1/2 factor
  EXPECT_NEAR(
      values[0],
      0.1 * sum_abs(dense.weights()[0]->value) + 0.2 * sum_squares(dense.weights()[0]->value),
      1e-4);

  // Keras regularizes trainable weights only.
  dense.set_trainable(false);
  EXPECT_TRUE(penalties(dense).empty());
  dense.set_trainable(true);
  EXPECT_EQ(penalties(dense).size(), 2u);

  Dense plain(3);
  plain.build(Shape{-1, 4});
  EXPECT_TRUE(penalties(plain).empty());
  Dense no_bias(3, {.use_bias = false, .bias_regularizer = "l1"});
  no_bias.build(Shape{-1, 4});
  EXPECT_TRUE(penalties(no_bias).empty());
}

TEST(RegularizerTest, ConvPenalties) {
  Conv2D conv(2, 3, {.kernel_regularizer = "l1", .bias_regularizer = "l1_l2"});
  conv.build(Shape{-1, 5, 5, 2});
  conv.weights()[1]->value.copy_from(Tensor::from_vector<float>(Shape{2}, {0.5, -1}));
  std::vector<double> values = penalties(conv);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_NEAR(values[0], 0.01 * sum_abs(conv.weights()[0]->value), 1e-6);
  EXPECT_NEAR(values[1], 0.01 * 1.5 + 0.01 * 1.25, 1e-7);

  Conv1D conv1d(4, 2, {.kernel_regularizer = regularizers::L2(0.3)});
  conv1d.build(Shape{-1, 6, 3});
  values = penalties(conv1d);
  ASSERT_EQ(values.size(), 1u);
  EXPECT_NEAR(values[0], 0.3 * sum_squares(conv1d.weights()[0]->value), 1e-5);
}

TEST(RegularizerTest, PenaltyGradientThroughTheLayer) {
  for (bool conv : {false, true}) {
    std::shared_ptr<Layer> layer;
    if (conv) {
      layer = std::make_shared<Conv2D>(
          2, 2, ConvOptions{.kernel_regularizer = regularizers::L1L2(0.3, 0.7)});
    } else {
      layer = std::make_shared<Dense>(
          3, DenseOptions{.bias_initializer = "random_uniform",
                          .kernel_regularizer = regularizers::L1L2(0.3, 0.7),
                          .bias_regularizer = regularizers::L2(0.4)});
    }
    layer->set_dtype(DType::kFloat64);
    layer->build(conv ? Shape{-1, 3, 3, 2} : Shape{-1, 4});
    std::vector<testing::GradientCheckInput> inputs;
    for (auto& weight : layer->weights()) inputs.push_back({.variable = weight});
    // The training loss with penalties: sum of the layer's losses through add_n.
    auto result = testing::check_gradients(
        [&](graph::Graph& graph, const std::vector<NodeId>&) {
          return graph.add_op(graph::ops::add_n(), layer->losses(graph));
        },
        inputs);
    EXPECT_TRUE(result.passed) << (conv ? "Conv2D: " : "Dense: ") << result.report;
  }
}

}  // namespace
}  // namespace trainyard::nn
