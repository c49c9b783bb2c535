// A compiled training step allocates nothing: neither heap memory (counted by replacing the
// global operator new in this test binary) nor tensor storage (counted by trainyard's
// allocators), once its plan exists.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include <trainyard/keras.h>

#include "keras/trainer.h"

namespace {
std::atomic<int64_t> g_heap_allocations{0};
}  // namespace

void* operator new(size_t size) {
  g_heap_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* pointer = std::malloc(size == 0 ? 1 : size)) return pointer;
  throw std::bad_alloc();
}
void operator delete(void* pointer) noexcept { std::free(pointer); }
void operator delete(void* pointer, size_t) noexcept { std::free(pointer); }

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

  int64_t heap_before = g_heap_allocations.load();
  int64_t storage_before = storage_allocation_count();
  for (int i = 0; i < 50; ++i) trainer.train_step(x, y);
  EXPECT_EQ(g_heap_allocations.load() - heap_before, 0) << "heap allocations in 50 steps";
  EXPECT_EQ(storage_allocation_count() - storage_before, 0) << "tensor storage in 50 steps";
  EXPECT_EQ(model.optimizer().iterations(), 53);

  // A test step is just as quiet once compiled.
  trainer.test_step(x, y);
  heap_before = g_heap_allocations.load();
  for (int i = 0; i < 10; ++i) trainer.test_step(x, y);
  EXPECT_EQ(g_heap_allocations.load() - heap_before, 0);
}

TEST(SteadyStateTest, TrainStepAllocatesNothingOnOneThread) { expect_steady_state(1); }
TEST(SteadyStateTest, TrainStepAllocatesNothingOnTwoThreads) { expect_steady_state(2); }

TEST(SteadyStateTest, CounterSeesAllocations) {
  // The counter itself must work, or the tests above prove nothing.
  int64_t before = g_heap_allocations.load();
  auto* vector = new std::vector<int>(100);
  delete vector;
  EXPECT_GE(g_heap_allocations.load() - before, 2);
}

}  // namespace
}  // namespace trainyard::keras
