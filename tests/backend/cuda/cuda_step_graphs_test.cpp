// Recorded steps on the GPU: a few entries captured once and replayed with new step scalars give
// the eager entries' results bit for bit; what cannot be recorded throws CaptureError and leaves
// the backend usable; a label fault found by a replay is raised at the next wait.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "cuda_test_util.h"

namespace trainyard {
namespace {

using backend::CaptureError;
using backend::OptimizerKind;
using backend::OptimizerStep;
using backend::StepScalars;

// Every byte of two tensors equal (both read back to the host).
bool same_bits(const Tensor& a, const Tensor& b) {
  const Tensor x = cuda_test::on_host(a), y = cuda_test::on_host(b);
  return x.nbytes() == y.nbytes() && std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) == 0;
}

class CudaStepGraphsTest : public cuda_test::CudaTest {
 protected:
  // The state one "step" below updates: weights [8, 16], Adam's two slots, the output.
  struct State {
    Tensor weights, momentum, velocity, activations;
  };
  State fresh_state(const Tensor& host_weights) {
    return {on_gpu(host_weights), on_gpu(Tensor::zeros(Shape{8, 16})),
            on_gpu(Tensor::zeros(Shape{8, 16})), on_gpu(Tensor::zeros(Shape{4, 16}))};
  }
  // A step whose dropout mask and update constants change with `iteration`: activations =
  // dropout(relu(x @ weights)), then Adam with a learning rate that falls each step, using
  // x^T @ activations as the gradient.
  static OptimizerStep update_of(int64_t iteration) {
    OptimizerStep step;
    step.kind = OptimizerKind::kAdam;
    step.learning_rate = 0.01 / static_cast<double>(iteration + 1);
    step.iteration = iteration;
    return step;
  }
  void queue_step(State& state, const Tensor& x, const Tensor& gradient, int64_t iteration) {
    gpu().matmul(x, false, state.weights, false, state.activations, 1.0, 0.0);
    gpu().activation_forward({backend::ActivationKind::kRelu}, state.activations,
                             state.activations);
    gpu().dropout_forward(0.3, 1234, static_cast<uint64_t>(iteration), state.activations,
                          state.activations);
    gpu().matmul(x, true, state.activations, false, gradient, 1.0, 0.0);
    gpu().optimizer_update(update_of(iteration), state.weights, gradient, state.momentum,
                           state.velocity, Tensor());
  }
  static StepScalars scalars_of(int64_t iteration) {
    return {static_cast<uint64_t>(iteration), update_of(iteration)};
  }
};

TEST_F(CudaStepGraphsTest, ReplaysWithNewStepScalarsMatchEagerStepsBitForBit) {
  ASSERT_TRUE(gpu().supports_step_graphs());
  const Tensor x = on_gpu(random_host(Shape{4, 8}));
  const Tensor host_weights = random_host(Shape{8, 16});
  const Tensor gradient = on_gpu(Tensor::zeros(Shape{8, 16}));
  constexpr int kSteps = 5;

  State eager = fresh_state(host_weights);
  std::vector<Tensor> eager_activations;
  for (int i = 0; i < kSteps; ++i) {
    queue_step(eager, x, gradient, i);
    eager_activations.push_back(cuda_test::on_host(eager.activations));
  }

  State graphed = fresh_state(host_weights);
  queue_step(graphed, x, gradient, 0);  // eager warm-up, as the trainer runs first
  EXPECT_TRUE(same_bits(graphed.activations, eager_activations[0]));
  gpu().set_step_scalars(scalars_of(1));
  gpu().begin_capture();
  queue_step(graphed, x, gradient, 1);
  std::unique_ptr<backend::CapturedWork> work = gpu().end_capture();
  ASSERT_NE(work, nullptr);
  const int64_t allocations = gpu().caching_allocator().driver_allocation_count();
  for (int i = 1; i < kSteps; ++i) {
    if (i > 1) gpu().set_step_scalars(scalars_of(i));
    ASSERT_TRUE(gpu().replay(*work));
    // Each replay must have drawn its own dropout mask and used its own learning rate.
    EXPECT_TRUE(same_bits(graphed.activations, eager_activations[static_cast<size_t>(i)]))
        << "step " << i;
  }
  EXPECT_TRUE(same_bits(graphed.weights, eager.weights));
  EXPECT_TRUE(same_bits(graphed.momentum, eager.momentum));
  EXPECT_TRUE(same_bits(graphed.velocity, eager.velocity));
  EXPECT_EQ(gpu().caching_allocator().driver_allocation_count(), allocations);
}

TEST_F(CudaStepGraphsTest, WhatCannotBeRecordedThrowsAndLeavesTheBackendUsable) {
  const Tensor host = random_host(Shape{64});
  Tensor device = on_gpu(host);
  gpu().set_step_scalars(scalars_of(3));

  gpu().begin_capture();
  EXPECT_THROW(gpu().copy_from_host(host, device), CaptureError);
  gpu().abandon_capture();

  gpu().begin_capture();
  EXPECT_THROW(gpu().allocator().allocate(4096), CaptureError);
  gpu().abandon_capture();

  gpu().begin_capture();
  EXPECT_THROW(gpu().synchronize(), CaptureError);
  gpu().abandon_capture();

  // A dropout step other than the scalars' would be frozen into the recording.
  gpu().begin_capture();
  EXPECT_THROW(gpu().dropout_forward(0.5, 1, 4, device, device), CaptureError);
  gpu().abandon_capture();

  // An update other than the scalars' likewise.
  const Tensor zeros = on_gpu(Tensor::zeros(Shape{64}));
  gpu().begin_capture();
  EXPECT_THROW(gpu().optimizer_update(update_of(4), device, zeros, zeros, zeros, Tensor()),
               CaptureError);
  gpu().abandon_capture();

  gpu().abandon_capture();  // no capture running: nothing to do
  gpu().fill(device, 2.5);
  EXPECT_TRUE(same_bits(device, [] {
    Tensor expected = Tensor::zeros(Shape{64});
    expected.fill(2.5);
    return expected;
  }()));
}

TEST_F(CudaStepGraphsTest, ALabelFaultFoundByAReplayIsRaisedAtTheNextWait) {
  const backend::Loss loss{backend::LossKind::kSparseCategoricalCrossentropy, true};
  const Tensor pred = on_gpu(random_host(Shape{6, 5}));
  Tensor host_labels = Tensor::zeros(Shape{6});
  const Tensor labels = on_gpu(host_labels);
  const Tensor value = on_gpu(Tensor::zeros(Shape{}));
  gpu().loss_forward(loss, pred, labels, Tensor(), value);  // warm-up: scratch, if any
  gpu().synchronize();
  gpu().begin_capture();
  gpu().loss_forward(loss, pred, labels, Tensor(), value);
  std::unique_ptr<backend::CapturedWork> work = gpu().end_capture();
  ASSERT_TRUE(gpu().replay(*work));
  EXPECT_NO_THROW(gpu().synchronize());

  host_labels.data<float>()[3] = 9.0f;
  backend::copy_into(host_labels, labels);
  ASSERT_TRUE(gpu().replay(*work));
  try {
    gpu().synchronize();
    ADD_FAILURE() << "the replayed check should raise the bad label";
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what()).find("label 9 at row 3"), std::string::npos)
        << error.what();
  }
  EXPECT_NO_THROW(gpu().synchronize());  // raised once, then cleared
}

}  // namespace
}  // namespace trainyard
