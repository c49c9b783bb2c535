#include "keras/epoch_batches.h"

#include "core/error.h"

namespace trainyard::keras {

EpochBatches::EpochBatches(const data::Dataset& dataset, std::optional<int64_t> steps_per_epoch)
    : dataset_(dataset), steps_per_epoch_(steps_per_epoch) {
  TY_CHECK(!steps_per_epoch || *steps_per_epoch >= 1, "steps_per_epoch must be >= 1");
  TY_CHECK(steps_per_epoch || !dataset.repeats_forever(),
           "a dataset that repeats forever needs steps_per_epoch");
  steps_ = steps_per_epoch ? *steps_per_epoch : dataset.num_batches();
}

void EpochBatches::begin_epoch(int epoch) {
  taken_ = 0;
  ran_out_ = false;
  // Only steps_per_epoch carries a pass over into the next epoch.
  if (!steps_per_epoch_ || !pass_ || pass_used_up_) {
    pass_.reset();  // frees the dataset's buffers for the new pass
    pass_.emplace(dataset_.begin_epoch(epoch));
    pass_used_up_ = false;
  }
}

bool EpochBatches::next(data::Batch& batch) {
  if (taken_ >= steps_) return false;
  if (pass_used_up_ || !pass_->next(batch)) {
    pass_used_up_ = true;
    ran_out_ = true;
    return false;
  }
  ++taken_;
  // Keras counts a pass's batches and starts the next pass right after the last one, so an
  // epoch that ends together with its pass has not run out.
  int64_t pass_batches = pass_->num_batches();
  if (pass_batches >= 0 && batch.index() + 1 >= pass_batches) pass_used_up_ = true;
  return true;
}

}  // namespace trainyard::keras
