// The gradients a Functional model trains with, checked against float64 finite differences: a DAG
// with two inputs, a layer shared between two branches (its gradient sums both uses), Add and
// Concatenate, a regularized kernel, and two outputs whose losses enter the total with loss
// weights, built exactly as the trainer builds its training step.
#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include "keras/compile_loss.h"
#include "support/gradient_check.h"

namespace trainyard::keras {
namespace {

Functional float64_model() {
  auto shared = layers::Dense(3, {.activation = "tanh", .name = "shared"});
  auto proj = layers::Dense(
      4,
      {.activation = "sigmoid", .kernel_regularizer = nn::regularizers::L2(0.01), .name = "proj"});
  auto add = layers::Add("add");
  auto cat = layers::Concatenate(-1, "cat");
  auto head1 = layers::Dense(3, {.name = "head1"});
  auto head2 = layers::Dense(2, {.name = "head2"});
  // Weights are created when a layer is first called, so the dtype is set before.
  for (nn::Layer* layer : std::vector<nn::Layer*>{shared.get(), proj.get(), add.get(), cat.get(),
                                                  head1.get(), head2.get()}) {
    layer->set_dtype(DType::kFloat64);
  }
  auto a = Input({4}, "a");
  auto b = Input({2}, "b");
  auto from_a = shared(a);
  auto from_b = shared(proj(b));
  auto sum = add({from_a, from_b});
  auto out1 = head1(cat({sum, from_b}));
  auto out2 = head2(sum);
  return Functional({a, b}, {out1, out2});
}

TEST(FunctionalGradientTest, WeightedTwoOutputLossMatchesFiniteDifferences) {
  Functional model = float64_model();
  const int64_t rows = 5;

  // Inputs and targets are fed as graph variables; targets get no gradient.
  std::vector<testing::GradientCheckInput> inputs;
  inputs.push_back({.value = testing::random_tensor(Shape{rows, 4}, 1)});
  inputs.push_back({.value = testing::random_tensor(Shape{rows, 2}, 2)});
  Tensor classes = Tensor::from_vector<double>({rows}, {0, 2, 1, 2, 0});
  inputs.push_back({.value = classes, .differentiable = false});
  inputs.push_back({.value = testing::random_tensor(Shape{rows, 2}, 3), .differentiable = false});
  const size_t first_weight = inputs.size();
  for (const auto& weight : model.weights()) inputs.push_back({.variable = weight});
  ASSERT_EQ(inputs.size() - first_weight,
            8u);  // shared, proj, head1, head2: kernel and bias

  backend::Loss crossentropy = losses::SparseCategoricalCrossentropy({.from_logits = true})
                                   .resolve(Shape{rows, 3}, Shape{rows});
  backend::Loss squared = nn::LossFunction("mse").resolve(Shape{rows, 2}, Shape{rows, 2});
  const std::vector<backend::Loss> losses{crossentropy, squared};
  const std::vector<std::optional<double>> weights{0.3, 2.5};

  auto build = [&](graph::Graph& graph, const std::vector<graph::NodeId>& nodes) {
    std::vector<graph::NodeId> predictions =
        model.call(graph, std::span<const graph::NodeId>(nodes.data(), 2), {.training = true});
    std::vector<graph::NodeId> penalties;
    for (const auto& layer : model.layers()) {
      for (graph::NodeId penalty : layer->losses(graph)) penalties.push_back(penalty);
    }
    EXPECT_EQ(penalties.size(), 1u);
    LossNodes loss = add_loss_nodes(graph, losses, weights, predictions,
                                    std::span<const graph::NodeId>(nodes.data() + 2, 2), penalties);
    return loss.total;
  };
  auto result = testing::check_gradients(build, inputs, {.tolerance = 1e-6});
  EXPECT_TRUE(result.passed) << result.report << " (worst " << result.worst_error << ")";
}

TEST(FunctionalGradientTest, LossWeightsScaleEachOutputsGradient) {
  // The same model with weights (1, 0) and (0, 1): the gradient with weights (0.3, 2.5) is 0.3
  // times the first plus 2.5 times the second (the penalty counted once, in the first).
  Functional model = float64_model();
  const int64_t rows = 4;
  Tensor a = testing::random_tensor(Shape{rows, 4}, 5);
  Tensor b = testing::random_tensor(Shape{rows, 2}, 6);
  Tensor y1 = Tensor::from_vector<double>({rows}, {1, 0, 2, 1});
  Tensor y2 = testing::random_tensor(Shape{rows, 2}, 7);
  std::vector<backend::Loss> losses{
      losses::SparseCategoricalCrossentropy({.from_logits = true})
          .resolve(Shape{rows, 3}, Shape{rows}),
      nn::LossFunction("mse").resolve(Shape{rows, 2}, Shape{rows, 2})};

  auto gradients_for = [&](std::vector<std::optional<double>> weights, bool with_penalty) {
    graph::Graph graph;
    std::vector<graph::NodeId> x{graph.add_input("a", {a.shape(), DType::kFloat64}),
                                 graph.add_input("b", {b.shape(), DType::kFloat64})};
    std::vector<graph::NodeId> y{graph.add_input("y1", {y1.shape(), DType::kFloat64}),
                                 graph.add_input("y2", {y2.shape(), DType::kFloat64})};
    std::vector<graph::NodeId> predictions = model.call(graph, x, {.training = true});
    std::vector<graph::NodeId> penalties;
    if (with_penalty) {
      for (const auto& layer : model.layers()) {
        for (graph::NodeId penalty : layer->losses(graph)) penalties.push_back(penalty);
      }
    }
    LossNodes loss = add_loss_nodes(graph, losses, weights, predictions, y, penalties);
    for (const auto& weight : model.trainable_weights()) {
      weight->gradient = Tensor::zeros(weight->value.shape(), DType::kFloat64);
    }
    graph::StepPlan plan(graph, {.outputs = {}, .loss = loss.total}, backend::cpu_backend());
    plan.bind_input(x[0], a);
    plan.bind_input(x[1], b);
    plan.bind_input(y[0], y1);
    plan.bind_input(y[1], y2);
    plan.forward({.training = true});
    plan.backward({.training = true});
    std::vector<double> all;
    for (const auto& weight : model.trainable_weights()) {
      auto values = weight->gradient.to_vector<double>();
      all.insert(all.end(), values.begin(), values.end());
    }
    return all;
  };
  std::vector<double> first = gradients_for({1.0, 0.0}, true);
  std::vector<double> second = gradients_for({0.0, 1.0}, false);
  std::vector<double> mixed = gradients_for({0.3, 2.5}, true);
  // The penalty's gradient enters `mixed` once, and `first` once: subtract 0.7 of it.
  std::vector<double> penalty = gradients_for({0.0, 0.0}, true);
  ASSERT_EQ(first.size(), mixed.size());
  for (size_t i = 0; i < mixed.size(); ++i) {
    double expected = 0.3 * first[i] + 2.5 * second[i] + 0.7 * penalty[i];
    EXPECT_NEAR(mixed[i], expected, 1e-12 * std::max(1.0, std::abs(expected))) << i;
  }
}

}  // namespace
}  // namespace trainyard::keras
