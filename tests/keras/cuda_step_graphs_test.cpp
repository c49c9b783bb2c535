// Training with recorded steps (CUDA graphs) against the same training with every step eager:
// the same weights, optimizer slots, iterations, logs and predictions, bit for bit, including
// a partial last batch, Dropout, and a learning-rate schedule that changes every step. Skips
// with the reason printed when the machine has no GPU.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "fit_test_support.h"
#include "keras/trainer.h"

namespace trainyard::keras {
namespace {

using testing::argmax_problem;
using testing::Problem;

// What a training run ends with, read back to the host.
struct Outcome {
  std::vector<Tensor> weights;
  std::vector<Tensor> slots;
  int64_t iterations = 0;
  History history;
  Logs evaluation;
  Tensor predictions;
  int64_t graph_steps = 0;
};

bool same_bits(const Tensor& a, const Tensor& b) {
  const Tensor x = backend::to_device(a, cpu_device()), y = backend::to_device(b, cpu_device());
  return x.shape() == y.shape() && x.nbytes() == y.nbytes() &&
         std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) == 0;
}

Sequential dropout_mlp() {
  return Sequential(
      {layers::Dense(32, {.activation = "relu"}), layers::Dropout(0.3), layers::Dense(4)});
}

class CudaStepGraphsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason;
    if (backend::cuda::cuda_device_count(&reason) == 0) {
      GTEST_SKIP() << "no GPU, CUDA test skipped: " << reason;
    }
    gpu_ = &backend::cuda::cuda_backend(0);
  }

  // 100 samples in batches of 32: three full batches and a partial one of 4 per epoch.
  Outcome train(bool graphs, nn::LearningRate learning_rate, const Problem& data) {
    return train(graphs, nn::AdamOptions{.learning_rate = learning_rate}, data);
  }
  Outcome train(bool graphs, const nn::AdamOptions& adam, const Problem& data) {
    set_random_seed(21);
    Sequential model = dropout_mlp();
    model.to(cuda);
    model.compile({.optimizer = optimizers::Adam(adam),
                   .loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
                   .metrics = {"accuracy"}});
    model.trainer().set_step_graphs(graphs);
    Outcome outcome;
    outcome.history =
        model.fit(data.x, data.y, {.batch_size = 32, .epochs = 4, .verbose = 0, .seed = 5});
    model.evaluate(data.x, data.y, {.batch_size = 32, .verbose = 0});
    outcome.evaluation = model.evaluate(data.x, data.y, {.batch_size = 32, .verbose = 0});
    outcome.predictions = model.predict(data.x, {.batch_size = 32, .verbose = 0});
    outcome.weights = model.get_weights();
    for (const Tensor& slot : model.optimizer().slots()) {
      outcome.slots.push_back(backend::to_device(slot, cpu_device()));
    }
    outcome.iterations = model.optimizer().iterations();
    outcome.graph_steps = model.trainer().graph_step_count();
    return outcome;
  }

  static void expect_identical(const Outcome& graphed, const Outcome& eager) {
    EXPECT_GT(graphed.graph_steps, 0);
    EXPECT_EQ(eager.graph_steps, 0);
    expect_same_training(graphed, eager);
  }
  static void expect_same_training(const Outcome& graphed, const Outcome& eager) {
    EXPECT_EQ(graphed.iterations, eager.iterations);
    ASSERT_EQ(graphed.weights.size(), eager.weights.size());
    for (size_t i = 0; i < eager.weights.size(); ++i) {
      EXPECT_TRUE(same_bits(graphed.weights[i], eager.weights[i])) << "weight " << i;
    }
    ASSERT_EQ(graphed.slots.size(), eager.slots.size());
    for (size_t i = 0; i < eager.slots.size(); ++i) {
      EXPECT_TRUE(same_bits(graphed.slots[i], eager.slots[i])) << "slot " << i;
    }
    for (const auto& [name, values] : eager.history.history) {
      EXPECT_EQ(graphed.history.history.at(name), values) << name;
    }
    EXPECT_EQ(graphed.evaluation, eager.evaluation);
    EXPECT_TRUE(same_bits(graphed.predictions, eager.predictions));
  }

  const Device cuda{"cuda:0"};
  backend::cuda::CudaBackend* gpu_ = nullptr;
};

