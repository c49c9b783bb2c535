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

}  // namespace
}  // namespace trainyard::graph
