// Helpers shared by the Dataset tests: sample-id arrays, an epoch's batches as id lists, and
// the documented shuffle order computed independently of the data layer.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "core/random.h"
#include "data/dataset.h"

namespace trainyard::data::testing {

// Sample ids 0..n-1 as an int64 array, so every batch says which samples it holds.
inline Tensor sample_ids(int64_t n) {
  std::vector<int64_t> ids(static_cast<size_t>(n));
  std::iota(ids.begin(), ids.end(), 0);
  return Tensor::from_vector<int64_t>(Shape{n}, ids);
}

// The ids each batch of one epoch holds, batch by batch.
inline std::vector<std::vector<int64_t>> epoch_batches(const Dataset& dataset, int64_t epoch,
                                                       size_t id_array = 0) {
  std::vector<std::vector<int64_t>> batches;
  auto iterator = dataset.begin_epoch(epoch);
  Batch batch;
  while (iterator.next(batch)) {
    EXPECT_EQ(batch.index(), static_cast<int64_t>(batches.size()));
    EXPECT_EQ(batch.epoch(), epoch);
    EXPECT_EQ(batch[id_array].shape()[0], batch.num_samples());
    batches.push_back(batch[id_array].to_vector<int64_t>());
  }
  EXPECT_EQ(static_cast<int64_t>(batches.size()), iterator.num_batches());
  return batches;
}

inline std::vector<int64_t> flatten(const std::vector<std::vector<int64_t>>& batches) {
  std::vector<int64_t> all;
  for (const auto& batch : batches) all.insert(all.end(), batch.begin(), batch.end());
  return all;
}

inline std::vector<int64_t> range(int64_t begin, int64_t end, int64_t step = 1) {
  std::vector<int64_t> values;
  for (int64_t i = begin; i < end; i += step) values.push_back(i);
  return values;
}

// The documented order, computed here from RandomGenerator directly: Fisher–Yates from the
// last position down with Philox stream (seed, epoch).
inline std::vector<int64_t> reference_permutation(uint64_t seed, int64_t epoch, int64_t n) {
  std::vector<int64_t> order = range(0, n);
  RandomGenerator generator(seed, static_cast<uint64_t>(epoch));
  for (int64_t i = n - 1; i > 0; --i) {
    auto j = static_cast<int64_t>(generator.below(static_cast<uint64_t>(i + 1)));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

}  // namespace trainyard::data::testing
