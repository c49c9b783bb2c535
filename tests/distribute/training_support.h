// What the strategy tests share: a small MLP classifier, random data for it, and the
// comparisons the equivalence tests make.
#pragma once

#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "core/random.h"
#include "distribute/replicated_model.h"
#include "keras/trainer.h"

namespace trainyard::distribute {

namespace k = trainyard::keras;

constexpr int64_t kFeatures = 20;
constexpr int64_t kClasses = 10;

inline Tensor random_features(int64_t rows, uint64_t seed) {
  Tensor tensor = Tensor::zeros(Shape{rows, kFeatures});
  RandomGenerator generator(seed);
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    tensor.data<float>()[i] = static_cast<float>(generator.uniform() * 2.0 - 1.0);
  }
  return tensor;
}

inline Tensor random_labels(int64_t rows, uint64_t seed) {
  Tensor tensor = Tensor::zeros(Shape{rows});
  RandomGenerator generator(seed);
  for (int64_t i = 0; i < rows; ++i) {
    tensor.data<float>()[i] = static_cast<float>(generator.below(kClasses));
  }
  return tensor;
}

enum class OptimizerKind { kSgd, kAdam };

// The MLP, or (with_batch_norm) a Dense -> BatchNormalization(synchronized=True) -> ReLU
// -> Dense model, whose replicas match one global-batch model only when the statistics are
// the global batch's.
enum class ModelKind { kMlp, kSynchronizedBatchNorm };

inline std::unique_ptr<k::Model> make_model(ModelKind kind, OptimizerKind optimizer) {
  std::unique_ptr<k::Sequential> model;
  if (kind == ModelKind::kMlp) {
    model = std::make_unique<k::Sequential>(k::Sequential({
        k::layers::Dense(32, {.activation = "relu"}),
        k::layers::Dense(16, {.activation = "tanh"}),
        k::layers::Dense(kClasses),
    }));
  } else {
    model = std::make_unique<k::Sequential>(k::Sequential({
        // No bias: BatchNormalization subtracts the mean, so a bias there gets only rounding
        // noise as its gradient, which Adam would amplify into steps.
        k::layers::Dense(32, {.use_bias = false}),
        k::layers::BatchNormalization({.synchronized = true}),
        k::layers::Activation("relu"),
        k::layers::Dense(kClasses),
    }));
  }
  nn::OptimizerPtr chosen;
  if (optimizer == OptimizerKind::kSgd) {
    chosen = k::optimizers::SGD({.learning_rate = 0.1, .momentum = 0.9});
  } else {
    chosen = k::optimizers::Adam({.learning_rate = 1e-3});
  }
  model->compile({.optimizer = chosen,
                  .loss = k::losses::SparseCategoricalCrossentropy({.from_logits = true}),
                  .metrics = {"accuracy"}});
  return model;
}

inline std::unique_ptr<k::Model> make_mlp(OptimizerKind optimizer) {
  return make_model(ModelKind::kMlp, optimizer);
}

// max |a - b| / max |b| over one weight.
inline double relative_difference(const Tensor& a, const Tensor& b) {
  double difference = 0.0, scale = 0.0;
  for (int64_t i = 0; i < b.num_elements(); ++i) {
    difference = std::max(difference, std::abs(double(a.data<float>()[i]) - b.data<float>()[i]));
    scale = std::max(scale, std::abs(double(b.data<float>()[i])));
  }
  return difference / std::max(scale, 1e-30);
}

inline double log_value(const k::Logs& logs, const std::string& name) {
  for (const auto& [key, value] : logs) {
    if (key == name) return value;
  }
  ADD_FAILURE() << "no log named " << name;
  return 0.0;
}

inline bool same_bits(const Tensor& a, const Tensor& b) {
  return a.to_vector<float>() == b.to_vector<float>();
}

// Trains `replicated` (N replicas, per-replica batch `per_replica`) and one plain model with
// the global batch N * per_replica from the same weights over the same samples for 50 steps,
// then checks that they end alike: every weight within 1e-5 relative (and moved well beyond
// it), and the logged loss and accuracy those of the global batch. Returns the replicated
// weights for the caller's own checks.
inline std::vector<Tensor> expect_matches_global_batch_model(ReplicatedModel& replicated,
                                                             ModelKind kind,
                                                             OptimizerKind optimizer,
                                                             int64_t per_replica = 8) {
  constexpr int kSteps = 50;
  const int replicas = replicated.num_replicas_in_sync();
  const int64_t global = replicas * per_replica;
  Tensor x = random_features(kSteps * global, 1);
  Tensor y = random_labels(kSteps * global, 2);
  replicated.build(x.shape(), y.shape());
  const std::vector<Tensor> initial = replicated.get_weights();

  std::unique_ptr<k::Model> single = make_model(kind, optimizer);
  k::Trainer& trainer = single->trainer();
  trainer.prepare(x.shape(), y.shape());
  single->set_weights(initial);

  k::Logs logs;
  for (int step = 0; step < kSteps; ++step) {
    Tensor batch_x = x.slice_rows(step * global, (step + 1) * global);
    Tensor batch_y = y.slice_rows(step * global, (step + 1) * global);
    logs = replicated.train_on_batch(batch_x, batch_y);
    trainer.reset_metrics();
    trainer.train_step(batch_x, batch_y);
  }
  std::vector<Tensor> expected = single->get_weights();
  std::vector<Tensor> actual = replicated.get_weights();
  EXPECT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
    EXPECT_LE(relative_difference(actual[i], expected[i]), 1e-5)
        << replicas << " replicas, weight " << i;
    // Training moved every weight far beyond the tolerance, so the comparison means something.
    EXPECT_GT(relative_difference(initial[i], expected[i]), 1e-3) << "weight " << i;
  }
  EXPECT_NEAR(log_value(logs, "loss"), *trainer.result("loss"), 1e-5);
  EXPECT_NEAR(log_value(logs, "accuracy"), *trainer.result("accuracy"), 1e-6);
  EXPECT_EQ(replicated.replica(0).optimizer().iterations(), kSteps);
  return actual;
}

}  // namespace trainyard::distribute
