// Learning-rate schedules against Keras's formulas, and an optimizer following one.
#include "nn/optimizers/schedules.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "nn/optimizers/optimizers.h"

namespace trainyard::nn {
namespace {

TEST(ScheduleTest, ExponentialDecay) {
  auto smooth =
      ExponentialDecay({.initial_learning_rate = 0.1, .decay_steps = 100, .decay_rate = 0.5});
  EXPECT_DOUBLE_EQ((*smooth)(0), 0.1);
  EXPECT_DOUBLE_EQ((*smooth)(100), 0.05);
  EXPECT_NEAR((*smooth)(50), 0.1 * std::pow(0.5, 0.5), 1e-15);
  auto stairs = ExponentialDecay(
      {.initial_learning_rate = 0.1, .decay_steps = 100, .decay_rate = 0.5, .staircase = true});
  EXPECT_DOUBLE_EQ((*stairs)(99), 0.1);
  EXPECT_DOUBLE_EQ((*stairs)(250), 0.025);
  EXPECT_THROW(ExponentialDecay({.decay_steps = 0}), ValueError);
}

TEST(ScheduleTest, CosineDecayWithAndWithoutWarmup) {
  auto cosine = CosineDecay({.initial_learning_rate = 1.0, .decay_steps = 100, .alpha = 0.1});
  EXPECT_DOUBLE_EQ((*cosine)(0), 1.0);
  EXPECT_NEAR((*cosine)(50), 0.9 * 0.5 + 0.1, 1e-12);
  EXPECT_NEAR((*cosine)(100), 0.1, 1e-12);
  EXPECT_NEAR((*cosine)(1000), 0.1, 1e-12);  // clamped at decay_steps
  auto warm = CosineDecay(
      {.initial_learning_rate = 0.0, .decay_steps = 10, .warmup_target = 1.0, .warmup_steps = 5});
  EXPECT_DOUBLE_EQ((*warm)(0), 0.0);
  EXPECT_DOUBLE_EQ((*warm)(2), 0.4);
  EXPECT_DOUBLE_EQ((*warm)(5), 1.0);  // decay starts from the warmup target
  EXPECT_NEAR((*warm)(10), 0.5 * (1 + std::cos(std::numbers::pi * 0.5)), 1e-12);
}

TEST(ScheduleTest, PiecewiseConstantBoundariesAreInclusive) {
  auto piecewise = PiecewiseConstantDecay({10, 20}, {1.0, 0.5, 0.1});
  EXPECT_EQ((*piecewise)(0), 1.0);
  EXPECT_EQ((*piecewise)(10), 1.0);
  EXPECT_EQ((*piecewise)(11), 0.5);
  EXPECT_EQ((*piecewise)(20), 0.5);
  EXPECT_EQ((*piecewise)(21), 0.1);
  EXPECT_THROW(PiecewiseConstantDecay({10}, {1.0}), ValueError);
  EXPECT_THROW(PiecewiseConstantDecay({20, 10}, {1.0, 0.5, 0.1}), ValueError);
}

TEST(ScheduleTest, OptimizerUsesTheRateForItsIterationCount) {
  // SGD with rates 1.0 for steps 0..1, then 0.5: w moves by -rate * g each step.
  auto& backend = backend::cpu_backend();
  Sgd sgd({.learning_rate = PiecewiseConstantDecay({1}, {1.0, 0.5})});
  Tensor w = Tensor::from_vector<float>({1}, {10});
  Tensor g = Tensor::from_vector<float>({1}, {1});
  sgd.build(w, backend);
  EXPECT_DOUBLE_EQ(sgd.learning_rate(), 1.0);
  sgd.apply(backend, w, g);  // step 0: rate 1
  sgd.apply(backend, w, g);  // step 1: rate 1
  EXPECT_DOUBLE_EQ(sgd.learning_rate(), 0.5);
  sgd.apply(backend, w, g);  // step 2: rate 0.5
  EXPECT_FLOAT_EQ(w.data<float>()[0], 7.5f);
  EXPECT_THROW(sgd.set_learning_rate(0.1), ValueError);
}

}  // namespace
}  // namespace trainyard::nn
