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

}  // namespace trainyard::distribute
