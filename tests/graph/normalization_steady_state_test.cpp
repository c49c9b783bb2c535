// A compiled step through every op of the normalization, embedding, merge, padding and
// regularizer families allocates nothing once warm: no heap memory (this binary counts
// operator new) and no tensor storage, on one thread and on two.
#include <gtest/gtest.h>

#include "core/thread_pool.h"
#include "graph/ops/ops.h"
#include "graph/step_plan.h"
#include "support/allocation_counter.h"
#include "support/gradient_check.h"

namespace trainyard {
namespace {

using graph::NodeId;

graph::VariablePtr variable(const std::string& path, Tensor value, bool trainable) {
  auto v = std::make_shared<graph::Variable>();
  v->path = path;
  v->value = value.cast(DType::kFloat32);
  v->trainable = trainable;
  if (trainable) v->gradient = Tensor::zeros(v->value.shape());
  return v;
}

void expect_steady_state(int threads) {
  set_num_threads(threads);
  graph::Graph g;
  // x [16, 14, 14, 3] padded to [16, 16, 16, 3]: 4096 rows of 3, two reduction chunks.
  NodeId x = g.add_input("x", {Shape{16, 14, 14, 3}});
  NodeId ids = g.add_input("ids", {Shape{16, 16, 16}, DType::kInt32});
  NodeId target = g.add_input("target", {Shape{16, 16, 16, 6}});
  NodeId padded = g.add_op(graph::ops::zero_pad2d({1, 1, 1, 1}), {x});
  auto gamma = variable("bn/gamma", testing::random_tensor({3}, 1, 0.5, 1.5), true);
  auto beta = variable("bn/beta", testing::random_tensor({3}, 2), true);
  auto mean = variable("bn/moving_mean", Tensor::zeros(Shape{3}), false);
  auto var = variable("bn/moving_variance", testing::random_tensor({3}, 3, 1, 2), false);
  NodeId normalized = g.add_op(graph::ops::batch_norm({.training = true}),
                               {padded, g.add_variable(gamma), g.add_variable(beta),
                                g.add_variable(mean), g.add_variable(var)});
  auto ln_gamma = variable("ln/gamma", testing::random_tensor({3}, 4, 0.5, 1.5), true);
  NodeId layer_normed =
      g.add_op(graph::ops::layer_norm(1e-3, true, false), {normalized, g.add_variable(ln_gamma)});
  NodeId joined = g.add_op(graph::ops::concatenate(-1), {normalized, layer_normed});
  auto table = variable("embedding", testing::random_tensor({10, 6}, 5), true);
  NodeId embedded = g.add_op(graph::ops::embedding("embedding"), {ids, g.add_variable(table)});
  NodeId sum = g.add_op(graph::ops::add(), {joined, embedded, joined});
  NodeId error = g.add_op(graph::ops::loss({}), {sum, target});
  NodeId penalty_table = g.add_op(graph::ops::regularizer(0.01, 0.01), {g.add_variable(table)});
  NodeId penalty_gamma = g.add_op(graph::ops::regularizer(0, 0.1), {g.add_variable(ln_gamma)});
  NodeId loss = g.add_op(graph::ops::add_n(), {error, penalty_table, penalty_gamma});
  graph::StepPlan plan(g, {.outputs = {sum}, .loss = loss}, backend::cpu_backend());

  Tensor x_value = testing::random_tensor({16, 14, 14, 3}, 6).cast(DType::kFloat32);
  std::vector<int32_t> id_values(16 * 16 * 16);
  for (size_t i = 0; i < id_values.size(); ++i) id_values[i] = static_cast<int32_t>(i * 7 % 10);
  Tensor ids_value = Tensor::from_vector<int32_t>(Shape{16, 16, 16}, id_values);
  Tensor target_value = testing::random_tensor({16, 16, 16, 6}, 7).cast(DType::kFloat32);
  plan.bind_input(x, x_value);
  plan.bind_input(ids, ids_value);
  plan.bind_input(target, target_value);
  for (int step = 0; step < 3; ++step) {  // warm up the kernels' scratch
    plan.forward({.training = true, .step = static_cast<uint64_t>(step)});
    plan.backward({.training = true, .step = static_cast<uint64_t>(step)});
  }

  int64_t heap_before = testing::heap_allocation_count();
  int64_t storage_before = storage_allocation_count();
  for (int step = 3; step < 23; ++step) {
    plan.forward({.training = true, .step = static_cast<uint64_t>(step)});
    plan.backward({.training = true, .step = static_cast<uint64_t>(step)});
  }
  EXPECT_EQ(testing::heap_allocation_count() - heap_before, 0) << "heap allocations in 20 steps";
  EXPECT_EQ(storage_allocation_count() - storage_before, 0) << "tensor storage in 20 steps";
  // The steps did train: the moving mean moved away from zero.
  EXPECT_NE(mean->value.item(0), 0.0);
}

TEST(NormalizationSteadyStateTest, StepAllocatesNothingOnOneThread) {
  expect_steady_state(1);
}
TEST(NormalizationSteadyStateTest, StepAllocatesNothingOnTwoThreads) {
  expect_steady_state(2);
}

}  // namespace
}  // namespace trainyard
