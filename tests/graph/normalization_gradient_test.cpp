// The float64 finite-difference check for the normalization, embedding, merge, padding and
// regularizer ops in each of their variants, plus their shape rules' errors.
#include <gtest/gtest.h>

#include "graph/ops/ops.h"
#include "graph/step_plan.h"
#include "support/gradient_check.h"

namespace trainyard {
namespace {

using graph::Graph;
using graph::NodeId;
using testing::check_gradients;
using testing::GradientCheckInput;
using testing::GraphBuilder;
using testing::random_tensor;

void expect_gradients(const std::string& what, const GraphBuilder& build,
                      const std::vector<GradientCheckInput>& inputs) {
  auto result = check_gradients(build, inputs);
  EXPECT_TRUE(result.passed) << what << ": " << result.report << " (worst relative error "
                             << result.worst_error << ")";
}

// Applies `op` to every input node in order.
GraphBuilder apply(graph::ops::OpPtr op) {
  return [op](Graph& g, const std::vector<NodeId>& in) { return g.add_op(op, in); };
}

// x [rows, C] with a different offset per column, so the mean matters.
Tensor shifted(const Shape& shape, uint64_t seed) {
  Tensor x = random_tensor(shape, seed, -1.0, 1.0);
  double* data = x.data<double>();
  for (int64_t i = 0; i < x.num_elements(); ++i)
    data[i] += 0.5 * static_cast<double>(i % shape[-1]);
  return x;
}

TEST(BatchNormGradientTest, TrainingModeEveryVariant) {
  for (bool scale : {true, false}) {
    for (bool center : {true, false}) {
      graph::ops::BatchNormOptions options{
          .training = true, .momentum = 0.9, .scale = scale, .center = center};
      std::vector<GradientCheckInput> inputs{{shifted({6, 3}, 1)}};
      if (scale) inputs.push_back({random_tensor({3}, 2, 0.5, 1.5)});
      if (center) inputs.push_back({random_tensor({3}, 3)});
      inputs.push_back({random_tensor({3}, 4), false});          // moving_mean
      inputs.push_back({random_tensor({3}, 5, 0.5, 2), false});  // moving_variance
      expect_gradients("scale " + std::to_string(scale) + " center " + std::to_string(center),
                       apply(graph::ops::batch_norm(options)), inputs);
    }
  }
  // Rank 4 (channels_last images): rows are N * H * W.
  expect_gradients("rank 4", apply(graph::ops::batch_norm({.training = true})),
                   {{shifted({2, 3, 2, 4}, 6)},
                    {random_tensor({4}, 7, 0.5, 1.5)},
                    {random_tensor({4}, 8)},
                    {random_tensor({4}, 9), false},
                    {random_tensor({4}, 10, 0.5, 2), false}});
}

TEST(BatchNormGradientTest, InferenceMode) {
  expect_gradients("inference", apply(graph::ops::batch_norm({.training = false})),
                   {{shifted({5, 3}, 11)},
                    {random_tensor({3}, 12, 0.5, 1.5)},
                    {random_tensor({3}, 13)},
                    {random_tensor({3}, 14), false},
                    {random_tensor({3}, 15, 0.5, 2), false}});
  expect_gradients("inference without gamma",
                   apply(graph::ops::batch_norm({.training = false, .scale = false})),
                   {{shifted({5, 3}, 16)},
                    {random_tensor({3}, 17)},
                    {random_tensor({3}, 18), false},
                    {random_tensor({3}, 19, 0.5, 2), false}});
}

TEST(BatchNormGradientTest, ShapeRule) {
  Graph g;
  NodeId x = g.add_input("x", {Shape{4, 3}});
  NodeId v3 = g.add_input("v3", {Shape{3}});
  NodeId v2 = g.add_input("v2", {Shape{2}});
  EXPECT_EQ(g.spec(g.add_op(graph::ops::batch_norm({}), {x, v3, v3, v3, v3})).shape, Shape({4, 3}));
  EXPECT_THROW(g.add_op(graph::ops::batch_norm({}), {x, v3, v3, v3}), ShapeError);
  EXPECT_THROW(g.add_op(graph::ops::batch_norm({}), {x, v3, v2, v3, v3}), ShapeError);
  EXPECT_NO_THROW(g.add_op(graph::ops::batch_norm({.scale = false, .center = false}), {x, v3, v3}));
}

TEST(LayerNormGradientTest, EveryVariant) {
  expect_gradients("gamma and beta", apply(graph::ops::layer_norm(1e-3, true, true)),
                   {{random_tensor({4, 5}, 20, -2, 3)},
                    {random_tensor({5}, 21, 0.5, 1.5)},
                    {random_tensor({5}, 22)}});
  expect_gradients("rank 3, gamma only", apply(graph::ops::layer_norm(1e-3, true, false)),
                   {{random_tensor({2, 3, 4}, 23)}, {random_tensor({4}, 24, 0.5, 1.5)}});
  expect_gradients("beta only", apply(graph::ops::layer_norm(1e-3, false, true)),
                   {{random_tensor({3, 4}, 25)}, {random_tensor({4}, 26)}});
  expect_gradients("neither", apply(graph::ops::layer_norm(1e-5, false, false)),
                   {{random_tensor({3, 6}, 27)}});
}

TEST(EmbeddingGradientTest, TableGetsScatteredGradient) {
  // Indices repeat (row 1 three times) and come as float64 and as int32.
  Tensor indices = Tensor::from_vector<double>(Shape{2, 3}, {1, 0, 1, 4, 1, 2});
  expect_gradients("float indices", apply(graph::ops::embedding()),
                   {{indices, false}, {random_tensor({5, 3}, 30)}});
  Tensor int_indices = Tensor::from_vector<int32_t>(Shape{4}, {3, 3, 0, 2});
  expect_gradients("int32 indices", apply(graph::ops::embedding()),
                   {{int_indices, false}, {random_tensor({4, 2}, 31)}});
}

TEST(EmbeddingGradientTest, BadIndexNamesTheLayer) {
  auto table = std::make_shared<graph::Variable>();
  table->path = "embedding/embeddings";
  table->value = random_tensor({3, 2}, 32);
  Graph g;
  NodeId ids = g.add_input("ids", {Shape{2}, DType::kFloat32});
  NodeId out = g.add_op(graph::ops::embedding("embedding"), {ids, g.add_variable(table)});
  graph::StepPlan plan(g, {.outputs = {out}}, backend::cpu_backend());
  plan.bind_input(ids, Tensor::from_vector<float>(Shape{2}, {0, 3}));
  try {
    plan.forward({});
    FAIL() << "expected a ValueError";
  } catch (const ValueError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("Embedding 'embedding'"), std::string::npos) << message;
    EXPECT_NE(message.find("index 3 at position [1]"), std::string::npos) << message;
  }
}

TEST(MergeGradientTest, AddOfSeveralInputs) {
  expect_gradients("two", apply(graph::ops::add()),
                   {{random_tensor({2, 3}, 40)}, {random_tensor({2, 3}, 41)}});
  expect_gradients(
      "three, one frozen", apply(graph::ops::add()),
      {{random_tensor({4}, 42)}, {random_tensor({4}, 43), false}, {random_tensor({4}, 44)}});
  // One node read twice: its gradient accumulates.
  expect_gradients("same node twice",
                   [](Graph& g, const std::vector<NodeId>& in) {
                     return g.add_op(graph::ops::add(), {in[0], in[0], in[1]});
                   },
                   {{random_tensor({3, 2}, 45)}, {random_tensor({3, 2}, 46)}});
  Graph g;
  NodeId a = g.add_input("a", {Shape{2, 3}});
  NodeId b = g.add_input("b", {Shape{3, 2}});
  EXPECT_THROW(g.add_op(graph::ops::add(), {a, b}), ShapeError);
  EXPECT_THROW(g.add_op(graph::ops::add(), {}), ShapeError);
}

TEST(MergeGradientTest, AddNOfScalars) {
  expect_gradients("scalars", apply(graph::ops::add_n()),
                   {{random_tensor({}, 47)}, {random_tensor({1}, 48)}, {random_tensor({}, 49)}});
  Graph g;
  NodeId s = g.add_input("s", {Shape{}});
  NodeId v = g.add_input("v", {Shape{2}});
  EXPECT_EQ(g.spec(g.add_op(graph::ops::add_n(), {s, s})).shape, Shape{});
  EXPECT_THROW(g.add_op(graph::ops::add_n(), {s, v}), ShapeError);
}

TEST(MergeGradientTest, ConcatenateAlongEachAxis) {
  for (int64_t axis : {0, 1, 2, -1, -2}) {
    // Shapes differ only along the axis: [2, 3, 4] with that dimension set to 1, 2 and 3.
    std::vector<GradientCheckInput> inputs;
    for (int64_t length : {1, 2, 3}) {
      Shape shape{2, 3, 4};
      shape[axis] = length;
      inputs.push_back({random_tensor(shape, 50 + static_cast<uint64_t>(length))});
    }
    expect_gradients("axis " + std::to_string(axis), apply(graph::ops::concatenate(axis)), inputs);
  }
  expect_gradients("same node twice",
                   [](Graph& g, const std::vector<NodeId>& in) {
                     return g.add_op(graph::ops::concatenate(-1), {in[0], in[1], in[0]});
                   },
                   {{random_tensor({2, 2}, 55)}, {random_tensor({2, 1}, 56), false}});
  Graph g;
  NodeId a = g.add_input("a", {Shape{2, 3}});
  NodeId b = g.add_input("b", {Shape{3, 2}});
  EXPECT_EQ(g.spec(g.add_op(graph::ops::concatenate(0), {a, a})).shape, Shape({4, 3}));
  EXPECT_THROW(g.add_op(graph::ops::concatenate(-1), {a, b}), ShapeError);
  EXPECT_THROW(g.add_op(graph::ops::concatenate(2), {a, a}), ShapeError);
}

TEST(ZeroPad2dGradientTest, CropsTheGradient) {
  expect_gradients("asymmetric", apply(graph::ops::zero_pad2d({1, 2, 0, 3})),
                   {{random_tensor({2, 3, 2, 2}, 60)}});
  expect_gradients("none", apply(graph::ops::zero_pad2d({})), {{random_tensor({1, 2, 2, 1}, 61)}});
  Graph g;
  NodeId x = g.add_input("x", {Shape{2, 3, 4}});
  EXPECT_THROW(g.add_op(graph::ops::zero_pad2d({1, 1, 1, 1}), {x}), ShapeError);
}

TEST(RegularizerGradientTest, L1AndL2) {
  // Magnitudes in [0.2, 1) with both signs: no element near the L1 kink at 0.
  Tensor w = random_tensor({3, 4}, 70, 0.2, 1.0);
  double* data = w.data<double>();
  for (int64_t i = 0; i < w.num_elements(); i += 2) data[i] = -data[i];
  expect_gradients("l1", apply(graph::ops::regularizer(0.3, 0)), {{w}});
  expect_gradients("l2", apply(graph::ops::regularizer(0, 0.7)), {{w}});
  expect_gradients("l1_l2", apply(graph::ops::regularizer(0.01, 0.01)), {{w}});
}

}  // namespace
}  // namespace trainyard
