// StepPlan's schedule and memory: call lists in the right order, buffers shared by
// liveness without one live value overwriting another, and forward-only plans.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <sstream>

#include "graph/ops/ops.h"
#include "graph/step_plan.h"

namespace trainyard::graph {
namespace {

using backend::ActivationKind;
using backend::LossKind;

size_t aligned(size_t bytes) {
  return (bytes + 63) / 64 * 64;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

VariablePtr make_variable(const std::string& path, const Tensor& value) {
  auto variable = std::make_shared<Variable>();
  variable->path = path;
  variable->value = value;
  variable->gradient = Tensor::zeros(value.shape(), value.dtype());
  return variable;
}

Tensor uniform(const Shape& shape, float low, float high, uint32_t seed) {
  Tensor tensor = Tensor::zeros(shape);
  float* data = tensor.data<float>();
  uint32_t state = seed * 2654435761u + 1;
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    state = state * 1664525u + 1013904223u;
    data[i] = low + (high - low) * static_cast<float>(state >> 8) / 16777216.0f;
  }
  return tensor;
}

// A forward-only chain of 30 tanh ops over a [64, 64] input: each value is dead once the
// next op has read it, so a handful of buffers serve all 30.
TEST(StepPlanMemoryTest, ForwardChainReusesBuffersAndComputesTheRightValue) {
  const int depth = 30;
  Graph graph;
  NodeId x = graph.add_input("x", {Shape{64, 64}, DType::kFloat32});
  NodeId h = x;
  for (int i = 0; i < depth; ++i) {
    h = graph.add_op(ops::activation({ActivationKind::kTanh}), {h}, "tanh_" + std::to_string(i));
  }
  StepPlan plan(graph, {.outputs = {h}}, backend::cpu_backend());
  const size_t buffer = aligned(64 * 64 * sizeof(float));
  EXPECT_LT(plan.arena_bytes(), depth * buffer);
  EXPECT_LE(plan.arena_bytes(), 3 * buffer);

  Tensor input = uniform(Shape{64, 64}, -3, 3, 1);
  plan.bind_input(x, input);
  plan.forward({});
  // The same 30 kernel calls on separate buffers give the same bits.
  Tensor expected = input.clone();
  for (int i = 0; i < depth; ++i) {
    Tensor next = Tensor::zeros(expected.shape());
    backend::cpu_backend().activation_forward({ActivationKind::kTanh}, expected, next);
    expected = next;
  }
  const Tensor& got = plan.value(h);
  ASSERT_EQ(got.nbytes(), expected.nbytes());
  EXPECT_EQ(std::memcmp(got.raw_data(), expected.raw_data(), got.nbytes()), 0);
}

struct TrainingChain {
  Graph graph;
  NodeId x = -1, y = -1, prediction = -1, loss = -1;
  std::vector<VariablePtr> kernels;
};

// x [32, 32] through `depth` (affine, tanh) layers to an MSE loss against y.
TrainingChain make_training_chain(int depth) {
  TrainingChain chain;
  chain.x = chain.graph.add_input("x", {Shape{32, 32}, DType::kFloat32});
  chain.y = chain.graph.add_input("y", {Shape{32, 32}, DType::kFloat32});
  NodeId h = chain.x;
  for (int i = 0; i < depth; ++i) {
    auto kernel = make_variable("dense_" + std::to_string(i) + "/kernel",
                                uniform(Shape{32, 32}, -0.3f, 0.3f, 10 + i));
    chain.kernels.push_back(kernel);
    NodeId w = chain.graph.add_variable(kernel);
    h = chain.graph.add_op(ops::affine(), {h, w}, "dense_" + std::to_string(i));
    h = chain.graph.add_op(ops::activation({ActivationKind::kTanh}), {h},
                           "tanh_" + std::to_string(i));
  }
  chain.prediction = h;
  chain.loss = chain.graph.add_op(ops::loss({LossKind::kMeanSquaredError}), {h, chain.y}, "loss");
  return chain;
}

TEST(StepPlanMemoryTest, TrainingChainArenaIsSmallerThanItsBuffers) {
  const int depth = 10;
  TrainingChain chain = make_training_chain(depth);
  StepPlan plan(chain.graph, {.outputs = {chain.prediction}, .loss = chain.loss},
                backend::cpu_backend());
  // Planned buffers: each op's value and each op's gradient (the loss's gradient is the
  // seed, outside the arena).
  const size_t activation = aligned(32 * 32 * sizeof(float));
  const size_t values = 2 * depth * activation + aligned(sizeof(float));
  const size_t gradients = 2 * depth * activation;
  EXPECT_LT(plan.arena_bytes(), values + gradients);
  // Gradients live two steps each, and the values backward has finished with free up as
  // it goes, so the gradients need no more than a few buffers beyond the values.
  EXPECT_LE(plan.arena_bytes(), values + 3 * activation);
}

// Liveness reuse must never let a gradient overwrite an output that the caller reads after
// backward, and gradients must be overwritten (not summed) from one step to the next.
TEST(StepPlanMemoryTest, OutputsSurviveBackwardAndGradientsDoNotCarryOver) {
  TrainingChain chain = make_training_chain(6);
  StepPlan train(chain.graph, {.outputs = {chain.prediction}, .loss = chain.loss},
                 backend::cpu_backend());
  StepPlan predict(chain.graph, {.outputs = {chain.prediction}}, backend::cpu_backend());
  Tensor x = uniform(Shape{32, 32}, -1, 1, 3);
  Tensor y = uniform(Shape{32, 32}, -1, 1, 4);
  train.bind_input(chain.x, x);
  train.bind_input(chain.y, y);
  predict.bind_input(chain.x, x);

  predict.forward({});
  Tensor expected_prediction = predict.value(chain.prediction).clone();
  train.forward({.training = true});
  train.backward({.training = true});
  const Tensor& prediction = train.value(chain.prediction);
  EXPECT_EQ(std::memcmp(prediction.raw_data(), expected_prediction.raw_data(), prediction.nbytes()),
            0);
  std::vector<Tensor> first_gradients;
  for (const auto& kernel : chain.kernels) first_gradients.push_back(kernel->gradient.clone());
  double norm = 0;
  for (int64_t i = 0; i < first_gradients[0].num_elements(); ++i) {
    norm += std::abs(first_gradients[0].item(i));
  }
  EXPECT_GT(norm, 0.0) << "the first layer received no gradient";

  train.forward({.training = true});
  train.backward({.training = true});
  for (size_t k = 0; k < chain.kernels.size(); ++k) {
    EXPECT_EQ(std::memcmp(chain.kernels[k]->gradient.raw_data(), first_gradients[k].raw_data(),
                          first_gradients[k].nbytes()),
              0)
        << "kernel " << k << " gradient changed between identical steps";
  }
}

// describe() lists forward calls in topological order, then backward calls in reverse,
// leaving out ops the loss does not need gradients from.
TEST(StepPlanScheduleTest, DescribeListsForwardThenBackward) {
  Graph graph;
  NodeId x = graph.add_input("x", {Shape{4, 3}, DType::kFloat32});
  NodeId labels = graph.add_input("labels", {Shape{4}, DType::kInt32});
  NodeId kernel = graph.add_variable(make_variable("dense/kernel", Tensor::zeros(Shape{3, 5})));
  NodeId bias = graph.add_variable(make_variable("dense/bias", Tensor::zeros(Shape{5})));
  // Preprocessing on the data input: runs forward, needs no gradient.
  NodeId scaled = graph.add_op(ops::activation({ActivationKind::kSigmoid}), {x}, "preprocess");
  NodeId dense = graph.add_op(ops::affine(), {scaled, kernel, bias}, "dense");
  NodeId dropped = graph.add_op(ops::dropout(0.5, 7), {dense}, "dropout");
  NodeId loss = graph.add_op(ops::loss({LossKind::kSparseCategoricalCrossentropy, true}),
                             {dropped, labels}, "loss");
  // Not an ancestor of the loss or of any output: never scheduled.
  graph.add_op(ops::activation({ActivationKind::kRelu}), {dense}, "unused");

  StepPlan plan(graph, {.outputs = {}, .loss = loss}, backend::cpu_backend());
  EXPECT_TRUE(plan.has_backward());
  std::vector<std::string> lines = lines_of(plan.describe());
  ASSERT_EQ(lines.size(), 8u) << plan.describe();
  EXPECT_EQ(lines[0], "forward preprocess");
  EXPECT_EQ(lines[1], "forward dense");
  EXPECT_EQ(lines[2], "forward dropout");
  EXPECT_EQ(lines[3], "forward loss");
  EXPECT_EQ(lines[4], "backward loss");
  EXPECT_EQ(lines[5], "backward dropout");
  EXPECT_EQ(lines[6], "backward dense");
  EXPECT_EQ(lines[7], "arena " + std::to_string(plan.arena_bytes()) + " bytes");
}

TEST(StepPlanScheduleTest, ForwardOnlyPlansHaveNoBackward) {
  TrainingChain chain = make_training_chain(3);
  StepPlan plan(chain.graph, {.outputs = {chain.prediction}}, backend::cpu_backend());
  EXPECT_FALSE(plan.has_backward());
  std::string text = plan.describe();
  EXPECT_EQ(text.find("backward"), std::string::npos) << text;
  // The loss is not an output of a prediction plan, so it is not computed either.
  EXPECT_EQ(text.find("forward loss"), std::string::npos) << text;
  EXPECT_NE(text.find("forward tanh_2"), std::string::npos) << text;
  plan.bind_input(chain.x, Tensor::zeros(Shape{32, 32}));
  plan.forward({});
  EXPECT_THROW(plan.backward({}), InternalError);
  EXPECT_THROW(plan.value(chain.loss), ValueError);

  // A model whose variables are all frozen computes its loss but schedules no backward.
  for (const auto& kernel : chain.kernels) kernel->trainable = false;
  StepPlan frozen(chain.graph, {.outputs = {}, .loss = chain.loss}, backend::cpu_backend());
  EXPECT_FALSE(frozen.has_backward());
  EXPECT_NE(frozen.describe().find("forward loss"), std::string::npos);
}

// Mixed precision's master-kernel Affine: the kernel gradient lands in the float32 variable
// straight from the product, so the Cast that made the bfloat16 kernel copy runs forward
// only, and the gradient matches a float64 product of the same bfloat16 values.
TEST(StepPlanScheduleTest, MasterKernelGradientSkipsTheCast) {
  const int64_t batch = 6, in = 5, out = 3;
  Graph graph;
  NodeId x = graph.add_input("x", {Shape{batch, in}, DType::kFloat32});
  NodeId target = graph.add_input("target", {Shape{batch, out}, DType::kFloat32});
  VariablePtr master = make_variable("dense/kernel", uniform(Shape{in, out}, -1, 1, 3));
  NodeId kernel_variable = graph.add_variable(master);
  NodeId x_copy = graph.add_op(ops::cast(DType::kBFloat16), {x}, "x/cast");
  NodeId kernel = graph.add_op(ops::cast(DType::kBFloat16), {kernel_variable}, "kernel/cast");
  NodeId dense =
      graph.add_op(ops::affine_with_master_kernel(), {x_copy, kernel, kernel_variable}, "dense");
  NodeId widened = graph.add_op(ops::cast(DType::kFloat32), {dense}, "dense/cast");
  NodeId loss =
      graph.add_op(ops::loss({LossKind::kMeanSquaredError, false}), {widened, target}, "loss");

  StepPlan plan(graph, {.outputs = {}, .loss = loss}, backend::cpu_backend());
  const std::string text = plan.describe();
  EXPECT_EQ(text.find("backward kernel/cast"), std::string::npos) << text;
  EXPECT_EQ(text.find("backward x/cast"), std::string::npos) << text;
  EXPECT_NE(text.find("backward dense\n"), std::string::npos) << text;

  Tensor x_value = uniform(Shape{batch, in}, -1, 1, 4);
  plan.bind_input(x, x_value);
  plan.bind_input(target, Tensor::zeros(Shape{batch, out}));
  master->gradient.fill(123.0);  // overwritten, not added to: the Affine writes it first
  plan.forward({.training = true});
  plan.backward({.training = true});

  // float64 reference from the bfloat16-rounded operands: loss = mean(z^2), z = x @ kernel,
  // so dkernel = x^T (2 z / (batch * out)).
  Tensor x64 = x_value.cast(DType::kBFloat16).cast(DType::kFloat64);
  Tensor kernel64 = master->value.cast(DType::kBFloat16).cast(DType::kFloat64);
  double difference = 0, norm = 0;
  for (int64_t i = 0; i < in; ++i) {
    for (int64_t j = 0; j < out; ++j) {
      double expected = 0;
      for (int64_t b = 0; b < batch; ++b) {
        double z = 0;
        for (int64_t k = 0; k < in; ++k) {
          z += x64.data<double>()[b * in + k] * kernel64.data<double>()[k * out + j];
        }
        expected += x64.data<double>()[b * in + i] * 2.0 * z / static_cast<double>(batch * out);
      }
      const double got = master->gradient.data<float>()[i * out + j];
      difference += (got - expected) * (got - expected);
      norm += expected * expected;
    }
  }
  // The logits are rounded to bfloat16 once (relative 2^-9) before the loss reads them.
  EXPECT_LT(std::sqrt(difference / norm), 1e-2);
}

}  // namespace
}  // namespace trainyard::graph
