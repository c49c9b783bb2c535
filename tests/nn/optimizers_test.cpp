// The optimizer objects: Keras's defaults, float32 learning rate, iteration count, slots.
// The update arithmetic itself is traced step by step in tests/backend.
#include "nn/optimizers/optimizers.h"

#include <gtest/gtest.h>

#include <cmath>

namespace trainyard::nn {
namespace {

TEST(OptimizerTest, KerasDefaultsAndNames) {
  Sgd sgd;
  EXPECT_DOUBLE_EQ(sgd.learning_rate(), static_cast<double>(0.01f));
  EXPECT_EQ(sgd.name(), "SGD");
  Adam adam;
  EXPECT_EQ(adam.name(), "adam");
  EXPECT_DOUBLE_EQ(adam.options().epsilon, 1e-7);
  EXPECT_DOUBLE_EQ(adam.learning_rate(), static_cast<double>(0.001f));
  AdamW adamw;
  EXPECT_EQ(adamw.name(), "adamw");
  EXPECT_DOUBLE_EQ(adamw.weight_decay(), 0.004);
  EXPECT_THROW(AdamW({.weight_decay = 0}), ValueError);
  Rmsprop rmsprop;
  EXPECT_DOUBLE_EQ(rmsprop.options().rho, 0.9);
  EXPECT_THROW(make_optimizer("adagradd"), ValueError);
  EXPECT_THROW(Sgd({.learning_rate = -1}), ValueError);
}

TEST(OptimizerTest, SlotsFollowOptions) {
  EXPECT_TRUE(Sgd().slot_names().empty());
  EXPECT_EQ(Sgd({.momentum = 0.9}).slot_names(), std::vector<std::string>{"momentum"});
  EXPECT_EQ(Adam({.amsgrad = true}).slot_names().size(), 3u);
  EXPECT_EQ(Rmsprop({.centered = true}).slot_names().size(), 3u);
}

TEST(OptimizerTest, ApplyCountsIterationsAndUpdatesInPlace) {
  auto& backend = backend::cpu_backend();
  Sgd sgd({.learning_rate = 0.5});
  Tensor w = Tensor::from_vector<float>({3}, {1, 2, 3});
  Tensor g = Tensor::from_vector<float>({3}, {1, -1, 2});
  sgd.build(w, backend);
  sgd.apply(backend, w, g);
  sgd.apply(backend, w, g);
  EXPECT_EQ(sgd.iterations(), 2);
  EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{0, 3, 1}));
  EXPECT_THROW(sgd.build(Tensor::zeros({4}), backend), ValueError);
}

TEST(OptimizerTest, AdamFirstStepMovesByLearningRateTimesSign) {
  // Step 1: m = 0.1 g, v = 0.001 g^2, alpha = lr * sqrt(0.001) / 0.1, so the move is
  // lr * g / (|g| + eps / sqrt(0.001)) ~ lr * sign(g).
  auto& backend = backend::cpu_backend();
  Adam adam({.learning_rate = 0.01});
  Tensor w = Tensor::from_vector<float>({2}, {1, 1});
  Tensor g = Tensor::from_vector<float>({2}, {3, -0.5});
  adam.build(w, backend);
  adam.apply(backend, w, g);
  EXPECT_NEAR(w.data<float>()[0], 0.99, 1e-6);
  EXPECT_NEAR(w.data<float>()[1], 1.01, 1e-6);
}

}  // namespace
}  // namespace trainyard::nn
