// Proves the steady state of Dataset iteration allocates nothing: every global operator new
// in this binary is counted while a window is open, across all threads (the prefetch thread
// included).
#include <gtest/gtest.h>

#include "core/storage.h"
#include "data/dataset.h"
#include "support/allocation_counter.h"

namespace trainyard::data {
namespace {

struct EpochResult {
  int64_t allocations = 0;
  int64_t storages = 0;
  int64_t samples = 0;
  double checksum = 0;
};

// Runs epoch `epoch` (all of it, or `stop_after` batches) with the counting window open.
EpochResult counted_epoch(const Dataset& dataset, int64_t epoch, int64_t stop_after = -1) {
  EpochResult result;
  int64_t storages_before = storage_allocation_count();
  testing::AllocationWindow window;
  {
    auto iterator = dataset.begin_epoch(epoch);
    Batch batch;
    int64_t batches = 0;
    while ((stop_after < 0 || batches < stop_after) && iterator.next(batch)) {
      const float* pixels = batch[0].data<float>();
      for (int64_t i = 0; i < batch[0].num_elements(); ++i) result.checksum += pixels[i];
      result.samples += batch.num_samples();
      ++batches;
    }
  }
  result.allocations = window.count();
  result.storages = storage_allocation_count() - storages_before;
  return result;
}

Dataset make_dataset(int depth) {
  const int64_t n = 1000;
  Tensor images = Tensor::zeros(Shape{n, 8, 8}, DType::kUInt8);
  uint8_t* pixels = images.data<uint8_t>();
  for (int64_t i = 0; i < images.num_elements(); ++i) pixels[i] = static_cast<uint8_t>(i * 31);
  Tensor labels = Tensor::zeros(Shape{n}, DType::kUInt8);
  return Dataset::from_tensors({images, labels})
      .cast(0, DType::kFloat32, 1.0 / 255)
      .cast(1, DType::kFloat32)
      .shuffle(11)
      .batch(64)  // 1000 = 15 * 64 + 40: the partial last batch is exercised too
      .map_batch([](const Batch&) {})
      .prefetch(depth);
}

TEST(DatasetAllocationTest, TheCounterSeesAllocations) {
  testing::AllocationWindow window;
  auto* leak_check = new int(3);
  asm volatile("" : : "r"(leak_check) : "memory");  // keep the allocation from being elided
  int64_t seen = window.count();
  delete leak_check;
  EXPECT_EQ(seen, 1);
}

TEST(DatasetAllocationTest, SteadyStateEpochsAllocateNothing) {
  for (int depth : {0, 1, 3}) {
    Dataset dataset = make_dataset(depth);
    EpochResult warm_up = counted_epoch(dataset, 0);
    EXPECT_GT(warm_up.allocations, 0) << "the first epoch allocates the buffers";
    EXPECT_EQ(warm_up.samples, 1000);
    for (int64_t epoch = 1; epoch <= 3; ++epoch) {
      EpochResult steady = counted_epoch(dataset, epoch);
      EXPECT_EQ(steady.allocations, 0) << "depth " << depth << " epoch " << epoch;
      EXPECT_EQ(steady.storages, 0) << "depth " << depth << " epoch " << epoch;
      EXPECT_EQ(steady.samples, 1000);
      // Every epoch visits the same samples in another order.
      EXPECT_NEAR(steady.checksum, warm_up.checksum, 1e-6 * warm_up.checksum);
    }
    // Stopping mid-epoch allocates nothing either, and the next epoch still does not.
    EXPECT_EQ(counted_epoch(dataset, 4, /*stop_after=*/3).allocations, 0) << depth;
    EXPECT_EQ(counted_epoch(dataset, 5).allocations, 0) << depth;
  }
}

TEST(DatasetAllocationTest, MapAndRepeatAllocateNothingInTheSteadyState) {
  for (int depth : {0, 2}) {
    const int64_t n = 1000;
    Tensor images = Tensor::zeros(Shape{n, 8, 8}, DType::kUInt8);
    Tensor labels = Tensor::zeros(Shape{n}, DType::kUInt8);
    Dataset dataset =
        Dataset::from_tensors({images, labels})
            .cast(0, DType::kFloat32, 1.0 / 255)
            .map([](std::span<const Tensor> example) { example[0].data<float>()[0] = 1; })
            .shuffle(3)
            .repeat()
            .batch(64)
            .prefetch(depth);
    // 40 batches of 64 cross two pass boundaries (1000 samples per pass).
    EpochResult warm_up = counted_epoch(dataset, 0, /*stop_after=*/40);
    EXPECT_EQ(warm_up.samples, 40 * 64);
    EXPECT_EQ(warm_up.checksum, 40 * 64);  // every sample went through map
    for (int64_t epoch = 1; epoch <= 2; ++epoch) {
      EpochResult steady = counted_epoch(dataset, epoch, /*stop_after=*/40);
      EXPECT_EQ(steady.allocations, 0) << "depth " << depth << " epoch " << epoch;
      EXPECT_EQ(steady.storages, 0) << "depth " << depth << " epoch " << epoch;
      EXPECT_EQ(steady.checksum, 40 * 64);
    }
  }
}

}  // namespace
}  // namespace trainyard::data
