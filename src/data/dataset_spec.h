// The immutable description behind a Dataset: its arrays and the options its builder methods
// set. Internal to the data layer.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "core/tensor.h"
#include "data/batch.h"

namespace trainyard::data {

// Runs on one sample right after it is gathered (and cast): example[i] views the sample's row
// of array i and may be rewritten in place. Must not keep the tensors.
using ExampleTransform = std::function<void(std::span<const Tensor> example)>;

// Runs on each batch after it is gathered (on the prefetch thread when there is one) and may
// rewrite the batch's tensors in place, e.g. for augmentation. Must not keep the tensors.
using BatchTransform = std::function<void(const Batch& batch)>;

namespace detail {

struct ArrayCast {
  DType dtype = DType::kFloat32;
  double scale = 1.0;
};

struct DatasetSpec {
  std::vector<Tensor> arrays;                   // dim 0 of each is the sample count
  std::vector<std::optional<ArrayCast>> casts;  // one per array; nullopt keeps the dtype
  // The selected samples: source rows start, start + stride, ... (count of them).
  int64_t start = 0;
  int64_t stride = 1;
  int64_t count = 0;
  int64_t repeat = 1;                    // passes over the selection per epoch; -1: forever
  std::optional<uint64_t> shuffle_seed;  // nullopt: stored order
  int64_t batch_size = 0;                // 0: batch() not called yet
  bool drop_remainder = false;
  int prefetch_depth = 0;  // 0: batches are gathered on the consumer's thread
  std::vector<ExampleTransform> example_transforms;  // map(), applied in order
  BatchTransform transform;

  bool forever() const { return repeat < 0 && count > 0; }
  // Samples one epoch visits: count per pass times the passes. REQUIRES: !forever().
  int64_t stream_length() const { return repeat < 0 ? 0 : count * repeat; }
  // Batches per epoch; -1 when the dataset repeats forever.
  int64_t num_batches() const {
    if (batch_size == 0) return 0;
    if (forever()) return -1;
    int64_t total = stream_length();
    return drop_remainder ? total / batch_size : (total + batch_size - 1) / batch_size;
  }
  DType output_dtype(size_t array) const {
    return casts[array] ? casts[array]->dtype : arrays[array].dtype();
  }
};

}  // namespace detail
}  // namespace trainyard::data
