// Optimizer updates traced for three steps against a reference that follows Keras 3's
// update rules in keras-semantics.md section 3.2 line by line, in double.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "backend_test_util.h"

namespace trainyard::backend_test {
namespace {

using backend::OptimizerKind;
using backend::OptimizerStep;

struct OptimizerCase {
  const char* label;
  OptimizerStep step;
};

std::vector<OptimizerCase> all_cases() {
  using K = OptimizerKind;
  return {
      {"SGD", {.kind = K::kSgd, .learning_rate = 0.1}},
      {"SGD momentum", {.kind = K::kSgd, .learning_rate = 0.1, .momentum = 0.9}},
      {"SGD nesterov", {.kind = K::kSgd, .learning_rate = 0.1, .momentum = 0.9, .nesterov = true}},
      {"SGD weight decay", {.kind = K::kSgd, .learning_rate = 0.1, .weight_decay = 0.05}},
      {"Adam", {.kind = K::kAdam, .learning_rate = 0.01}},
      {"Adam amsgrad", {.kind = K::kAdam, .learning_rate = 0.01, .amsgrad = true}},
      {"AdamW", {.kind = K::kAdamW, .learning_rate = 0.01, .weight_decay = 0.004}},
      {"RMSprop", {.kind = K::kRmsprop, .learning_rate = 0.01}},
      {"RMSprop momentum", {.kind = K::kRmsprop, .learning_rate = 0.01, .momentum = 0.9}},
      {"RMSprop centered", {.kind = K::kRmsprop, .learning_rate = 0.01, .centered = true}},
      {"RMSprop centered momentum",
       {.kind = K::kRmsprop, .learning_rate = 0.01, .momentum = 0.5, .centered = true}},
  };
}

// The optimizer's state in double: weights and every slot Keras keeps.
struct ReferenceState {
  std::vector<double> w, momentum, velocity, velocity_hat, average_gradient;
};

// One step of section 3.2, written from the rule text.
void reference_step(const OptimizerStep& s, ReferenceState& state, const std::vector<double>& g) {
  const double lr = s.learning_rate;
  const double t = static_cast<double>(s.iteration + 1);
  for (size_t i = 0; i < g.size(); ++i) {
    double& w = state.w[i];
    // Weight decay (3.1): w <- w - w * wd * lr, before the gradient update.
    if (s.weight_decay != 0) w = w - w * s.weight_decay * lr;
    switch (s.kind) {
      case OptimizerKind::kSgd:
        if (s.momentum == 0) {
          w = w - lr * g[i];
        } else {
          double& m = state.momentum[i];
          m = s.momentum * m - lr * g[i];
          w = s.nesterov ? w + s.momentum * m - lr * g[i] : w + m;
        }
        break;
      case OptimizerKind::kAdam:
      case OptimizerKind::kAdamW: {
        double alpha = lr * std::sqrt(1 - std::pow(s.beta_2, t)) / (1 - std::pow(s.beta_1, t));
        double& m = state.momentum[i];
        double& v = state.velocity[i];
        m = m + (g[i] - m) * (1 - s.beta_1);
        v = v + (g[i] * g[i] - v) * (1 - s.beta_2);
        double v_used = v;
        if (s.amsgrad) {
          state.velocity_hat[i] = std::max(state.velocity_hat[i], v);
          v_used = state.velocity_hat[i];
        }
        w = w - alpha * m / (std::sqrt(v_used) + s.epsilon);
        break;
      }
      case OptimizerKind::kRmsprop: {
        double& v = state.velocity[i];
        v = s.rho * v + (1 - s.rho) * g[i] * g[i];
        double denominator = v + s.epsilon;
        if (s.centered) {
          double& average = state.average_gradient[i];
          average = s.rho * average + (1 - s.rho) * g[i];
          denominator = v - average * average + s.epsilon;
        }
        double increment = lr * g[i] / std::sqrt(denominator);
        if (s.momentum > 0) {
          double& mom = state.momentum[i];
          mom = s.momentum * mom + increment;
          w -= mom;
        } else {
          w -= increment;
        }
        break;
      }
    }
  }
}

const std::vector<double> kInitialWeights = {0.5, -1.2, 2.0, 0.0, -0.3, 1.0};
// Different gradients each step; step 2 is small, so Adam's velocity shrinks and amsgrad's
// running maximum differs from plain Adam.
const std::vector<std::vector<double>> kGradients = {
    {1.0, -0.5, 0.25, 2.0, -1.5, 0.1},
    {0.01, 0.02, -0.005, -0.01, 0.003, -0.02},
    {-0.5, 0.7, 0.4, -0.3, 1.2, 0.6},
};

// The four buffers the kernel updates, in T.
struct KernelState {
  Tensor w, slot_0, slot_1, slot_2;
};

template <typename T>
KernelState make_state(const OptimizerStep& step, const std::vector<double>& initial) {
  Shape shape{static_cast<int64_t>(initial.size())};
  KernelState state{tensor_of<T>(shape, initial), {}, {}, {}};
  auto zeros = [&] { return Tensor::zeros(shape, dtype_of<T>()); };
  // Only the slots the kind uses are created, so the kernel must cope with undefined ones.
  switch (step.kind) {
    case OptimizerKind::kSgd:
      if (step.momentum != 0) state.slot_0 = zeros();
      break;
    case OptimizerKind::kAdam:
    case OptimizerKind::kAdamW:
      state.slot_0 = zeros();
      state.slot_1 = zeros();
      if (step.amsgrad) state.slot_2 = zeros();
      break;
    case OptimizerKind::kRmsprop:
      state.slot_0 = zeros();
      if (step.momentum > 0) state.slot_1 = zeros();
      if (step.centered) state.slot_2 = zeros();
      break;
  }
  return state;
}

ReferenceState make_reference(const std::vector<double>& initial) {
  size_t n = initial.size();
  return {initial, std::vector<double>(n), std::vector<double>(n), std::vector<double>(n),
          std::vector<double>(n)};
}

// The reference slot that kernel slot `index` holds for this kind, or null.
const std::vector<double>* reference_slot(const OptimizerStep& step, const ReferenceState& state,
                                          int index) {
  switch (step.kind) {
    case OptimizerKind::kSgd:
      return index == 0 ? &state.momentum : nullptr;
    case OptimizerKind::kAdam:
    case OptimizerKind::kAdamW:
      return index == 0 ? &state.momentum : index == 1 ? &state.velocity : &state.velocity_hat;
    case OptimizerKind::kRmsprop:
      return index == 0 ? &state.velocity : index == 1 ? &state.momentum : &state.average_gradient;
  }
  return nullptr;
}

template <typename T>
class OptimizerTest : public ::testing::Test {};
TYPED_TEST_SUITE(OptimizerTest, FloatTypes);

TYPED_TEST(OptimizerTest, ThreeStepsFollowKerasUpdateRules) {
  using T = TypeParam;
  // float32 arithmetic against a double reference: a few float ulps of the weights.
  const double tolerance = std::is_same_v<T, float> ? 1e-6 : 1e-13;
  for (const OptimizerCase& c : all_cases()) {
    KernelState state = make_state<T>(c.step, kInitialWeights);
    ReferenceState reference = make_reference(kInitialWeights);
    for (int64_t iteration = 0; iteration < 3; ++iteration) {
      OptimizerStep step = c.step;
      step.iteration = iteration;
      const auto& g = kGradients[static_cast<size_t>(iteration)];
      Tensor gradients = tensor_of<T>(state.w.shape(), g);
      cpu().optimizer_update(step, state.w, gradients, state.slot_0, state.slot_1, state.slot_2);
      // The reference sees the gradient the kernel saw, rounded to T.
      std::vector<Real> rounded = reals_of(gradients);
      reference_step(step, reference, std::vector<double>(rounded.begin(), rounded.end()));
      for (size_t i = 0; i < kInitialWeights.size(); ++i) {
        EXPECT_NEAR(state.w.item(static_cast<int64_t>(i)), reference.w[i],
                    tolerance * std::max(1.0, std::fabs(reference.w[i])))
            << c.label << " step " << iteration + 1 << " weight " << i;
      }
      const Tensor* slots[3] = {&state.slot_0, &state.slot_1, &state.slot_2};
      for (int s = 0; s < 3; ++s) {
        if (!slots[s]->defined()) continue;
        const std::vector<double>* expected = reference_slot(c.step, reference, s);
        for (size_t i = 0; i < kInitialWeights.size(); ++i) {
          EXPECT_NEAR(slots[s]->item(static_cast<int64_t>(i)), (*expected)[i],
                      tolerance * std::max(1.0, std::fabs((*expected)[i])))
              << c.label << " step " << iteration + 1 << " slot " << s << " element " << i;
        }
      }
    }
  }
}

// amsgrad must change the trajectory once the velocity shrinks (step 2 has small
// gradients), and nesterov must differ from plain momentum; otherwise the flags are
// silently ignored and the traces above would not notice a shared bug.
TYPED_TEST(OptimizerTest, FlagsChangeTheTrajectory) {
  using T = TypeParam;
  auto run = [](OptimizerStep step) {
    KernelState state = make_state<T>(step, kInitialWeights);
    for (int64_t iteration = 0; iteration < 3; ++iteration) {
      step.iteration = iteration;
      cpu().optimizer_update(
          step, state.w, tensor_of<T>(state.w.shape(), kGradients[static_cast<size_t>(iteration)]),
          state.slot_0, state.slot_1, state.slot_2);
    }
    return state.w;
  };
  EXPECT_FALSE(
      bitwise_equal(run({.kind = OptimizerKind::kAdam, .learning_rate = 0.01}),
                    run({.kind = OptimizerKind::kAdam, .learning_rate = 0.01, .amsgrad = true})));
  EXPECT_FALSE(bitwise_equal(
      run({.kind = OptimizerKind::kSgd, .learning_rate = 0.1, .momentum = 0.9}),
      run({.kind = OptimizerKind::kSgd, .learning_rate = 0.1, .momentum = 0.9, .nesterov = true})));
  EXPECT_FALSE(bitwise_equal(
      run({.kind = OptimizerKind::kRmsprop, .learning_rate = 0.01}),
      run({.kind = OptimizerKind::kRmsprop, .learning_rate = 0.01, .centered = true})));
}

// Adam's first step, by hand: t = 1, so alpha = lr * sqrt(1 - 0.999) / (1 - 0.9)
// = lr * 0.0316228 / 0.1 = 0.316228 * lr; m = 0.1 g; v = 0.001 g^2, sqrt(v) = 0.0316228 |g|;
// m / (sqrt(v) + 1e-7) ~ 0.1 g / (0.0316228 |g|) = 3.16228 sign(g). The step is then
// 0.316228 * lr * 3.16228 sign(g) = lr * sign(g): every weight moves by ~lr whatever |g|
// is (epsilon shaves 1e-7 / (0.0316 |g|) off, 1.3e-5 relative for |g| = 0.25).
TYPED_TEST(OptimizerTest, FirstAdamStepMovesEveryWeightByLearningRate) {
  using T = TypeParam;
  const double lr = 0.001;
  Shape shape{4};
  Tensor w = tensor_of<T>(shape, {1.0, 1.0, -1.0, 0.0});
  Tensor m = Tensor::zeros(shape, dtype_of<T>()), v = Tensor::zeros(shape, dtype_of<T>());
  cpu().optimizer_update({.kind = OptimizerKind::kAdam, .learning_rate = lr}, w,
                         tensor_of<T>(shape, {0.5, -2.0, 0.25, -1.0}), m, v, Tensor());
  const double tolerance = std::is_same_v<T, float> ? 2e-7 : 2e-8;
  EXPECT_NEAR(w.item(0), 1.0 - lr, tolerance);
  EXPECT_NEAR(w.item(1), 1.0 + lr, tolerance);
  EXPECT_NEAR(w.item(2), -1.0 - lr, tolerance);
  EXPECT_NEAR(w.item(3), 0.0 + lr, tolerance);
}

// A parameter buffer large enough to be split across threads: every thread count gives
// the same bytes, as the update is elementwise, and repeated runs are identical.
TEST(OptimizerThreadingTest, SplitUpdatesAreBitwiseIdenticalAcrossThreadCounts) {
  const int64_t n = 50000;
  std::vector<double> initial = sample_values(n, 3, -1, 1);
  std::vector<std::vector<double>> gradients;
  for (uint64_t s = 0; s < 3; ++s) gradients.push_back(sample_values(n, 10 + s, -1, 1));
  for (const OptimizerCase& c : all_cases()) {
    std::vector<Tensor> results;
    for (int threads : {1, 1, 2, 2}) {
      ThreadCountScope scope(threads);
      KernelState state = make_state<float>(c.step, initial);
      for (int64_t iteration = 0; iteration < 3; ++iteration) {
        OptimizerStep step = c.step;
        step.iteration = iteration;
        cpu().optimizer_update(step, state.w,
                               tensor_of<float>(state.w.shape(), gradients[size_t(iteration)]),
                               state.slot_0, state.slot_1, state.slot_2);
      }
      results.push_back(state.w);
    }
    ReferenceState reference = make_reference(initial);
    for (int64_t iteration = 0; iteration < 3; ++iteration) {
      OptimizerStep step = c.step;
      step.iteration = iteration;
      std::vector<double> rounded(gradients[size_t(iteration)].begin(),
                                  gradients[size_t(iteration)].end());
      for (double& value : rounded) value = static_cast<float>(value);
      reference_step(step, reference, rounded);
    }
    for (size_t r = 1; r < results.size(); ++r) {
      EXPECT_TRUE(bitwise_equal(results[0], results[r])) << c.label << " run " << r;
    }
    // Both halves of the split buffer are updated, not only the caller's chunk.
    for (int64_t i : {int64_t{0}, n / 2 - 1, n / 2, n - 1}) {
      EXPECT_NEAR(results[3].item(i), reference.w[static_cast<size_t>(i)], 2e-6)
          << c.label << " element " << i;
    }
  }
}

TEST(OptimizerErrorTest, MissingSlotsAreShapeErrorsNamingTheSlot) {
  Tensor w = Tensor::zeros(Shape{3});
  Tensor g = Tensor::zeros(Shape{3});
  Tensor slot = Tensor::zeros(Shape{3});
  auto message_of = [&](const OptimizerStep& step, const Tensor& a, const Tensor& b,
                        const Tensor& c) {
    try {
      cpu().optimizer_update(step, w, g, a, b, c);
    } catch (const ShapeError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message_of({.kind = OptimizerKind::kSgd, .momentum = 0.9}, Tensor(), Tensor(), Tensor())
                .find("momentum"),
            std::string::npos);
  EXPECT_NE(message_of({.kind = OptimizerKind::kAdam}, slot, Tensor(), Tensor()).find("velocity"),
            std::string::npos);
  EXPECT_NE(message_of({.kind = OptimizerKind::kAdam, .amsgrad = true}, slot, slot, Tensor())
                .find("velocity_hat"),
            std::string::npos);
  EXPECT_NE(message_of({.kind = OptimizerKind::kRmsprop, .centered = true}, slot, Tensor(),
                       Tensor::zeros(Shape{4}))
                .find("average_gradient"),
            std::string::npos);
  EXPECT_THROW(cpu().optimizer_update({}, w, Tensor::zeros(Shape{4}), Tensor(), Tensor(), Tensor()),
               ShapeError);
}

}  // namespace
}  // namespace trainyard::backend_test
