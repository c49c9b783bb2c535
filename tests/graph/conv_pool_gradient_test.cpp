// Conv2D and pooling ops through the shared float64 finite-difference check, across the
// padding, stride, dilation and kernel-size corner cases, and Conv2D with the activations it
// applies itself.
#include <gtest/gtest.h>

#include "graph/ops/ops.h"
#include "support/gradient_check.h"

namespace trainyard {
namespace {

using backend::ActivationKind;
using backend::Padding;
using backend::PoolKind;
using backend::WindowOptions;
using graph::Graph;
using graph::NodeId;
using testing::check_gradients;
using testing::random_tensor;

struct ConvCase {
  const char* name;
  Shape input;  // [N, H, W, C]
  int64_t filters;
  WindowOptions options;
  bool bias;
  ActivationKind activation = ActivationKind::kLinear;
};

class ConvGradientTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvGradientTest, MatchesFiniteDifferences) {
  const ConvCase& c = GetParam();
  backend::Window2d window =
      backend::make_window2d(c.name, c.input[0], c.input[1], c.input[2], c.input[3], c.options);
  std::vector<testing::GradientCheckInput> inputs{
      {random_tensor(c.input, 1)},
      {random_tensor({c.options.window_height, c.options.window_width, c.input[3], c.filters}, 2)}};
  if (c.bias) inputs.push_back({random_tensor({c.filters}, 3)});
  auto result = check_gradients(
      [&](Graph& g, const std::vector<NodeId>& in) {
        return g.add_op(graph::ops::conv2d(window, {c.activation}), in);
      },
      inputs);
  EXPECT_TRUE(result.passed) << c.name << ": " << result.report;
}

INSTANTIATE_TEST_SUITE_P(
    Windows, ConvGradientTest,
    ::testing::Values(
        ConvCase{"valid_3x3", {2, 5, 6, 3}, 4, {3, 3, 1, 1, 1, 1, Padding::kValid}, true},
        ConvCase{
            "same_even_kernel_stride_2", {1, 7, 6, 2}, 3, {4, 2, 2, 2, 1, 1, Padding::kSame}, true},
        ConvCase{"same_odd_sizes", {2, 5, 5, 2}, 2, {3, 3, 1, 1, 1, 1, Padding::kSame}, false},
        ConvCase{"dilated", {1, 7, 8, 2}, 2, {3, 2, 1, 1, 2, 3, Padding::kValid}, true},
        ConvCase{"dilated_same", {1, 6, 7, 2}, 2, {3, 3, 1, 1, 2, 2, Padding::kSame}, false},
        ConvCase{"pointwise_direct", {2, 3, 4, 5}, 3, {1, 1, 1, 1, 1, 1, Padding::kValid}, true},
        ConvCase{"causal_1d", {2, 1, 9, 3}, 2, {1, 3, 1, 1, 1, 2, Padding::kCausal}, true},
        ConvCase{"strided_valid", {3, 9, 8, 1}, 2, {3, 3, 3, 2, 1, 1, Padding::kValid}, true},
        ConvCase{"relu_with_bias",
                 {2, 5, 6, 3},
                 4,
                 {3, 3, 1, 1, 1, 1, Padding::kValid},
                 true,
                 ActivationKind::kRelu},
        ConvCase{"relu_without_bias",
                 {1, 6, 5, 2},
                 3,
                 {3, 3, 1, 1, 1, 1, Padding::kSame},
                 false,
                 ActivationKind::kRelu},
        ConvCase{"sigmoid_im2col",
                 {2, 3, 4, 5},
                 3,
                 {1, 1, 1, 1, 1, 1, Padding::kValid},
                 true,
                 ActivationKind::kSigmoid},
        ConvCase{"tanh_winograd",
                 {1, 5, 4, 16},
                 17,
                 {3, 3, 1, 1, 1, 1, Padding::kSame},
                 true,
                 ActivationKind::kTanh}),
    [](const auto& info) { return std::string(info.param.name); });

struct PoolCase {
  const char* name;
  PoolKind kind;
  Shape input;
  WindowOptions options;
};

class PoolGradientTest : public ::testing::TestWithParam<PoolCase> {};

TEST_P(PoolGradientTest, MatchesFiniteDifferences) {
  const PoolCase& c = GetParam();
  backend::Window2d window =
      backend::make_window2d(c.name, c.input[0], c.input[1], c.input[2], c.input[3], c.options);
  auto result = check_gradients(
      [&](Graph& g, const std::vector<NodeId>& in) {
        return g.add_op(graph::ops::pool2d(c.kind, window), in);
      },
      {{random_tensor(c.input, 5)}});
  EXPECT_TRUE(result.passed) << c.name << ": " << result.report;
}

INSTANTIATE_TEST_SUITE_P(
    Windows, PoolGradientTest,
    ::testing::Values(
        PoolCase{
            "max_2x2_odd_input", PoolKind::kMax, {2, 5, 7, 3}, {2, 2, 2, 2, 1, 1, Padding::kValid}},
        PoolCase{"max_3x3_same_stride_2",
                 PoolKind::kMax,
                 {1, 6, 5, 2},
                 {3, 3, 2, 2, 1, 1, Padding::kSame}},
        PoolCase{"average_2x2_same",
                 PoolKind::kAverage,
                 {2, 5, 5, 2},
                 {2, 2, 2, 2, 1, 1, Padding::kSame}},
        PoolCase{"average_global",
                 PoolKind::kAverage,
                 {2, 4, 3, 5},
                 {4, 3, 1, 1, 1, 1, Padding::kValid}},
        PoolCase{"max_global", PoolKind::kMax, {2, 4, 3, 5}, {4, 3, 1, 1, 1, 1, Padding::kValid}}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace trainyard
