#include "graph/step_plan.h"

#include <gtest/gtest.h>

#include "graph/ops/ops.h"

namespace trainyard::graph {
namespace {

TEST(StepPlanTest, BindsInputsWithoutCopyingAndChecksShapes) {
  Graph graph;
  NodeId x = graph.add_input("x", {Shape{2, 3}, DType::kFloat32});
  NodeId flat = graph.add_op(ops::reshape(Shape{6}), {x});
  NodeId y = graph.add_op(ops::activation({backend::ActivationKind::kRelu}), {flat});
  StepPlan plan(graph, {.outputs = {y}}, backend::cpu_backend());
  Tensor input = Tensor::from_vector<float>(Shape{2, 3}, {-1, 2, -3, 4, -5, 6});
  plan.bind_input(x, input);
  plan.forward({});
  EXPECT_EQ(plan.value(y).to_vector<float>(), (std::vector<float>{0, 2, 0, 4, 0, 6}));
  EXPECT_THROW(plan.bind_input(x, Tensor::zeros(Shape{3, 2})), ShapeError);
  EXPECT_THROW(plan.bind_input(y, input), ValueError);
  EXPECT_THROW(plan.value(flat), ValueError);
}

TEST(StepPlanTest, RejectsNonScalarLoss) {
  Graph graph;
  NodeId x = graph.add_input("x", {Shape{2, 3}, DType::kFloat32});
  EXPECT_THROW(StepPlan(graph, {.loss = x}, backend::cpu_backend()), ShapeError);
}

TEST(StepPlanTest, ShapeRulesNameTheOp) {
  Graph graph;
  NodeId x = graph.add_input("x", {Shape{2, 3}, DType::kFloat32});
  NodeId w = graph.add_input("w", {Shape{4, 5}, DType::kFloat32});
  try {
    graph.add_op(ops::affine(), {x, w});
    FAIL() << "expected a shape error";
  } catch (const ShapeError& error) {
    EXPECT_NE(std::string(error.what()).find("Affine"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("[4, 5]"), std::string::npos) << error.what();
  }
}

// A Conv2D op that applies its activation writes the gradient before the activation over its
// output's gradient. When that output is the loss, the plan refills the seed before each
// backward, so every step gets the same gradients.
TEST(StepPlanTest, ALossWhoseOpOverwritesItsGradientIsReseeded) {
  Graph graph;
  NodeId x = graph.add_input("x", {Shape{1, 3, 3, 1}, DType::kFloat32});
  auto kernel = std::make_shared<Variable>(
      Variable{"kernel", Tensor::from_vector<float>(Shape{3, 3, 1, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9}),
               Tensor::zeros(Shape{3, 3, 1, 1}), true});
  backend::Window2d window =
      backend::make_window2d("conv", 1, 3, 3, 1, {.window_height = 3, .window_width = 3});
  NodeId loss = graph.add_op(ops::conv2d(window, {backend::ActivationKind::kSigmoid}),
                             {x, graph.add_variable(kernel)});
  StepPlan plan(graph, {.loss = loss}, backend::cpu_backend());
  plan.bind_input(x, Tensor::from_vector<float>(
                         Shape{1, 3, 3, 1}, {0.1f, -0.2f, 0.3f, 0.0f, 0.1f, -0.1f, 0.2f, 0.1f, 0}));
  std::vector<std::vector<float>> gradients;
  for (int step = 0; step < 2; ++step) {
    plan.forward({});
    plan.backward({});
    gradients.push_back(kernel->gradient.to_vector<float>());
  }
  EXPECT_EQ(gradients[0], gradients[1]);
  EXPECT_NE(gradients[0][0], 0.0f);
}

TEST(StepPlanTest, Conv2DAppliesOnlyActivationsWithADerivativeFromTheOutput) {
  backend::Window2d window =
      backend::make_window2d("conv", 1, 3, 3, 1, {.window_height = 3, .window_width = 3});
  EXPECT_NO_THROW(ops::conv2d(window, {backend::ActivationKind::kRelu}));
  EXPECT_THROW(ops::conv2d(window, {backend::ActivationKind::kGelu}), ValueError);
  EXPECT_THROW(ops::conv2d(window, {backend::ActivationKind::kSoftmax}), ValueError);
}

}  // namespace
}  // namespace trainyard::graph
