// A Functional model's compiled training step allocates nothing, like Sequential's: two inputs, a
// shared layer, Add and Concatenate, dropout, a regularized kernel, two outputs with loss weights
// and per-output metrics. Heap allocations are counted by replacing the global operator new in this
// test binary, tensor storage by trainyard's allocators.
#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include "keras/trainer.h"
#include "support/allocation_counter.h"

namespace trainyard::keras {
namespace {

Tensor uniform(const Shape& shape, uint64_t seed) {
  Tensor tensor = Tensor::zeros(shape);
  RandomGenerator generator(seed);
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    tensor.data<float>()[i] = static_cast<float>(generator.uniform());
  }
  return tensor;
}

Tensor classes(int64_t rows, int64_t count, uint64_t seed) {
  Tensor tensor = Tensor::zeros(Shape{rows});
  RandomGenerator generator(seed);
  for (int64_t i = 0; i < rows; ++i) {
    tensor.data<float>()[i] = static_cast<float>(generator.below(static_cast<uint64_t>(count)));
  }
  return tensor;
}

void expect_steady_state(int threads) {
  set_num_threads(threads);
  auto image = Input({16}, "image");
  auto meta = Input({5}, "meta");
  auto shared = layers::Dense(8, {.activation = "relu"});
  auto from_image = shared(layers::Dense(
      5, {.kernel_regularizer = nn::regularizers::L2(0.01)})(layers::Dropout(0.2)(image)));
  auto from_meta = shared(meta);
  auto sum = layers::Add()({from_image, from_meta});
  auto label = layers::Dense(4, {.name = "label"})(layers::Concatenate()({sum, from_meta}));
  auto score = layers::Dense(1, {.name = "score"})(sum);
  Functional model({image, meta}, {label, score});
  model.compile({.optimizer = optimizers::Adam(),
                 .losses = {losses::SparseCategoricalCrossentropy({.from_logits = true}), "mse"},
                 .loss_weights = {1.0, 0.25},
                 .metrics_per_output = {{"accuracy"}, {"mae"}}});

  std::vector<Tensor> x{uniform(Shape{32, 16}, 1), uniform(Shape{32, 5}, 2)};
  std::vector<Tensor> y{classes(32, 4, 3), uniform(Shape{32, 1}, 4)};
  Trainer& trainer = model.trainer();
  trainer.prepare({x[0].shape(), x[1].shape()}, {y[0].shape(), y[1].shape()});
  for (int i = 0; i < 3; ++i) trainer.train_step(x, y);  // compiles the plan

  int64_t heap_before = testing::heap_allocation_count();
  int64_t storage_before = storage_allocation_count();
  for (int i = 0; i < 50; ++i) trainer.train_step(x, y);
  EXPECT_EQ(testing::heap_allocation_count() - heap_before, 0) << "heap allocations in 50 steps";
  EXPECT_EQ(storage_allocation_count() - storage_before, 0) << "tensor storage in 50 steps";
  EXPECT_EQ(model.optimizer().iterations(), 53);
  // Reading one output's running loss, as a batch callback does, is just as quiet.
  heap_before = testing::heap_allocation_count();
  std::optional<double> score_loss = trainer.result("score_loss");
  EXPECT_EQ(testing::heap_allocation_count() - heap_before, 0);
  EXPECT_TRUE(score_loss.has_value());

  trainer.test_step(x, y);
  heap_before = testing::heap_allocation_count();
  for (int i = 0; i < 10; ++i) trainer.test_step(x, y);
  EXPECT_EQ(testing::heap_allocation_count() - heap_before, 0);
}

TEST(FunctionalSteadyStateTest, TrainStepAllocatesNothingOnOneThread) {
  expect_steady_state(1);
}
TEST(FunctionalSteadyStateTest, TrainStepAllocatesNothingOnTwoThreads) {
  expect_steady_state(2);
}

}  // namespace
}  // namespace trainyard::keras
