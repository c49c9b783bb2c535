#include "data/epoch_iterator.h"

#include <utility>

#include "data/batch_engine.h"

namespace trainyard::data {

EpochIterator::EpochIterator(std::shared_ptr<detail::BatchEngine> engine, int64_t epoch)
    : engine_(std::move(engine)), num_batches_(engine_->num_batches()) {
  try {
    engine_->start_epoch(epoch);
  } catch (...) {
    engine_->in_use.store(false);
    throw;
  }
}

EpochIterator::EpochIterator(EpochIterator&& other) noexcept
    : engine_(std::move(other.engine_)), num_batches_(other.num_batches_) {}

EpochIterator& EpochIterator::operator=(EpochIterator&& other) noexcept {
  if (this != &other) {
    release();
    engine_ = std::move(other.engine_);
    num_batches_ = other.num_batches_;
  }
  return *this;
}

EpochIterator::~EpochIterator() {
  release();
}

void EpochIterator::release() {
  if (!engine_) return;
  engine_->stop_epoch();
  engine_->in_use.store(false);
  engine_.reset();
}

bool EpochIterator::next(Batch& batch) {
  if (!engine_) return false;
  bool has_batch = false;
  try {
    has_batch = engine_->next(batch);
  } catch (...) {
    release();
    throw;
  }
  // Hand the engine back as soon as the epoch ends, so the next begin_epoch can reuse its
  // buffers even while this iterator object still exists.
  if (!has_batch) release();
  return has_batch;
}

}  // namespace trainyard::data
