// The keyword arguments of compile, fit, evaluate and predict, with Keras's defaults.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/dataset.h"
#include "keras/callback.h"
#include "keras/tensors.h"
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

// Keras's compile() arguments. For a model with several outputs, `loss` and `loss_weights` and
// `metrics` also come in Keras's list form (one entry per output, in output order) and dict form
// (by output name); give each in one form only. Designated initializers must follow this
// declaration order.
struct CompileOptions {
  OptimizerRef optimizer = "rmsprop";
  // One loss for every output. compile() throws ValueError unless exactly one of loss, losses and
  // loss_by_output is given.
  std::optional<nn::LossFunction> loss = std::nullopt;
  // One loss per output, in output order (Keras's list form).
  std::vector<nn::LossFunction> losses = {};
  // A loss for every output, by output name (Keras's dict form).
  std::map<std::string, nn::LossFunction> loss_by_output = {};
  // Each output's loss is multiplied by its weight in the total loss (unset: 1); the logged
  // "<output>_loss" stays unweighted, as in Keras. One per output, in output order...
  std::vector<double> loss_weights = {};
  // ... or by output name (outputs left out weigh 1).
  std::map<std::string, double> loss_weights_by_output = {};
  // Names as Keras takes them ("accuracy", "mae", ...), logged under the name given. One output:
  // all apply to it. Several outputs: Keras's flat list form, one metric per output in output order
  // (the list must be as long as the outputs), logged "<output>_<name>".
  std::vector<std::string> metrics = {};
  // Several outputs: a list of metrics per output, in output order...
  std::vector<std::vector<std::string>> metrics_per_output = {};
  // ... or by output name (outputs left out get none).
  std::map<std::string, std::vector<std::string>> metrics_by_output = {};
};

// Validation arrays for fit(validation_data=(x, y[, sample_weight])), in any form fit's x and y
// take, or a batched, finite Dataset yielding (x..., y...[, sample_weight]) batches as
// fit(Dataset) takes them (then leave x and y empty).
struct ValidationData {
  Tensors x;
  Tensors y;
  // [N]: weighs each validation sample's loss; undefined: all weigh 1.
  Tensor sample_weight = {};
  std::optional<data::Dataset> dataset = std::nullopt;
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
  // class index -> weight for the training loss (Keras's class_weight): each sample weighs the
  // weight of its class, argmax(y) for one-hot targets and round(y) for sparse or binary ones;
  // classes not in the map weigh 1. Single-output models only; not with sample_weight. Only the
  // training batches are weighted, never the validation data.
  std::map<int64_t, double> class_weight = {};
  // [N]: one weight per sample; each sample's loss is multiplied by it and the batch loss is
  // sum(w * loss) / batch size (Keras's sum_over_batch_size, not divided by sum(w)). With
  // validation_split the held-out samples keep their weights. Undefined: all weigh 1.
  // Metrics stay unweighted (Keras's metrics=; weighted_metrics does not exist here yet).
  Tensor sample_weight = {};
  int initial_epoch = 0;
  // Batches per epoch (>= 1); unset: one pass over the data. As in Keras 3, an epoch continues
  // the pass where the previous epoch stopped, and a new pass (reshuffled) starts with the
  // first epoch after a pass is used up. If the pass runs out in the middle of an epoch, fit()
  // warns (Keras's "Your input ran out of data" on `output`, or standard error) and ends that
  // epoch early; the next epoch starts a new pass. Required for a Dataset that repeats forever.
  std::optional<int64_t> steps_per_epoch = std::nullopt;
  // Validate after every validation_freq-th epoch only, counting epochs from 1 (Keras):
  // 2 validates after epochs 2, 4, ...; val_ logs appear only for those epochs. >= 1.
  int validation_freq = 1;
  // Seeds the shuffle; unset: drawn from the global seed stream (set_random_seed).
  std::optional<uint64_t> seed;
  // Where the progress bar (and fit's warnings) go; null means standard output (warnings:
  // standard error).
  std::ostream* output = nullptr;
  // Called in order, before the History and the progress bar, as in Keras.
  std::vector<CallbackPtr> callbacks;
};

struct EvaluateOptions {
  int64_t batch_size = 32;
  int verbose = 1;
  // [N]: weighs each sample's loss as in FitOptions::sample_weight; undefined: all weigh 1.
  Tensor sample_weight = {};
  std::ostream* output = nullptr;
};

struct PredictOptions {
  int64_t batch_size = 32;
  int verbose = 0;
  std::ostream* output = nullptr;
};

}  // namespace trainyard::keras
