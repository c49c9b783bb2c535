// Every op passes the shared float64 finite-difference check.
#include <gtest/gtest.h>

#include "graph/ops/ops.h"
#include "support/gradient_check.h"

namespace trainyard {
namespace {

using graph::Graph;
using graph::NodeId;
using testing::check_gradients;
using testing::random_tensor;

TEST(OpGradientTest, AffineWithBias) {
  auto result = check_gradients(
      [](Graph& g, const std::vector<NodeId>& in) {
        return g.add_op(graph::ops::affine(), {in[0], in[1], in[2]});
      },
      {{random_tensor({4, 3}, 1)}, {random_tensor({3, 5}, 2)}, {random_tensor({5}, 3)}});
  EXPECT_TRUE(result.passed) << result.report;
}

TEST(OpGradientTest, AffineWithoutBiasOnRank3Input) {
  auto result = check_gradients(
      [](Graph& g, const std::vector<NodeId>& in) {
        return g.add_op(graph::ops::affine(), {in[0], in[1]});
      },
      {{random_tensor({2, 3, 4}, 4)}, {random_tensor({4, 2}, 5)}});
  EXPECT_TRUE(result.passed) << result.report;
}

TEST(OpGradientTest, InputUsedTwiceAccumulates) {
  auto result = check_gradients(
      [](Graph& g, const std::vector<NodeId>& in) {
        NodeId first = g.add_op(graph::ops::affine(), {in[0], in[1]});
        return g.add_op(graph::ops::affine(), {first, in[1]});
      },
      {{random_tensor({3, 4}, 6)}, {random_tensor({4, 4}, 7)}});
  EXPECT_TRUE(result.passed) << result.report;
}

}  // namespace
}  // namespace trainyard
