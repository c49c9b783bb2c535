// EpochBatches: the training batches of fit()'s epochs, as Keras's EpochIterator hands them
// out. Without steps_per_epoch each epoch is one pass over the dataset. With it, each epoch
// takes that many batches, continuing the pass the previous epoch left off; a new pass starts
// at the first epoch after one is used up, and a pass that runs out mid-epoch ends the epoch
// early (ran_out()).
// Thread safety: one thread at a time.
#pragma once

#include <cstdint>
#include <optional>

#include "data/dataset.h"

namespace trainyard::keras {

class EpochBatches {
 public:
  // REQUIRES: `dataset` is batched and outlives this object; steps_per_epoch >= 1 when set,
  // and set when the dataset repeats forever.
  EpochBatches(const data::Dataset& dataset, std::optional<int64_t> steps_per_epoch);

  // Batches an epoch holds when the data lasts (the progress bar's target).
  int64_t steps() const { return steps_; }
  // Starts 0-based epoch `epoch`. A new pass is shuffled as data::Dataset::begin_epoch(epoch).
  void begin_epoch(int epoch);
  // Points `batch` at the epoch's next batch and returns true; false at the epoch's end.
  bool next(data::Batch& batch);
  // The step within the epoch of the batch next() last returned, from 0.
  int64_t step() const { return taken_ - 1; }
  // True when the pass ran out before this epoch had steps() batches.
  bool ran_out() const { return ran_out_; }

 private:
  const data::Dataset& dataset_;
  std::optional<int64_t> steps_per_epoch_;
  int64_t steps_ = 0;
  std::optional<data::EpochIterator> pass_;
  bool pass_used_up_ = false;  // its last batch was handed out (or it ended early)
  int64_t taken_ = 0;          // batches this epoch
  bool ran_out_ = false;
};

}  // namespace trainyard::keras