TEST_F(CudaStepGraphsTest, RecordedStepsTrainExactlyAsEagerSteps) {
  const Problem data = argmax_problem(100, 8);
  const Outcome graphed = train(true, 0.01, data);
  const Outcome eager = train(false, 0.01, data);
  expect_identical(graphed, eager);
  EXPECT_EQ(graphed.iterations, 16);
}

TEST_F(CudaStepGraphsTest, AScheduleChangesTheRateOfEveryReplayedStep) {
  const Problem data = argmax_problem(100, 9);
  auto schedule = [] {
    return optimizers::schedules::ExponentialDecay(
        {.initial_learning_rate = 0.05, .decay_steps = 3, .decay_rate = 0.5});
  };
  const Outcome graphed = train(true, schedule(), data);
  const Outcome eager = train(false, schedule(), data);
  expect_identical(graphed, eager);
  // A rate frozen at the recorded step would have trained differently.
  const Outcome constant = train(true, 0.05, data);
  EXPECT_FALSE(same_bits(constant.weights.front(), eager.weights.front()));
}

TEST_F(CudaStepGraphsTest, AStepThatCannotBeRecordedRunsEagerlyWithTheSameResult) {
  // Clipping copies its segment tables from host memory, which a recording refuses: the train
  // steps fall back to eager ones (evaluation and prediction still record).
  const Problem data = argmax_problem(100, 10);
  const nn::AdamOptions clipped{.learning_rate = 0.01, .clipnorm = 0.5};
  const Outcome graphed = train(true, clipped, data);
  const Outcome eager = train(false, clipped, data);
  expect_same_training(graphed, eager);
  EXPECT_EQ(graphed.iterations, 16);
}

TEST_F(CudaStepGraphsTest, ReplaysAllocateNoDeviceMemory) {
  const Problem data = argmax_problem(256, 6);
  set_random_seed(5);
  Sequential model = dropout_mlp();
  model.to(cuda);
  model.compile({.optimizer = optimizers::Adam(),
                 .loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
                 .metrics = {"accuracy"}});
  model.trainer().set_step_graphs(true);
  model.fit(data.x, data.y, {.batch_size = 32, .epochs = 1, .verbose = 0});
  const int64_t allocations = gpu_->caching_allocator().driver_allocation_count();
  const int64_t graph_steps = model.trainer().graph_step_count();
  model.fit(data.x, data.y, {.batch_size = 32, .epochs = 3, .verbose = 0, .initial_epoch = 1});
  EXPECT_EQ(gpu_->caching_allocator().driver_allocation_count(), allocations);
  EXPECT_EQ(model.trainer().graph_step_count(), graph_steps + 16);
}

TEST_F(CudaStepGraphsTest, ABadLabelInAReplayedStepIsRaisedAtTheNextWait) {
  Problem data = argmax_problem(128, 4);
  data.y.data<int32_t>()[3 * 32 + 7] = 9;  // the fourth batch: a replay, not the recording
  set_random_seed(5);
  Sequential model = dropout_mlp();
  model.to(cuda);
  model.compile({.optimizer = optimizers::Adam(),
                 .loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
                 .metrics = {"accuracy"}});
  model.trainer().set_step_graphs(true);
  try {
    model.fit(data.x, data.y, {.batch_size = 32, .epochs = 1, .verbose = 0, .shuffle = false});
    ADD_FAILURE() << "fit should raise the bad label";
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what()).find("label 9 at row 7"), std::string::npos)
        << error.what();
  }
  EXPECT_GT(model.trainer().graph_step_count(), 0);
}

}  // namespace
}  // namespace trainyard::keras
