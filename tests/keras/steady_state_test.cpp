// A compiled training step allocates nothing: neither heap memory (counted by replacing the
// global operator new in this test binary) nor tensor storage (counted by trainyard's
// allocators), once its plan exists.
#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include "keras/trainer.h"
#include "support/allocation_counter.h"

namespace trainyard::keras {
namespace {

Tensor random_features(int64_t rows, int64_t columns, uint64_t seed) {
  Tensor tensor = Tensor::zeros(Shape{rows, columns});
  RandomGenerator generator(seed);
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    tensor.data<float>()[i] = static_cast<float>(generator.uniform());
  }
  return tensor;
}

Tensor random_labels(int64_t rows, int64_t classes, uint64_t seed) {
  Tensor tensor = Tensor::zeros(Shape{rows});
  RandomGenerator generator(seed);
  for (int64_t i = 0; i < rows; ++i) {
    tensor.data<float>()[i] = static_cast<float>(generator.below(static_cast<uint64_t>(classes)));
  }
  return tensor;
}

void expect_steady_state(int threads) {
  set_num_threads(threads);
  auto model = Sequential({
      layers::Flatten(),
      layers::Dense(64, {.activation = "relu"}),
      layers::Reshape({8, 8}),  // its backward copies the gradient back
      layers::Flatten(),
      layers::Dropout(0.2),
      layers::Dense(10),
  });
  model.compile({.optimizer = optimizers::Adam(),
                 .loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
                 .metrics = {"accuracy"}});
  Tensor x = random_features(32, 784, 1);
  Tensor y = random_labels(32, 10, 2);
  Trainer& trainer = model.trainer();
  trainer.prepare(x.shape(), y.shape());
  for (int i = 0; i < 3; ++i) trainer.train_step(x, y);  // compiles the plan

  int64_t heap_before = testing::heap_allocation_count();
  int64_t storage_before = storage_allocation_count();
  for (int i = 0; i < 50; ++i) trainer.train_step(x, y);
  EXPECT_EQ(testing::heap_allocation_count() - heap_before, 0) << "heap allocations in 50 steps";
  EXPECT_EQ(storage_allocation_count() - storage_before, 0) << "tensor storage in 50 steps";
  EXPECT_EQ(model.optimizer().iterations(), 53);
  EXPECT_EQ(trainer.graph_step_count(), 0) << "the CPU backend records no steps";

  // So is a step weighted per sample (its own plan, compiled on the first call).
  Tensor weights = random_features(32, 1, 3).reshape(Shape{32});
  for (int i = 0; i < 3; ++i) trainer.train_step(std::span(&x, 1), std::span(&y, 1), weights);
  heap_before = testing::heap_allocation_count();
  storage_before = storage_allocation_count();
  for (int i = 0; i < 50; ++i) trainer.train_step(std::span(&x, 1), std::span(&y, 1), weights);
  EXPECT_EQ(testing::heap_allocation_count() - heap_before, 0) << "weighted steps";
  EXPECT_EQ(storage_allocation_count() - storage_before, 0) << "weighted steps";

  // A test step is just as quiet once compiled.
  trainer.test_step(x, y);
  heap_before = testing::heap_allocation_count();
  for (int i = 0; i < 10; ++i) trainer.test_step(x, y);
  EXPECT_EQ(testing::heap_allocation_count() - heap_before, 0);
}

TEST(SteadyStateTest, TrainStepAllocatesNothingOnOneThread) {
  expect_steady_state(1);
}
TEST(SteadyStateTest, TrainStepAllocatesNothingOnTwoThreads) {
  expect_steady_state(2);
}

TEST(SteadyStateTest, CounterSeesAllocations) {
  // The counter itself must work, or the tests above prove nothing.
  testing::AllocationWindow window;
  auto* vector = new std::vector<int>(100);
  asm volatile("" : : "r"(vector) : "memory");  // keep the allocations from being elided
  int64_t seen = window.count();
  delete vector;
  EXPECT_EQ(seen, 2);  // the vector object and its elements
}

}  // namespace
}  // namespace trainyard::keras
