// Embedding, Add, Concatenate and ZeroPadding2D layers, and Layer's multi-input path:
// shapes, hand-computed outputs, errors, and the float64 finite-difference check.
#include <gtest/gtest.h>

#include "graph/ops/ops.h"
#include "graph/step_plan.h"
#include "nn/layers/dense.h"
#include "nn/layers/embedding.h"
#include "nn/layers/merge.h"
#include "nn/layers/zero_padding.h"
#include "support/gradient_check.h"

namespace trainyard::nn {
namespace {

using graph::NodeId;

// Runs `layer` on `inputs` (fed as graph inputs) through the multi-input path.
Tensor run(Layer& layer, const std::vector<Tensor>& inputs) {
  graph::Graph graph;
  std::vector<NodeId> nodes;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::string name = "x";
    name += std::to_string(i);
    nodes.push_back(graph.add_input(name, {inputs[i].shape(), inputs[i].dtype()}));
  }
  NodeId output = layer.call(graph, std::span<const NodeId>(nodes), {});
  graph::StepPlan plan(graph, {.outputs = {output}}, backend::cpu_backend());
  for (size_t i = 0; i < inputs.size(); ++i) plan.bind_input(nodes[i], inputs[i]);
  plan.forward({});
  return plan.value(output).clone();
}

void expect_values(const Tensor& got, const std::vector<double>& expected,
                   const std::string& what) {
  ASSERT_EQ(got.num_elements(), static_cast<int64_t>(expected.size())) << what;
  for (int64_t i = 0; i < got.num_elements(); ++i) {
    EXPECT_EQ(got.item(i), expected[static_cast<size_t>(i)]) << what << " element " << i;
  }
}

// Gradient check through the multi-input path; inputs not marked are differentiable.
void expect_layer_gradients(Layer& layer, std::vector<testing::GradientCheckInput> inputs,
                            size_t data_inputs, const std::string& what) {
  for (auto& weight : layer.weights()) inputs.push_back({.variable = weight});
  auto result = testing::check_gradients(
      [&](graph::Graph& graph, const std::vector<NodeId>& nodes) {
        return layer.call(graph, std::span<const NodeId>(nodes.data(), data_inputs), {});
      },
      inputs);
  EXPECT_TRUE(result.passed) << what << ": " << result.report;
}

TEST(EmbeddingLayerTest, ShapesWeightsAndLookup) {
  Embedding embedding(5, 2);
  EXPECT_EQ(embedding.class_name(), "Embedding");
  EXPECT_EQ(embedding.compute_output_shape(Shape{-1, 7}), Shape({-1, 7, 2}));
  embedding.build(Shape{-1, 3});
  ASSERT_EQ(embedding.weights().size(), 1u);
  const Tensor& table = embedding.weights()[0]->value;
  EXPECT_EQ(embedding.weights()[0]->path, embedding.name() + "/embeddings");
  EXPECT_EQ(table.shape(), Shape({5, 2}));
  // Keras's "uniform": RandomUniform(-0.05, 0.05).
  for (int64_t i = 0; i < table.num_elements(); ++i) {
    EXPECT_LE(std::abs(table.item(i)), 0.05);
  }
  table.copy_from(Tensor::from_vector<float>(Shape{5, 2}, {0, 1, 10, 11, 20, 21, 30, 31, 40, 41}));
  Tensor y = run(embedding, {Tensor::from_vector<float>(Shape{2, 3}, {4, 0, 2, 2, 2, 1})});
  EXPECT_EQ(y.shape(), Shape({2, 3, 2}));
  expect_values(y, {40, 41, 0, 1, 20, 21, 20, 21, 20, 21, 10, 11}, "lookup");
  // Integer index tensors work the same.
  y = run(embedding, {Tensor::from_vector<int64_t>(Shape{2, 3}, {4, 0, 2, 2, 2, 1})});
  expect_values(y, {40, 41, 0, 1, 20, 21, 20, 21, 20, 21, 10, 11}, "int64 lookup");
  EXPECT_THROW(Embedding(0, 4), ValueError);
  EXPECT_THROW(Embedding(4, -1), ValueError);
}

TEST(EmbeddingLayerTest, Gradient) {
  Embedding embedding(6, 3);
  embedding.set_dtype(DType::kFloat64);
  embedding.build(Shape{-1, 4});
  Tensor ids = Tensor::from_vector<double>(Shape{2, 4}, {5, 0, 5, 1, 2, 5, 0, 3});
  expect_layer_gradients(embedding, {{ids, false}}, 1, "embedding");
}

TEST(EmbeddingLayerTest, BadIndexIsNamedAndGradientIsUntouched) {
  Embedding embedding(3, 2, {.name = "tokens"});
  embedding.build(Shape{-1, 2});
  auto table = embedding.weights()[0];
  table->gradient = Tensor::zeros(table->value.shape());
  graph::Graph graph;
  NodeId ids = graph.add_input("ids", {Shape{2, 2}, DType::kFloat32});
  NodeId target = graph.add_input("target", {Shape{2, 2, 2}, DType::kFloat32});
  NodeId out = embedding.call(graph, ids, {});
  NodeId loss = graph.add_op(graph::ops::loss({}), {out, target});
  graph::StepPlan plan(graph, {.outputs = {out}, .loss = loss}, backend::cpu_backend());
  Tensor good = Tensor::from_vector<float>(Shape{2, 2}, {0, 1, 2, 1});
  Tensor out_of_range = Tensor::from_vector<float>(Shape{2, 2}, {0, 1, 2, 3});
  Tensor fractional = Tensor::from_vector<float>(Shape{2, 2}, {0, 0.5, 2, 1});
  plan.bind_input(target, Tensor::zeros(Shape{2, 2, 2}));

  // Forward rejects the index, naming the layer, the value and where it sits.
  plan.bind_input(ids, out_of_range);
  try {
    plan.forward({.training = true});
    FAIL() << "expected a ValueError";
  } catch (const ValueError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("Embedding 'tokens'"), std::string::npos) << message;
    EXPECT_NE(message.find("index 3 at position [1, 1]"), std::string::npos) << message;
    EXPECT_NE(message.find("[0, 3)"), std::string::npos) << message;
  }
  plan.bind_input(ids, fractional);
  try {
    plan.forward({.training = true});
    FAIL() << "expected a ValueError";
  } catch (const ValueError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("index 0.5"), std::string::npos) << message;
    EXPECT_NE(message.find("position [0, 1]"), std::string::npos) << message;
  }

  // Backward checks every index before touching the table's gradient.
  plan.bind_input(ids, good);
  plan.forward({.training = true});
  table->gradient.fill(7);
  plan.bind_input(ids, out_of_range);
  EXPECT_THROW(plan.backward({.training = true}), ValueError);
  for (int64_t i = 0; i < table->gradient.num_elements(); ++i) {
    EXPECT_EQ(table->gradient.item(i), 7.0) << "gradient element " << i << " was written";
  }
}

