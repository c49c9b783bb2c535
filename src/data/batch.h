// Batch: what one step of an epoch hands to the consumer, one tensor per dataset array.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/tensor.h"

namespace trainyard::data {

namespace detail {
class BatchEngine;
}  // namespace detail

// A view of one batch. Its tensors view buffers that the Dataset allocated once and reuses,
// with dim 0 equal to num_samples() (smaller for a partial last batch). They stay valid until
// the following EpochIterator::next() call or the iterator's destruction; clone() a tensor
// to keep it longer. A Batch is cheap to construct and owns nothing.
class Batch {
 public:
  Batch() = default;

  // Number of arrays (the count given to Dataset::from_tensors).
  size_t size() const { return tensors_.size(); }
  // The batch of array `i`: [num_samples, ...the array's other dims], in the array's output
  // dtype. REQUIRES: i < size().
  const Tensor& operator[](size_t i) const { return tensors_[i]; }
  std::span<const Tensor> tensors() const { return tensors_; }

  int64_t num_samples() const { return num_samples_; }
  // Position of this batch within its epoch, from 0.
  int64_t index() const { return index_; }
  int64_t epoch() const { return epoch_; }

 private:
  friend class detail::BatchEngine;

  std::span<const Tensor> tensors_;
  int64_t num_samples_ = 0;
  int64_t index_ = 0;
  int64_t epoch_ = 0;
};

}  // namespace trainyard::data
