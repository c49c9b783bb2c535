// Every op in every variant passes the shared float64 finite-difference check: affine,
// bias_add, each activation, reshape inside a graph, dropout on a training step, every loss
// variant, and graphs where one value or one variable feeds several consumers. Points stay
// away from kinks (relu at 0, mae at y, the clip bounds) so central differences are valid.
#include <gtest/gtest.h>

#include "graph/ops/ops.h"
#include "support/gradient_check.h"

namespace trainyard {
namespace {

using backend::Activation;
using backend::ActivationKind;
using backend::Loss;
using backend::LossKind;
using graph::Graph;
using graph::NodeId;
using testing::check_gradients;
using testing::GradientCheckInput;
using testing::GradientCheckOptions;
using testing::GraphBuilder;
using testing::random_tensor;

void expect_gradients(const GraphBuilder& build, const std::vector<GradientCheckInput>& inputs,
                      const GradientCheckOptions& options = {}) {
  auto result = check_gradients(build, inputs, options);
  EXPECT_TRUE(result.passed) << result.report << " (worst relative error " << result.worst_error
                             << ")";
}

// Uniform magnitudes in [0.1, 2) with random signs: no element within 0.1 of a kink at 0.
Tensor away_from_zero(const Shape& shape, uint64_t seed) {
  Tensor magnitude = random_tensor(shape, seed, 0.1, 2.0);
  Tensor sign = random_tensor(shape, seed + 1000, -1.0, 1.0);
  double* m = magnitude.data<double>();
  const double* s = sign.data<double>();
  for (int64_t i = 0; i < magnitude.num_elements(); ++i) m[i] = s[i] < 0 ? -m[i] : m[i];
  return magnitude;
}

TEST(AffineGradientTest, EveryVariant) {
  auto with_bias = [](Graph& g, const std::vector<NodeId>& in) {
    return g.add_op(graph::ops::affine(), {in[0], in[1], in[2]});
  };
  auto without_bias = [](Graph& g, const std::vector<NodeId>& in) {
    return g.add_op(graph::ops::affine(), {in[0], in[1]});
  };
  expect_gradients(
      with_bias, {{random_tensor({4, 3}, 1)}, {random_tensor({3, 5}, 2)}, {random_tensor({5}, 3)}});
  expect_gradients(without_bias, {{random_tensor({4, 3}, 4)}, {random_tensor({3, 5}, 5)}});
  // Rank 3: [2, 3, 4] rows flattened to [6, 4] @ [4, 5] + [5].
  expect_gradients(
      with_bias,
      {{random_tensor({2, 3, 4}, 6)}, {random_tensor({4, 5}, 7)}, {random_tensor({5}, 8)}});
  // A single row and a single output column.
  expect_gradients(
      with_bias,
      {{random_tensor({1, 7}, 9)}, {random_tensor({7, 1}, 10)}, {random_tensor({1}, 11)}});
}

TEST(AffineGradientTest, OnlySomeInputsDifferentiable) {
  auto with_bias = [](Graph& g, const std::vector<NodeId>& in) {
    return g.add_op(graph::ops::affine(), {in[0], in[1], in[2]});
  };
  // A frozen kernel (trainable = false) still passes the gradient to x and the bias.
  expect_gradients(
      with_bias,
      {{random_tensor({3, 4}, 12)}, {random_tensor({4, 2}, 13), false}, {random_tensor({2}, 14)}});
  // Only the kernel trains (x is data).
  expect_gradients(with_bias, {{random_tensor({3, 4}, 15), false},
                               {random_tensor({4, 2}, 16)},
                               {random_tensor({2}, 17), false}});
}

TEST(BiasAddGradientTest, RankTwoAndThree) {
  auto build = [](Graph& g, const std::vector<NodeId>& in) {
    return g.add_op(graph::ops::bias_add(), {in[0], in[1]});
  };
  expect_gradients(build, {{random_tensor({4, 3}, 20)}, {random_tensor({3}, 21)}});
  expect_gradients(build, {{random_tensor({2, 3, 4}, 22)}, {random_tensor({4}, 23)}});
}

TEST(ActivationGradientTest, EveryActivation) {
  std::vector<Activation> activations = {
      {ActivationKind::kLinear},         {ActivationKind::kRelu},
      {ActivationKind::kSigmoid},        {ActivationKind::kTanh},
      {ActivationKind::kSoftmax},        {ActivationKind::kGelu},
      {ActivationKind::kSilu},           {ActivationKind::kLeakyRelu, 0.2},
      {ActivationKind::kLeakyRelu, 0.3}, {ActivationKind::kElu, 1.0},
      {ActivationKind::kElu, 0.5},       {ActivationKind::kSoftplus},
  };
  uint64_t seed = 30;
  for (const Activation& activation : activations) {
    SCOPED_TRACE(std::string(backend::activation_name(activation.kind)) + " alpha " +
                 std::to_string(activation.alpha));
    auto build = [activation](Graph& g, const std::vector<NodeId>& in) {
      return g.add_op(graph::ops::activation(activation), {in[0]});
    };
    expect_gradients(build, {{away_from_zero({4, 5}, ++seed)}});
    expect_gradients(build, {{away_from_zero({2, 3, 4}, ++seed)}});
    // Behind an affine, so the activation's input gradient lands in a planned buffer
    // instead of a variable's own.
    auto behind_affine = [activation](Graph& g, const std::vector<NodeId>& in) {
      NodeId pre = g.add_op(graph::ops::affine(), {in[0], in[1]});
      return g.add_op(graph::ops::activation(activation), {pre});
    };
    expect_gradients(behind_affine,
                     {{random_tensor({3, 4}, ++seed)}, {random_tensor({4, 6}, ++seed)}});
  }
}

TEST(ReshapeGradientTest, InTheMiddleOfAGraph) {
  // affine -> reshape -> tanh: the reshape's backward copy moves tanh's input gradient
  // into the affine output's gradient buffer.
  expect_gradients(
      [](Graph& g, const std::vector<NodeId>& in) {
        NodeId pre = g.add_op(graph::ops::affine(), {in[0], in[1]});  // [2, 4]
        NodeId viewed = g.add_op(graph::ops::reshape(Shape{4, 2}), {pre});
        return g.add_op(graph::ops::activation({ActivationKind::kTanh}), {viewed});
      },
      {{random_tensor({2, 6}, 40)}, {random_tensor({6, 4}, 41)}});
  // A reshape of a variable (Flatten of the input) feeding an affine.
  expect_gradients(
      [](Graph& g, const std::vector<NodeId>& in) {
        NodeId flat = g.add_op(graph::ops::reshape(Shape{3, 4}), {in[0]});
        return g.add_op(graph::ops::affine(), {flat, in[1]});
      },
      {{random_tensor({3, 2, 2}, 42)}, {random_tensor({4, 5}, 43)}});
  // A view of a view of a value that also feeds a second consumer. The second consumer is
  // added last, so its backward runs first and the reshape's copy must accumulate.
  expect_gradients(
      [](Graph& g, const std::vector<NodeId>& in) {
        NodeId pre = g.add_op(graph::ops::activation({ActivationKind::kSigmoid}), {in[0]});
        NodeId once = g.add_op(graph::ops::reshape(Shape{2, 3, 2}), {pre});  // [4, 3] viewed
        NodeId twice = g.add_op(graph::ops::reshape(Shape{6, 2}), {once});
        NodeId left = g.add_op(graph::ops::activation({ActivationKind::kTanh}), {twice});
        NodeId other = g.add_op(graph::ops::affine(), {pre, in[1]});          // [4, 2]
        NodeId kernel = g.add_op(graph::ops::reshape(Shape{2, 4}), {other});  // [2, 4]
        return g.add_op(graph::ops::affine(), {left, kernel});                // [6, 4]
      },
      {{random_tensor({4, 3}, 44)}, {random_tensor({3, 2}, 45)}});
}

TEST(DropoutGradientTest, TrainingStepUsesTheForwardMask) {
  // The mask is a pure function of (seed, step), so the perturbed forward passes see the
  // same mask and finite differences are valid.
  for (double rate : {0.2, 0.5}) {
    auto build = [rate](Graph& g, const std::vector<NodeId>& in) {
      NodeId pre = g.add_op(graph::ops::affine(), {in[0], in[1]});
      return g.add_op(graph::ops::dropout(rate, 99), {pre});
    };
    expect_gradients(build, {{random_tensor({6, 5}, 50)}, {random_tensor({5, 8}, 51)}});
    // Inference: identity.
    expect_gradients(build, {{random_tensor({6, 5}, 52)}, {random_tensor({5, 8}, 53)}},
                     {.step_info = {.training = false, .step = 3}});
  }
}

struct LossCase {
  Loss loss;
  bool weighted;
};

std::string describe(const Loss& loss, bool weighted) {
  static const char* names[] = {"mean_squared_error", "mean_absolute_error", "binary_crossentropy",
                                "categorical_crossentropy", "sparse_categorical_crossentropy"};
  return std::string(names[static_cast<int>(loss.kind)]) + (loss.from_logits ? " logits" : "") +
         " smoothing " + std::to_string(loss.label_smoothing) + (weighted ? " weighted" : "");
}

// Predictions away from the clip bounds and targets away from the predictions.
std::vector<GradientCheckInput> loss_inputs(const Loss& loss, const Shape& shape, bool weighted,
                                            uint64_t seed) {
  const int64_t columns = shape[-1];
  const int64_t rows = shape.num_elements() / columns;
  Shape row_shape(std::vector<int64_t>(shape.dims().begin(), shape.dims().end() - 1));
  Tensor pred;
  Tensor truth;
  switch (loss.kind) {
    case LossKind::kMeanSquaredError:
    case LossKind::kMeanAbsoluteError:
      pred = random_tensor(shape, seed, -2, 2);
      truth = random_tensor(shape, seed + 1, -2, 2);
      break;
    case LossKind::kBinaryCrossentropy:
      pred = loss.from_logits ? random_tensor(shape, seed, -3, 3)
                              : random_tensor(shape, seed, 0.05, 0.95);
      truth = random_tensor(shape, seed + 1, 0, 1);  // soft targets
      for (int64_t i = 0; i < truth.num_elements(); i += 3) truth.data<double>()[i] = 1.0;
      break;
    case LossKind::kCategoricalCrossentropy:
      pred = loss.from_logits ? random_tensor(shape, seed, -3, 3)
                              : random_tensor(shape, seed, 0.1, 1.0);  // sums != 1
      // One-hot rows, and rows whose targets do not sum to 1 (multi-hot), where the
      // from-logits gradient is softmax * sum(targets) - targets.
      truth = random_tensor(shape, seed + 1, 0, 1);
      for (int64_t r = 0; r < rows; r += 2) {
        for (int64_t j = 0; j < columns; ++j) {
          truth.data<double>()[r * columns + j] = j == (r * 5 + 1) % columns ? 1 : 0;
        }
      }
      break;
    case LossKind::kSparseCategoricalCrossentropy: {
      pred = loss.from_logits ? random_tensor(shape, seed, -3, 3)
                              : random_tensor(shape, seed, 0.1, 0.9);
      std::vector<int32_t> labels;
      for (int64_t r = 0; r < rows; ++r)
        labels.push_back(static_cast<int32_t>((r * 5 + 1) % columns));
      truth = Tensor::from_vector<int32_t>(row_shape, labels);
      break;
    }
  }
  std::vector<GradientCheckInput> inputs = {{pred}, {truth, false}};
  if (weighted) {
    Tensor weights = random_tensor(row_shape, seed + 2, 0, 2);
    weights.data<double>()[0] = 0;
    inputs.push_back({weights, false});
  }
  return inputs;
}

TEST(LossGradientTest, EveryLossEveryVariant) {
  std::vector<Loss> losses = {{LossKind::kMeanSquaredError}, {LossKind::kMeanAbsoluteError}};
  for (LossKind kind : {LossKind::kBinaryCrossentropy, LossKind::kCategoricalCrossentropy}) {
    for (bool from_logits : {false, true}) {
      for (double smoothing : {0.0, 0.1}) losses.push_back({kind, from_logits, smoothing});
    }
  }
  losses.push_back({LossKind::kSparseCategoricalCrossentropy, false});
  losses.push_back({LossKind::kSparseCategoricalCrossentropy, true});
  uint64_t seed = 60;
  for (const Loss& loss : losses) {
    for (bool weighted : {false, true}) {
      for (const Shape& shape : {Shape{4, 3}, Shape{2, 3, 4}}) {
        SCOPED_TRACE(describe(loss, weighted) + " on " + shape.to_string());
        auto build = [loss](Graph& g, const std::vector<NodeId>& in) {
          std::vector<NodeId> operands(in.begin(), in.end());
          return g.add_op(graph::ops::loss(loss), operands);
        };
        expect_gradients(build, loss_inputs(loss, shape, weighted, seed += 3));
      }
    }
  }
}

// A classifier head as Keras builds it: Dense, softmax, then a probability loss; and the
// fused form, Dense then a from-logits loss. The gradient flows through the loss into the
// affine's kernel and bias.
TEST(LossGradientTest, BehindAnAffineAndSoftmax) {
  Tensor labels = Tensor::from_vector<float>(Shape{4, 1}, {0, 2, 1, 2});  // float labels
  for (bool from_logits : {false, true}) {
    SCOPED_TRACE(from_logits ? "from logits" : "from probabilities");
    expect_gradients(
        [from_logits](Graph& g, const std::vector<NodeId>& in) {
          NodeId logits = g.add_op(graph::ops::affine(), {in[0], in[1], in[2]});
          NodeId pred =
              from_logits ? logits
                          : g.add_op(graph::ops::activation({ActivationKind::kSoftmax}), {logits});
          return g.add_op(graph::ops::loss({LossKind::kSparseCategoricalCrossentropy, from_logits}),
                          {pred, in[3]});
        },
        {{random_tensor({4, 5}, 80)},
         {random_tensor({5, 3}, 81)},
         {random_tensor({3}, 82)},
         {labels, false}});
  }
}

TEST(FanOutGradientTest, OneValueFeedsTwoConsumers) {
  // h feeds tanh and sigmoid; their results meet in an affine (tanh(h) @ sigmoid(h)), so
  // h's gradient is the sum of two backward contributions.
  expect_gradients(
      [](Graph& g, const std::vector<NodeId>& in) {
        NodeId h = g.add_op(graph::ops::affine(), {in[0], in[1]});  // [3, 3]
        NodeId left = g.add_op(graph::ops::activation({ActivationKind::kTanh}), {h});
        NodeId right = g.add_op(graph::ops::activation({ActivationKind::kSigmoid}), {h});
        return g.add_op(graph::ops::affine(), {left, right});
      },
      {{random_tensor({3, 4}, 90)}, {random_tensor({4, 3}, 91)}});
  // One value in both operand slots of one op: t @ t.
  expect_gradients(
      [](Graph& g, const std::vector<NodeId>& in) {
        NodeId t = g.add_op(graph::ops::activation({ActivationKind::kTanh}), {in[0]});
        return g.add_op(graph::ops::affine(), {t, t});
      },
      {{random_tensor({3, 3}, 92)}});
  // h feeds a bias_add and an affine, whose results meet in a third op.
  expect_gradients(
      [](Graph& g, const std::vector<NodeId>& in) {
        NodeId h = g.add_op(graph::ops::activation({ActivationKind::kSilu}), {in[0]});  // [2, 2]
        NodeId shifted = g.add_op(graph::ops::bias_add(), {h, in[1]});
        NodeId mixed = g.add_op(graph::ops::affine(), {h, in[2]});
        return g.add_op(graph::ops::affine(), {shifted, mixed});
      },
      {{random_tensor({2, 2}, 93)}, {random_tensor({2}, 94)}, {random_tensor({2, 2}, 95)}});
}

TEST(FanOutGradientTest, VariableReadThroughTwoNodes) {
  // A shared layer: the kernel's variable appears as two graph nodes, one per use, and
  // both uses add into its single gradient buffer.
  expect_gradients(
      [](Graph& g, const std::vector<NodeId>& in) {
        NodeId second_read = g.add_variable(g.node(in[1]).variable);
        NodeId first = g.add_op(graph::ops::affine(), {in[0], in[1]});
        NodeId act = g.add_op(graph::ops::activation({ActivationKind::kTanh}), {first});
        return g.add_op(graph::ops::affine(), {act, second_read});
      },
      {{random_tensor({3, 4}, 100)}, {random_tensor({4, 4}, 101)}});
  // The same, with the second read created before the first use and used in the other
  // order, plus a bias shared the same way.
  expect_gradients(
      [](Graph& g, const std::vector<NodeId>& in) {
        NodeId kernel_again = g.add_variable(g.node(in[1]).variable);
        NodeId bias_again = g.add_variable(g.node(in[2]).variable);
        NodeId first = g.add_op(graph::ops::affine(), {in[0], kernel_again, bias_again});
        NodeId act = g.add_op(graph::ops::activation({ActivationKind::kSigmoid}), {first});
        NodeId second = g.add_op(graph::ops::affine(), {act, in[1], in[2]});
        return g.add_op(graph::ops::activation({ActivationKind::kElu, 1.0}), {second});
      },
      {{random_tensor({2, 3}, 102)}, {random_tensor({3, 3}, 103)}, {random_tensor({3}, 104)}});
}

// Twelve layers: buffers are reused by liveness, and backward must still read the right
// forward values.
TEST(DeepGraphGradientTest, TwelveLayerChain) {
  std::vector<GradientCheckInput> inputs = {{random_tensor({3, 4}, 110)}};
  for (uint64_t layer = 0; layer < 12; ++layer) {
    inputs.push_back({random_tensor({4, 4}, 111 + layer, -0.8, 0.8)});
  }
  expect_gradients(
      [](Graph& g, const std::vector<NodeId>& in) {
        NodeId h = in[0];
        for (size_t layer = 1; layer < in.size(); ++layer) {
          h = g.add_op(graph::ops::affine(), {h, in[layer]});
          h = g.add_op(graph::ops::activation(
                           {layer % 2 ? ActivationKind::kTanh : ActivationKind::kSigmoid}),
                       {h});
        }
        return h;
      },
      inputs);
}

}  // namespace
}  // namespace trainyard
