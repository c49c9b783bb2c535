#include "data/batch_engine.h"

#include <algorithm>
#include <utility>

#include "core/error.h"
#include "data/shuffle.h"

namespace trainyard::data::detail {

BatchEngine::BatchEngine(std::shared_ptr<const DatasetSpec> spec)
    : spec_(std::move(spec)), num_batches_(spec_->num_batches()) {
  TY_CHECK(spec_->batch_size > 0, "BatchEngine needs a batched dataset");
  const int64_t batch_size = spec_->batch_size;
  const int64_t remainder = spec_->forever() ? 0 : spec_->stream_length() % batch_size;
  const bool has_partial = remainder != 0 && !spec_->drop_remainder;

  for (size_t i = 0; i < spec_->arrays.size(); ++i) {
    const Tensor& array = spec_->arrays[i];
    ArrayGather gather;
    gather.source = static_cast<const unsigned char*>(array.raw_data());
    Shape row_shape = array.shape().drop_front(1);
    gather.row_elements = row_shape.num_elements();
    gather.source_row_bytes = static_cast<size_t>(gather.row_elements) * dtype_size(array.dtype());
    DType output = spec_->output_dtype(i);
    gather.target_row_bytes = static_cast<size_t>(gather.row_elements) * dtype_size(output);
    if (const auto& cast = spec_->casts[i];
        cast && (cast->dtype != array.dtype() || cast->scale != 1.0)) {
      gather.convert = converter(array.dtype(), cast->dtype);
      gather.scale = cast->scale;
    }
    gathers_.push_back(gather);
  }

  const size_t num_slots =
      spec_->prefetch_depth > 0 ? static_cast<size_t>(spec_->prefetch_depth) + 1 : 1;
  slots_.resize(num_slots);
  for (Slot& slot : slots_) {
    for (size_t i = 0; i < spec_->arrays.size(); ++i) {
      Shape shape = spec_->arrays[i].shape().with_batch(batch_size);
      slot.full.push_back(Tensor::zeros(shape, spec_->output_dtype(i)));
      if (has_partial) slot.partial.push_back(slot.full.back().slice_rows(0, remainder));
    }
    if (spec_->example_transforms.empty()) continue;
    slot.examples.resize(static_cast<size_t>(batch_size));
    for (int64_t k = 0; k < batch_size; ++k) {
      for (size_t i = 0; i < spec_->arrays.size(); ++i) {
        slot.examples[static_cast<size_t>(k)].push_back(
            slot.full[i].view(static_cast<size_t>(k) * gathers_[i].target_row_bytes,
                              spec_->arrays[i].shape().drop_front(1), spec_->output_dtype(i)));
      }
    }
  }
  consecutive_rows_ = !spec_->shuffle_seed && spec_->stride == 1;
  if (spec_->shuffle_seed) order_.resize(static_cast<size_t>(spec_->count));
  rows_.resize(static_cast<size_t>(batch_size));
  if (spec_->prefetch_depth > 0) producer_ = std::thread([this] { producer_loop(); });
}

BatchEngine::~BatchEngine() {
  if (!producer_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    shutdown_ = true;
  }
  producer_wake_.notify_all();
  producer_.join();
}

int64_t BatchEngine::batch_rows(int64_t index) const {
  if (spec_->forever()) return spec_->batch_size;
  return std::min(spec_->batch_size, spec_->stream_length() - index * spec_->batch_size);
}

void BatchEngine::use_pass_order(int64_t pass) {
  if (pass == order_pass_) return;
  // repeat(n) visits the orders of n consecutive unrepeated epochs: pass r of epoch e is
  // shuffled like epoch e * n + r. Repeating forever, epoch e's passes start at e * 2^32.
  const uint64_t passes_per_epoch =
      spec_->forever() ? uint64_t{1} << 32 : static_cast<uint64_t>(spec_->repeat);
  const uint64_t stream =
      static_cast<uint64_t>(epoch_) * passes_per_epoch + static_cast<uint64_t>(pass);
  epoch_permutation(*spec_->shuffle_seed, static_cast<int64_t>(stream), order_);
  order_pass_ = pass;
}

void BatchEngine::produce(int64_t index, Slot& slot, std::vector<int64_t>& rows) {
  const int64_t begin = index * spec_->batch_size;
  const int64_t size = batch_rows(index);
  // The epoch is a stream of passes over the selection; walk it from position `begin`.
  int64_t pass = begin / spec_->count;
  int64_t within = begin % spec_->count;
  const int64_t first_pass = pass;
  for (int64_t k = 0; k < size; ++k) {
    int64_t position = within;
    if (spec_->shuffle_seed) {
      use_pass_order(pass);
      position = order_[static_cast<size_t>(within)];
    }
    rows[static_cast<size_t>(k)] = spec_->start + spec_->stride * position;
    if (++within == spec_->count) {
      within = 0;
      ++pass;
    }
  }
  // A batch that wraps from one pass into the next is not one block of rows.
  const bool consecutive = consecutive_rows_ && (within == 0 ? pass - 1 : pass) == first_pass;
  std::span<const int64_t> batch_rows(rows.data(), static_cast<size_t>(size));
  for (size_t i = 0; i < gathers_.size(); ++i) {
    // Without a producer thread this runs on the consumer, which may share the compute pool.
    gather_rows(gathers_[i], batch_rows, consecutive, slot.full[i].raw_data(),
                /*use_compute_pool=*/spec_->prefetch_depth == 0);
  }
  for (int64_t k = 0; k < size && !spec_->example_transforms.empty(); ++k) {
    for (const ExampleTransform& transform : spec_->example_transforms) {
      transform(slot.examples[static_cast<size_t>(k)]);
    }
  }
  if (spec_->transform) {
    Batch batch;
    batch.tensors_ = size == spec_->batch_size ? slot.full : slot.partial;
    batch.num_samples_ = size;
    batch.index_ = index;
    batch.epoch_ = epoch_;
    spec_->transform(batch);
  }
}

void BatchEngine::point(Batch& batch, int64_t index) {
  Slot& slot = slots_[static_cast<size_t>(index) % slots_.size()];
  const int64_t size = batch_rows(index);
  batch.tensors_ = size == spec_->batch_size ? slot.full : slot.partial;
  batch.num_samples_ = size;
  batch.index_ = index;
  batch.epoch_ = epoch_;
}

void BatchEngine::start_epoch(int64_t epoch) {
  TY_CHECK(!epoch_open_, "BatchEngine::start_epoch while an epoch is open");
  next_index_ = 0;
  epoch_open_ = true;
  if (!producer_.joinable()) {
    epoch_ = epoch;
    order_pass_ = -1;
    return;
  }
  {
    std::unique_lock lock(mutex_);
    consumer_wake_.wait(lock, [this] { return producer_idle_; });
    epoch_ = epoch;
    produced_ = 0;
    released_ = 0;
    cancel_ = false;
    error_ = nullptr;
    producer_idle_ = false;
    ++generation_;
  }
  producer_wake_.notify_all();
}

bool BatchEngine::next(Batch& batch) {
  if (!epoch_open_) return false;
  if (!producer_.joinable()) {
    if (num_batches_ >= 0 && next_index_ >= num_batches_) {
      epoch_open_ = false;
      return false;
    }
    try {
      produce(next_index_, slots_[0], rows_);
    } catch (...) {
      epoch_open_ = false;
      throw;
    }
    point(batch, next_index_++);
    return true;
  }

  std::unique_lock lock(mutex_);
  // Everything before next_index_ (including the batch handed out last time) is released.
  released_ = next_index_;
  producer_wake_.notify_all();
  if (num_batches_ >= 0 && next_index_ >= num_batches_) {
    epoch_open_ = false;
    return false;
  }
  consumer_wake_.wait(lock, [this] { return produced_ > next_index_ || error_ != nullptr; });
  if (produced_ <= next_index_) {
    // The producer failed before this batch; it is idle by the time error_ is set.
    std::exception_ptr error = std::exchange(error_, nullptr);
    consumer_wake_.wait(lock, [this] { return producer_idle_; });
    epoch_open_ = false;
    std::rethrow_exception(error);
  }
  lock.unlock();
  point(batch, next_index_++);
  return true;
}

void BatchEngine::stop_epoch() {
  if (!epoch_open_) return;
  epoch_open_ = false;
  if (!producer_.joinable()) return;
  std::unique_lock lock(mutex_);
  cancel_ = true;
  producer_wake_.notify_all();
  consumer_wake_.wait(lock, [this] { return producer_idle_; });
  cancel_ = false;
  error_ = nullptr;
}

void BatchEngine::producer_loop() {
  // The producer's own scratch, so it never shares rows_ with anyone.
  std::vector<int64_t> rows(static_cast<size_t>(spec_->batch_size));
  uint64_t seen_generation = 0;
  std::unique_lock lock(mutex_);
  for (;;) {
    producer_wake_.wait(lock, [&] { return shutdown_ || generation_ != seen_generation; });
    if (shutdown_) return;
    seen_generation = generation_;
    lock.unlock();
    try {
      order_pass_ = -1;
      for (int64_t index = 0; num_batches_ < 0 || index < num_batches_; ++index) {
        lock.lock();
        producer_wake_.wait(lock, [&] {
          return cancel_ || shutdown_ || index < released_ + static_cast<int64_t>(slots_.size());
        });
        const bool stop = cancel_ || shutdown_;
        lock.unlock();
        if (stop) break;
        produce(index, slots_[static_cast<size_t>(index) % slots_.size()], rows);
        lock.lock();
        produced_ = index + 1;
        lock.unlock();
        consumer_wake_.notify_all();
      }
      lock.lock();
    } catch (...) {
      lock.lock();
      error_ = std::current_exception();
    }
    producer_idle_ = true;
    consumer_wake_.notify_all();
  }
}

}  // namespace trainyard::data::detail
