// BatchEngine: the machinery that produces a Dataset's batches. It allocates its batch
// buffers, the epoch's sample order and (with prefetch) its producer thread once, then runs
// any number of epochs without allocating. Internal to the data layer; users see it through
// EpochIterator.
//
// Thread safety: one consumer at a time (the EpochIterator that holds it, marked by
// in_use); with prefetch_depth > 0 a producer thread fills a ring of prefetch_depth + 1
// slots, one of which the consumer holds while the others are filled ahead.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "data/batch.h"
#include "data/dataset_spec.h"
#include "data/gather.h"

namespace trainyard::data::detail {

class BatchEngine {
 public:
  // REQUIRES: spec->batch_size > 0. Allocates every buffer up front.
  explicit BatchEngine(std::shared_ptr<const DatasetSpec> spec);
  ~BatchEngine();
  BatchEngine(const BatchEngine&) = delete;
  BatchEngine& operator=(const BatchEngine&) = delete;

  // Starts epoch `epoch`. REQUIRES: the previous epoch finished or was stopped.
  void start_epoch(int64_t epoch);
  // Points `batch` at the next batch and returns true, or returns false at the end of the
  // epoch. Rethrows an exception raised while producing a batch (the epoch then ends).
  bool next(Batch& batch);
  // Abandons the current epoch; returns once the producer has stopped touching the buffers.
  void stop_epoch();

  int64_t num_batches() const { return num_batches_; }

  // Set by whoever iterates with this engine; a busy engine is not handed out again.
  std::atomic<bool> in_use{false};

 private:
  struct Slot {
    std::vector<Tensor> full;     // [batch_size, ...] per array
    std::vector<Tensor> partial;  // [remainder, ...] views of `full`, when the last batch is short
    // With map(): examples[k][i] views row k of full[i], the sample a transform rewrites.
    std::vector<std::vector<Tensor>> examples;
  };

  // Gathers batch `index` of the current epoch into `slot` and runs the transform. `rows` is
  // scratch of batch_size entries owned by the calling thread.
  void produce(int64_t index, Slot& slot, std::vector<int64_t>& rows);
  void point(Batch& batch, int64_t index);
  // Samples in batch `index`: batch_size, or fewer for an epoch's short last batch.
  int64_t batch_rows(int64_t index) const;
  // Points order_ at pass `pass` of the current epoch's shuffle (shuffled datasets only).
  void use_pass_order(int64_t pass);
  void producer_loop();

  // Constant after construction.
  const std::shared_ptr<const DatasetSpec> spec_;
  const int64_t num_batches_;
  std::vector<ArrayGather> gathers_;
  std::vector<Slot> slots_;
  bool consecutive_rows_ = false;  // no shuffle and stride 1: batches are contiguous blocks

  // Touched by whichever thread produces (the consumer without prefetch).
  std::vector<int64_t> order_;  // a pass's permutation of [0, count) when shuffling
  int64_t order_pass_ = -1;     // the pass order_ holds; -1: none yet this epoch
  std::vector<int64_t> rows_;   // source rows of the batch being gathered
  int64_t epoch_ = 0;

  // Consumer side.
  int64_t next_index_ = 0;  // the batch next() hands out next
  bool epoch_open_ = false;

  // Producer thread (prefetch_depth > 0 only).
  std::mutex mutex_;
  std::condition_variable producer_wake_;
  std::condition_variable consumer_wake_;
  // Guarded by mutex_:
  uint64_t generation_ = 0;  // bumped by start_epoch
  int64_t produced_ = 0;     // batches of this epoch ready in their slots
  int64_t released_ = 0;     // the consumer is done with every batch below this
  bool producer_idle_ = true;
  bool cancel_ = false;
  bool shutdown_ = false;
  std::exception_ptr error_;
  std::thread producer_;
};

}  // namespace trainyard::data::detail
