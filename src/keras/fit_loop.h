// fit()'s epoch loop and the evaluation pass it shares with evaluate(), over batched float32
// Datasets whose batches hold the model's inputs, then its targets, then optionally a [batch]
// sample weight (Keras's (x, y, sample_weight) tuples).
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>

#include "data/dataset.h"
#include "keras/history.h"
#include "keras/options.h"
#include "keras/progress_bar.h"

namespace trainyard::keras {

class Model;
class Trainer;

// Where fit, evaluate and predict draw: `requested`, or standard output. Whether that is an
// interactive terminal.
std::ostream& output_of(std::ostream* requested);
bool is_terminal(std::ostream* requested);

// What one fit() trains and validates on, batched and converted to float32.
struct FitData {
  data::Dataset train;
  std::optional<data::Dataset> validation;
  size_t inputs = 0;
  size_t outputs = 0;
};

// Keras's epoch loop: callbacks, progress bar, steps_per_epoch, validation every
// validation_freq-th epoch. REQUIRES: the trainer is prepared for the data's shapes and the
// options were validated (steps_per_epoch set when the training data repeats forever).
History run_fit(Model& model, Trainer& trainer, const FitData& data, const FitOptions& options);

// Resets the metrics and runs a test step on every batch of `dataset` (one pass), updating
// `bar` after each when given.
void run_test_epoch(Trainer& trainer, const data::Dataset& dataset, size_t inputs, size_t outputs,
                    ProgressBar* bar);

}  // namespace trainyard::keras
