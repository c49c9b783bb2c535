// EpochIterator: one pass over a Dataset's batches.
//
//   auto iterator = dataset.begin_epoch(epoch);
//   Batch batch;
//   while (iterator.next(batch)) { ... batch[0], batch[1], batch.num_samples() ... }
//
// Move-only. Destroying it mid-epoch is fine: a prefetching producer is stopped (not left
// running or leaked) and the Dataset's buffers become free for the next epoch.
#pragma once

#include <cstdint>
#include <memory>

#include "data/batch.h"

namespace trainyard::data {

namespace detail {
class BatchEngine;
}  // namespace detail

class EpochIterator {
 public:
  EpochIterator(EpochIterator&& other) noexcept;
  EpochIterator& operator=(EpochIterator&& other) noexcept;
  EpochIterator(const EpochIterator&) = delete;
  EpochIterator& operator=(const EpochIterator&) = delete;
  ~EpochIterator();

  // Points `batch` at the next batch and returns true; returns false once the epoch is over
  // (and on every call after). The previous batch's tensors may be overwritten from this
  // call on. An exception thrown while producing a batch (by a map_batch transform, on the
  // prefetch thread or not) is rethrown here and ends the epoch.
  bool next(Batch& batch);

  // Batches in this epoch (Dataset::num_batches()); -1 when the dataset repeats forever.
  int64_t num_batches() const { return num_batches_; }

 private:
  friend class Dataset;
  EpochIterator(std::shared_ptr<detail::BatchEngine> engine, int64_t epoch);
  void release();

  std::shared_ptr<detail::BatchEngine> engine_;  // null once the epoch is over
  int64_t num_batches_ = 0;
};

}  // namespace trainyard::data
