#include "data/dataset.h"

#include <cmath>
#include <limits>
#include <mutex>
#include <string>

#include "core/error.h"
#include "data/batch_engine.h"
#include "data/gather.h"

namespace trainyard::data {

struct Dataset::EngineCache {
  std::mutex mutex;
  std::shared_ptr<detail::BatchEngine> engine;  // guarded by mutex
};

Dataset::Dataset(std::shared_ptr<const detail::DatasetSpec> spec)
    : spec_(std::move(spec)), cache_(std::make_shared<EngineCache>()) {}

Dataset Dataset::from_tensors(std::vector<Tensor> arrays) {
  if (arrays.empty()) throw ValueError("Dataset::from_tensors: needs at least one array");
  for (size_t i = 0; i < arrays.size(); ++i) {
    const Tensor& array = arrays[i];
    std::string which = "Dataset::from_tensors: array " + std::to_string(i);
    if (!array.defined()) throw ValueError(which + " is undefined");
    if (!array.device().is_cpu()) {
      throw ValueError(which + " is on " + array.device().to_string() +
                       "; datasets hold CPU arrays");
    }
    if (array.shape().rank() == 0) {
      throw ShapeError(which + " is a scalar; dim 0 must be the sample count");
    }
    if (array.shape()[0] != arrays[0].shape()[0]) {
      throw ShapeError(which + " has shape " + array.shape().to_string() + " but array 0 has " +
                       arrays[0].shape().to_string() + ": dim 0 (the sample count) must agree");
    }
  }
  detail::DatasetSpec spec;
  spec.count = arrays[0].shape()[0];
  spec.casts.resize(arrays.size());
  spec.arrays = std::move(arrays);
  return Dataset(std::make_shared<const detail::DatasetSpec>(std::move(spec)));
}

void Dataset::require_unordered(const char* method) const {
  if (spec_->shuffle_seed || spec_->batch_size > 0 || spec_->repeat != 1) {
    throw ValueError(std::string("Dataset::") + method +
                     ": select samples before shuffle(), repeat() and batch(); take, skip, "
                     "shard and split_at count samples in the arrays' stored order");
  }
}

Dataset Dataset::shuffle(uint64_t seed) const {
  detail::DatasetSpec spec = edit();
  spec.shuffle_seed = seed;
  return Dataset(std::make_shared<const detail::DatasetSpec>(std::move(spec)));
}

Dataset Dataset::batch(int64_t batch_size, bool drop_remainder) const {
  if (batch_size < 1) {
    throw ValueError("Dataset::batch: batch_size must be at least 1, got " +
                     std::to_string(batch_size));
  }
  if (spec_->batch_size > 0) {
    throw ValueError("Dataset::batch: the dataset is already batched (batch size " +
                     std::to_string(spec_->batch_size) + ")");
  }
  detail::DatasetSpec spec = edit();
  spec.batch_size = batch_size;
  spec.drop_remainder = drop_remainder;
  return Dataset(std::make_shared<const detail::DatasetSpec>(std::move(spec)));
}

Dataset Dataset::cast(size_t array_index, DType dtype, double scale) const {
  if (array_index >= spec_->arrays.size()) {
    throw ValueError("Dataset::cast: array index " + std::to_string(array_index) +
                     " out of range for " + std::to_string(spec_->arrays.size()) + " arrays");
  }
  if (!std::isfinite(scale)) throw ValueError("Dataset::cast: scale must be finite");
  if (scale != 1.0 && !is_floating(dtype)) {
    throw ValueError("Dataset::cast: a scale of " + std::to_string(scale) +
                     " needs a floating target dtype, not " + std::string(dtype_name(dtype)));
  }
  DType source = spec_->arrays[array_index].dtype();
  if (source != dtype || scale != 1.0) detail::converter(source, dtype);  // throws if unsupported
  detail::DatasetSpec spec = edit();
  spec.casts[array_index] = detail::ArrayCast{dtype, scale};
  return Dataset(std::make_shared<const detail::DatasetSpec>(std::move(spec)));
}

Dataset Dataset::prefetch(int depth) const {
  if (depth < 0) {
    throw ValueError("Dataset::prefetch: depth must be >= 0, got " + std::to_string(depth));
  }
  detail::DatasetSpec spec = edit();
  spec.prefetch_depth = depth;
  return Dataset(std::make_shared<const detail::DatasetSpec>(std::move(spec)));
}

Dataset Dataset::map(ExampleTransform transform) const {
  if (!transform) throw ValueError("Dataset::map: the transform is empty");
  detail::DatasetSpec spec = edit();
  spec.example_transforms.push_back(std::move(transform));
  return Dataset(std::make_shared<const detail::DatasetSpec>(std::move(spec)));
}

Dataset Dataset::repeat(int64_t count) const {
  if (count < -1) {
    throw ValueError("Dataset::repeat: count must be >= 0, or -1 for forever; got " +
                     std::to_string(count));
  }
  if (spec_->batch_size > 0) {
    throw ValueError(
        "Dataset::repeat: call repeat() before batch(); batches then run across "
        "the passes, as with tf.data's repeat().batch()");
  }
  detail::DatasetSpec spec = edit();
  if (spec.repeat == -1 || count == -1) {
    spec.repeat = spec.repeat == 0 || count == 0 ? 0 : -1;
  } else {
    constexpr int64_t kMaxSamples = std::numeric_limits<int64_t>::max();
    int64_t passes_limit = spec.count > 0 ? kMaxSamples / spec.count : kMaxSamples;
    if (count != 0 && spec.repeat > passes_limit / count) {
      throw ValueError("Dataset::repeat: " + std::to_string(spec.repeat) + " x " +
                       std::to_string(count) + " passes over " + std::to_string(spec.count) +
                       " samples exceed 2^63 samples; use repeat(-1) to repeat forever");
    }
    spec.repeat *= count;
  }
  return Dataset(std::make_shared<const detail::DatasetSpec>(std::move(spec)));
}

Dataset Dataset::map_batch(BatchTransform transform) const {
  detail::DatasetSpec spec = edit();
  spec.transform = std::move(transform);
  return Dataset(std::make_shared<const detail::DatasetSpec>(std::move(spec)));
}

Dataset Dataset::take(int64_t count) const {
  require_unordered("take");
  if (count < 0)
    throw ValueError("Dataset::take: count must be >= 0, got " + std::to_string(count));
  detail::DatasetSpec spec = edit();
  spec.count = std::min(spec.count, count);
  return Dataset(std::make_shared<const detail::DatasetSpec>(std::move(spec)));
}

Dataset Dataset::skip(int64_t count) const {
  require_unordered("skip");
  if (count < 0)
    throw ValueError("Dataset::skip: count must be >= 0, got " + std::to_string(count));
  detail::DatasetSpec spec = edit();
  int64_t skipped = std::min(spec.count, count);
  spec.start += spec.stride * skipped;
  spec.count -= skipped;
  return Dataset(std::make_shared<const detail::DatasetSpec>(std::move(spec)));
}

Dataset Dataset::shard(int64_t num_shards, int64_t index) const {
  require_unordered("shard");
  if (num_shards < 1 || index < 0 || index >= num_shards) {
    throw ValueError("Dataset::shard: need 0 <= index < num_shards, got index " +
                     std::to_string(index) + " of " + std::to_string(num_shards) + " shards");
  }
  detail::DatasetSpec spec = edit();
  spec.count = index < spec.count ? (spec.count - index + num_shards - 1) / num_shards : 0;
  spec.start += spec.stride * index;
  spec.stride *= num_shards;
  return Dataset(std::make_shared<const detail::DatasetSpec>(std::move(spec)));
}

DatasetSplit Dataset::split_at(double validation_fraction) const {
  require_unordered("split_at");
  if (!(validation_fraction >= 0.0 && validation_fraction < 1.0)) {
    throw ValueError("Dataset::split_at: validation_fraction must be in [0, 1), got " +
                     std::to_string(validation_fraction));
  }
  // Keras: split_at = int(num_samples * (1 - validation_split)).
  auto split = static_cast<int64_t>(
      std::floor(static_cast<double>(spec_->count) * (1.0 - validation_fraction)));
  return DatasetSplit{take(split), skip(split)};
}

int64_t Dataset::num_batches() const {
  if (spec_->batch_size == 0) throw ValueError("Dataset::num_batches: call batch() first");
  if (spec_->forever()) {
    throw ValueError(
        "Dataset::num_batches: the dataset repeats forever, so an epoch has no "
        "batch count; stop after the steps you need");
  }
  return spec_->num_batches();
}

Shape Dataset::batch_shape(size_t i) const {
  if (i >= spec_->arrays.size()) {
    throw ValueError("Dataset::batch_shape: array index " + std::to_string(i) +
                     " out of range for " + std::to_string(spec_->arrays.size()) + " arrays");
  }
  int64_t rows = spec_->batch_size > 0 ? spec_->batch_size : spec_->count;
  return spec_->arrays[i].shape().with_batch(rows);
}

DType Dataset::output_dtype(size_t i) const {
  if (i >= spec_->arrays.size()) {
    throw ValueError("Dataset::output_dtype: array index " + std::to_string(i) +
                     " out of range for " + std::to_string(spec_->arrays.size()) + " arrays");
  }
  return spec_->output_dtype(i);
}

EpochIterator Dataset::begin_epoch(int64_t epoch) const {
  if (spec_->batch_size == 0) throw ValueError("Dataset::begin_epoch: call batch() first");
  if (epoch < 0) {
    throw ValueError("Dataset::begin_epoch: epoch must be >= 0, got " + std::to_string(epoch));
  }
  std::shared_ptr<detail::BatchEngine> engine;
  {
    std::lock_guard lock(cache_->mutex);
    if (!cache_->engine) {
      cache_->engine = std::make_shared<detail::BatchEngine>(spec_);
      cache_->engine->in_use.store(true);
      engine = cache_->engine;
    } else if (!cache_->engine->in_use.exchange(true)) {
      engine = cache_->engine;
    }
  }
  if (!engine) {
    // The cached engine is busy with another live iterator: this one gets its own buffers.
    engine = std::make_shared<detail::BatchEngine>(spec_);
    engine->in_use.store(true);
  }
  return EpochIterator(std::move(engine), epoch);
}

}  // namespace trainyard::data