TEST(MultiInputLayerTest, SingleInputLayersThroughTheListPath) {
  Dense dense(2, {.kernel_initializer = "ones"});
  std::vector<Shape> one{Shape{-1, 3}};
  EXPECT_EQ(static_cast<Layer&>(dense).compute_output_shape(std::span<const Shape>(one)),
            Shape({-1, 2}));
  dense.build(std::span<const Shape>(one));
  EXPECT_TRUE(dense.built());
  ASSERT_EQ(dense.input_shapes().size(), 1u);
  EXPECT_EQ(dense.input_shapes()[0], Shape({-1, 3}));
  Tensor y = run(dense, {Tensor::from_vector<float>(Shape{1, 3}, {1, 2, 3})});
  expect_values(y, {6, 6}, "dense through the list path");
  std::vector<Shape> two{Shape{-1, 3}, Shape{-1, 3}};
  EXPECT_THROW(static_cast<Layer&>(dense).compute_output_shape(std::span<const Shape>(two)),
               ValueError);
  EXPECT_THROW(run(dense, {Tensor::zeros(Shape{1, 3}), Tensor::zeros(Shape{1, 3})}), ValueError);
}

TEST(AddLayerTest, SumsInputsAndChecksShapes) {
  Add add;
  EXPECT_EQ(add.class_name(), "Add");
  std::vector<Shape> shapes{Shape{-1, 2, 3}, Shape{-1, 2, 3}, Shape{-1, 2, 3}};
  EXPECT_EQ(add.compute_output_shape(std::span<const Shape>(shapes)), Shape({-1, 2, 3}));
  add.build(std::span<const Shape>(shapes));
  EXPECT_EQ(add.input_shapes().size(), 3u);
  Tensor y = run(add, {Tensor::from_vector<float>(Shape{1, 2}, {1, 2}),
                       Tensor::from_vector<float>(Shape{1, 2}, {10, 20}),
                       Tensor::from_vector<float>(Shape{1, 2}, {100, 200})});
  expect_values(y, {111, 222}, "sum");
  std::vector<Shape> mismatched{Shape{-1, 2}, Shape{-1, 3}};
  EXPECT_THROW(add.compute_output_shape(std::span<const Shape>(mismatched)), ShapeError);
  EXPECT_THROW(add.compute_output_shape(Shape{-1, 2}), ValueError);
  EXPECT_THROW(add.compute_output_shape(std::span<const Shape>()), ValueError);
  graph::Graph graph;
  NodeId x = graph.add_input("x", {Shape{1, 2}});
  EXPECT_THROW(add.call(graph, x, {}), ValueError);
  // Built for three [.., 2, 3] inputs, it refuses others later.
  std::vector<Shape> other{Shape{-1, 2, 4}, Shape{-1, 2, 4}};
  EXPECT_THROW(add.build(std::span<const Shape>(other)), ShapeError);

  Add checked;
  expect_layer_gradients(checked,
                         {{testing::random_tensor({2, 3}, 1)},
                          {testing::random_tensor({2, 3}, 2)},
                          {testing::random_tensor({2, 3}, 3)}},
                         3, "add");
}

