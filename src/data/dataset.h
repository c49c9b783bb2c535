// Dataset: an in-memory input pipeline in the spirit of tf.data, which Model::fit and users
// iterate batch by batch.
//
//   auto data = load_fashion_mnist();
//   auto dataset = Dataset::from_tensors({data.train_images, data.train_labels})
//                      .cast(0, DType::kFloat32, 1.0 / 255)  // pixels to [0, 1] while gathering
//                      .shuffle(seed)
//                      .batch(32)
//                      .prefetch(2);
//   for (int64_t epoch = 0; epoch < epochs; ++epoch) {
//     auto iterator = dataset.begin_epoch(epoch);
//     Batch batch;
//     while (iterator.next(batch)) train_step(batch[0], batch[1]);
//   }
//
// A Dataset is an immutable value: each builder method returns a new Dataset that shares the
// arrays (no copy of their elements). Sample selection (take, skip, shard, split_at) always
// refers to the arrays' stored order, so it must come before shuffle(), repeat() and batch();
// repeat() must come before batch(); the other options may be set in any order. Whatever the
// order of the calls, a sample goes through: selection, shuffle, repeat, gather + cast, map,
// batch, map_batch. Batches are gathered into buffers allocated on the
// first begin_epoch and reused by every later epoch, so from the second epoch on iteration
// allocates nothing. The same seed gives the same batches with or without prefetch, on
// every machine.
//
// Thread safety: a Dataset may be shared between threads; each EpochIterator belongs to one.
// Two iterators of one Dataset may be alive at once (the second gets its own buffers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/tensor.h"
#include "data/batch.h"
#include "data/dataset_spec.h"
#include "data/epoch_iterator.h"

namespace trainyard::data {

struct DatasetSplit;

class Dataset {
 public:
  // A dataset whose sample i is row i of every array. The arrays must be defined CPU tensors
  // of rank >= 1 with the same dim 0 (the sample count); throws ShapeError naming both shapes
  // otherwise, ValueError for an empty list. The arrays are shared, not copied: writing to
  // them later changes the dataset.
  static Dataset from_tensors(std::vector<Tensor> arrays);

  // Visits the samples in a new order every epoch: the permutation of epoch_permutation()
  // for (seed, epoch). Calling it again replaces the seed.
  Dataset shuffle(uint64_t seed) const;

  // Groups samples into batches of `batch_size`; the last, partial batch is kept unless
  // drop_remainder (Keras semantics). Throws ValueError for batch_size < 1 or a second call.
  Dataset batch(int64_t batch_size, bool drop_remainder = false) const;

  // Converts array `array_index` to `dtype` while gathering, multiplied by `scale` (e.g.
  // uint8 pixels -> float32 with scale 1/255). Types: float32, float64, int32, int64, uint8.
  // Throws ValueError for an index out of range, another dtype, or scale != 1 with an
  // integer target.
  Dataset cast(size_t array_index, DType dtype, double scale = 1.0) const;

  // Gathers up to `depth` batches ahead on a background thread while the consumer works on
  // the current one (depth 0 turns it off). Throws ValueError for depth < 0.
  Dataset prefetch(int depth) const;

  // Runs `transform` on every sample right after it is gathered and cast, before batches are
  // handed out (on the prefetch thread when prefetching): tf.data's map, for transforms that
  // keep each array's shape and dtype. example[i] views the sample's row of array i (shape:
  // the array's dims after dim 0; dtype: output_dtype(i)); rewrite it in place and do not
  // keep it. Several calls chain in call order. An exception it throws reaches next().
  Dataset map(ExampleTransform transform) const;

  // Visits the selected samples `count` times per epoch, pass after pass (tf.data's repeat);
  // count -1 repeats forever, so an epoch never ends and the consumer decides when to stop.
  // Batches run across the passes, as with tf.data's repeat().batch(), so only the epoch's
  // last batch may be partial. With shuffle() each pass gets its own order, fixed by (seed,
  // epoch, pass); repeat(n) visits the orders of n consecutive unrepeated epochs. Calls
  // multiply (repeat(2).repeat(3) is repeat(6)). Throws ValueError for count < -1, after
  // batch(), or when the passes would hold more than 2^63 samples.
  Dataset repeat(int64_t count = -1) const;

  // Runs `transform` on every batch right after it is gathered (on the prefetch thread when
  // prefetching). An exception it throws reaches the consumer's next() call.
  Dataset map_batch(BatchTransform transform) const;

  // The first `count` samples (all of them when fewer). Throws ValueError for count < 0 or
  // when called after shuffle(), repeat() or batch().
  Dataset take(int64_t count) const;
  // All but the first `count` samples (none when fewer). Same errors as take().
  Dataset skip(int64_t count) const;
  // Every num_shards-th sample starting at `index` (tf.data's shard), so the shards of one
  // dataset are disjoint and together hold every sample. Throws ValueError unless
  // 0 <= index < num_shards, or when called after shuffle(), repeat() or batch().
  Dataset shard(int64_t num_shards, int64_t index) const;
  // Keras's validation_split: train = the first floor(N * (1 - validation_fraction)) samples,
  // validation = the rest, in stored order. Both keep this dataset's other options (so shuffle
  // the train part afterwards). Throws ValueError unless 0 <= validation_fraction < 1, or
  // when called after shuffle(), repeat() or batch().
  DatasetSplit split_at(double validation_fraction) const;

  // Starts epoch `epoch` (>= 0; with shuffle() it picks the permutation). The first call
  // allocates the batch buffers (and the prefetch thread); later ones reuse them when the
  // previous iterator has finished or been destroyed. Throws ValueError before batch().
  EpochIterator begin_epoch(int64_t epoch) const;

  // Samples selected: one pass, before repeat() and batching (with drop_remainder an epoch
  // visits fewer).
  int64_t num_samples() const { return spec_->count; }
  // Batches per epoch. Throws ValueError before batch() and when the dataset repeats forever.
  int64_t num_batches() const;
  // True after repeat(-1) on a nonempty selection: epochs never end.
  bool repeats_forever() const { return spec_->forever(); }
  int64_t batch_size() const { return spec_->batch_size; }
  size_t num_arrays() const { return spec_->arrays.size(); }
  // The shape of a full batch of array `i`: [batch_size, ...its other dims] (dim 0 is the
  // sample count before batch()), and its dtype after any cast().
  Shape batch_shape(size_t i) const;
  DType output_dtype(size_t i) const;

 private:
  struct EngineCache;

  explicit Dataset(std::shared_ptr<const detail::DatasetSpec> spec);
  // A copy of the spec for a builder method to change.
  detail::DatasetSpec edit() const { return *spec_; }
  void require_unordered(const char* method) const;

  std::shared_ptr<const detail::DatasetSpec> spec_;
  // Engines built for this dataset's spec; shared by copies of this Dataset object.
  std::shared_ptr<EngineCache> cache_;
};

struct DatasetSplit {
  Dataset train;
  Dataset validation;
};

}  // namespace trainyard::data
