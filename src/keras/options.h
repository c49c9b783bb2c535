// The keyword arguments of compile, fit, evaluate and predict, with Keras's defaults.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "keras/callback.h"
#include "nn/losses.h"
#include "nn/optimizers/optimizers.h"

namespace trainyard::keras {

// An optimizer given by Keras name ("adam") or as a configured object.
struct OptimizerRef {
  nn::OptimizerPtr optimizer;

  OptimizerRef(const char* identifier);         // NOLINT(google-explicit-constructor)
  OptimizerRef(const std::string& identifier);  // NOLINT(google-explicit-constructor)
  template <typename Derived>
  requires std::is_base_of_v<nn::Optimizer, Derived> OptimizerRef(
      std::shared_ptr<Derived> object)  // NOLINT(google-explicit-constructor)
      : optimizer(std::move(object)) {}
};

struct CompileOptions {
  OptimizerRef optimizer = "rmsprop";
  // Required: compile() throws ValueError when left empty.
  std::optional<nn::LossFunction> loss;
  // Names as Keras takes them ("accuracy", "mae", ...); logged under the name given.
  std::vector<std::string> metrics;
};

// Validation arrays for fit(validation_data=(x, y)).
struct ValidationData {
  Tensor x;
  Tensor y;
};

struct FitOptions {
  int64_t batch_size = 32;
  // The index of the last epoch plus one (Keras's meaning, also with initial_epoch).
  int epochs = 1;
  // 0 silent, 1 progress bar, 2 one line per epoch.
  int verbose = 1;
  // Fraction of the samples, taken from the end before shuffling, held out for validation.
  double validation_split = 0.0;
  // Overrides validation_split when set.
  std::optional<ValidationData> validation_data;
  bool shuffle = true;
  int initial_epoch = 0;
  // Seeds the shuffle; unset: drawn from the global seed stream (set_random_seed).
  std::optional<uint64_t> seed;
  // Where the progress bar goes; null means standard output.
  std::ostream* output = nullptr;
  // Called in order, before the History and the progress bar, as in Keras.
  std::vector<CallbackPtr> callbacks;
};

struct EvaluateOptions {
  int64_t batch_size = 32;
  int verbose = 1;
  std::ostream* output = nullptr;
};

struct PredictOptions {
  int64_t batch_size = 32;
  int verbose = 0;
  std::ostream* output = nullptr;
};

}  // namespace trainyard::keras
