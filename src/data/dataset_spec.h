// The immutable description behind a Dataset: its arrays and the options its builder methods
// set. Internal to the data layer.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "core/tensor.h"
#include "data/batch.h"

namespace trainyard::data {

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
  std::optional<uint64_t> shuffle_seed;  // nullopt: stored order
  int64_t batch_size = 0;                // 0: batch() not called yet
  bool drop_remainder = false;
  int prefetch_depth = 0;  // 0: batches are gathered on the consumer's thread
  BatchTransform transform;

  int64_t num_batches() const {
    if (batch_size == 0) return 0;
    return drop_remainder ? count / batch_size : (count + batch_size - 1) / batch_size;
  }
  DType output_dtype(size_t array) const {
    return casts[array] ? casts[array]->dtype : arrays[array].dtype();
  }
};

}  // namespace detail
}  // namespace trainyard::data