TEST(ConcatenateLayerTest, JoinsAlongAxisOneAndLast) {
  Concatenate last;
  EXPECT_EQ(last.class_name(), "Concatenate");
  EXPECT_EQ(last.axis(), -1);
  std::vector<Shape> shapes{Shape{-1, 2, 1}, Shape{-1, 2, 3}};
  EXPECT_EQ(last.compute_output_shape(std::span<const Shape>(shapes)), Shape({-1, 2, 4}));
  // [1, 2, 1] and [1, 2, 2] along -1: each row is a's value then b's two.
  Tensor y = run(last, {Tensor::from_vector<float>(Shape{1, 2, 1}, {1, 2}),
                        Tensor::from_vector<float>(Shape{1, 2, 2}, {3, 4, 5, 6})});
  EXPECT_EQ(y.shape(), Shape({1, 2, 3}));
  expect_values(y, {1, 3, 4, 2, 5, 6}, "axis -1");

  Concatenate axis1(1);
  std::vector<Shape> rows{Shape{-1, 1, 2}, Shape{-1, 2, 2}};
  EXPECT_EQ(axis1.compute_output_shape(std::span<const Shape>(rows)), Shape({-1, 3, 2}));
  // [2, 1, 2] and [2, 2, 2] along 1: per sample, a's row then b's two rows.
  y = run(axis1, {Tensor::from_vector<float>(Shape{2, 1, 2}, {1, 2, 3, 4}),
                  Tensor::from_vector<float>(Shape{2, 2, 2}, {5, 6, 7, 8, 9, 10, 11, 12})});
  EXPECT_EQ(y.shape(), Shape({2, 3, 2}));
  expect_values(y, {1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}, "axis 1");

  std::vector<Shape> mismatched{Shape{-1, 2, 1}, Shape{-1, 3, 1}};
  EXPECT_THROW(last.compute_output_shape(std::span<const Shape>(mismatched)), ShapeError);
  EXPECT_THROW(Concatenate(0).compute_output_shape(std::span<const Shape>(shapes)), ValueError);
  EXPECT_THROW(Concatenate(3).compute_output_shape(std::span<const Shape>(shapes)), ValueError);
  EXPECT_THROW(last.compute_output_shape(Shape{-1, 2}), ValueError);

  Concatenate checked_last, checked_axis1(1);
  expect_layer_gradients(
      checked_last,
      {{testing::random_tensor({2, 3, 1}, 4)}, {testing::random_tensor({2, 3, 2}, 5)}}, 2,
      "axis -1");
  expect_layer_gradients(checked_axis1,
                         {{testing::random_tensor({2, 2, 3}, 6)},
                          {testing::random_tensor({2, 1, 3}, 7)},
                          {testing::random_tensor({2, 3, 3}, 8)}},
                         3, "axis 1");
}

TEST(ZeroPadding2DTest, ShapesValuesAndGradient) {
  ZeroPadding2D same;
  EXPECT_EQ(same.class_name(), "ZeroPadding2D");
  EXPECT_EQ(same.compute_output_shape(Shape{-1, 4, 5, 3}), Shape({-1, 6, 7, 3}));
  ZeroPadding2D symmetric({2, 1});
  EXPECT_EQ(symmetric.compute_output_shape(Shape{-1, 4, 5, 3}), Shape({-1, 8, 7, 3}));
  ZeroPadding2D explicit_sides(Padding2({1, 0}, {0, 2}));
  EXPECT_EQ(explicit_sides.padding(), Padding2({1, 0}, {0, 2}));
  EXPECT_EQ(explicit_sides.compute_output_shape(Shape{-1, 2, 2, 1}), Shape({-1, 3, 4, 1}));
  // x [1, 2, 2, 1]: a zero row on top and two zero columns on the right.
  Tensor y = run(explicit_sides, {Tensor::from_vector<float>(Shape{1, 2, 2, 1}, {1, 2, 3, 4})});
  expect_values(y, {0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0}, "padded");
  EXPECT_THROW(ZeroPadding2D(-1), ValueError);
  EXPECT_THROW(same.compute_output_shape(Shape{-1, 4, 5}), ShapeError);
  expect_layer_gradients(explicit_sides, {{testing::random_tensor({2, 2, 3, 2}, 9)}}, 1,
                         "zero padding");
}

}  // namespace
}  // namespace trainyard::nn
