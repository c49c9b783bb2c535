#include "data/dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <stdexcept>

#include "core/error.h"
#include "core/random.h"
#include "data/fashion_mnist.h"
#include "dataset_helpers.h"
#include "test_files.h"

namespace trainyard::data {
namespace {

using testing::epoch_batches;
using testing::error_of;
using testing::flatten;
using testing::range;
using testing::reference_permutation;
using testing::sample_ids;

TEST(DatasetTest, FromTensorsNeedsAgreeingSampleCounts) {
  Tensor images = Tensor::zeros(Shape{5, 2, 2}, DType::kUInt8);
  Tensor labels = Tensor::zeros(Shape{4}, DType::kUInt8);
  EXPECT_EQ(error_of<ShapeError>([&] {
              Dataset::from_tensors({images, labels});
            }),
            "Dataset::from_tensors: array 1 has shape [4] but array 0 has [5, 2, 2]: dim 0 (the "
            "sample count) must agree");
  EXPECT_THROW(Dataset::from_tensors({}), ValueError);
  EXPECT_THROW(Dataset::from_tensors({Tensor::from_vector<float>(Shape{}, {1.0f})}), ShapeError);
  EXPECT_THROW(Dataset::from_tensors({Tensor()}), ValueError);
  EXPECT_EQ(Dataset::from_tensors({images, Tensor::zeros(Shape{5})}).num_samples(), 5);
}

TEST(DatasetTest, BatchesCoverEverySampleOnceAndKeepThePartialLastBatch) {
  Dataset dataset = Dataset::from_tensors({sample_ids(10)}).batch(4);
  EXPECT_EQ(dataset.num_batches(), 3);
  auto batches = epoch_batches(dataset, 0);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0], range(0, 4));
  EXPECT_EQ(batches[1], range(4, 8));
  EXPECT_EQ(batches[2], range(8, 10));

  Dataset dropped = Dataset::from_tensors({sample_ids(10)}).batch(4, /*drop_remainder=*/true);
  EXPECT_EQ(dropped.num_batches(), 2);
  EXPECT_EQ(flatten(epoch_batches(dropped, 0)), range(0, 8));

  // Exact multiple: no partial batch either way.
  EXPECT_EQ(Dataset::from_tensors({sample_ids(12)}).batch(4).num_batches(), 3);
  // Fewer samples than one batch.
  auto tiny = epoch_batches(Dataset::from_tensors({sample_ids(3)}).batch(8), 0);
  ASSERT_EQ(tiny.size(), 1u);
  EXPECT_EQ(tiny[0], range(0, 3));
  // An empty dataset has no batches.
  EXPECT_TRUE(epoch_batches(Dataset::from_tensors({sample_ids(0)}).batch(8), 0).empty());
}

TEST(DatasetTest, MultiDimensionalArraysStayAlignedRowByRow) {
  // Row i of the images holds 100 * i + pixel index; labels hold i.
  const int64_t n = 7;
  std::vector<int32_t> pixels;
  for (int64_t i = 0; i < n; ++i) {
    for (int p = 0; p < 6; ++p) pixels.push_back(static_cast<int32_t>(100 * i + p));
  }
  Tensor images = Tensor::from_vector<int32_t>(Shape{n, 2, 3}, pixels);
  Dataset dataset = Dataset::from_tensors({images, sample_ids(n)}).shuffle(3).batch(3);
  EXPECT_EQ(dataset.batch_shape(0), Shape({3, 2, 3}));
  auto iterator = dataset.begin_epoch(0);
  Batch batch;
  int64_t seen = 0;
  while (iterator.next(batch)) {
    ASSERT_EQ(batch.size(), 2u);
    EXPECT_EQ(batch[0].shape(), Shape({batch.num_samples(), 2, 3}));
    const int32_t* image = batch[0].data<int32_t>();
    const int64_t* ids = batch[1].data<int64_t>();
    for (int64_t row = 0; row < batch.num_samples(); ++row) {
      for (int p = 0; p < 6; ++p) EXPECT_EQ(image[row * 6 + p], 100 * ids[row] + p);
    }
    seen += batch.num_samples();
  }
  EXPECT_EQ(seen, n);
}

TEST(DatasetTest, ShuffleIsTheDocumentedReproduciblePermutationPerEpoch) {
  const int64_t n = 1000;
  Dataset dataset = Dataset::from_tensors({sample_ids(n)}).shuffle(42).batch(64);
  std::vector<int64_t> epoch0 = flatten(epoch_batches(dataset, 0));
  std::vector<int64_t> epoch1 = flatten(epoch_batches(dataset, 1));
  EXPECT_EQ(epoch0, reference_permutation(42, 0, n));
  EXPECT_EQ(epoch1, reference_permutation(42, 1, n));
  EXPECT_NE(epoch0, epoch1);
  EXPECT_NE(epoch0, range(0, n));
  std::vector<int64_t> sorted = epoch0;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, range(0, n));
  // The same (seed, epoch) again, from a separately built dataset: the same order.
  EXPECT_EQ(flatten(epoch_batches(Dataset::from_tensors({sample_ids(n)}).shuffle(42).batch(7), 1)),
            epoch1);
  EXPECT_NE(flatten(epoch_batches(Dataset::from_tensors({sample_ids(n)}).shuffle(43).batch(64), 0)),
            epoch0);
}

TEST(DatasetTest, CastConvertsAndScalesWhileGathering) {
  std::vector<uint8_t> pixels = {0, 1, 127, 128, 254, 255};
  Tensor images = Tensor::from_vector<uint8_t>(Shape{3, 2}, pixels);
  Tensor labels = Tensor::from_vector<uint8_t>(Shape{3}, {9, 0, 4});
  Tensor values = Tensor::from_vector<double>(Shape{3}, {-1.5, 2.25, 1e10});
  Dataset dataset = Dataset::from_tensors({images, labels, values})
                        .cast(0, DType::kFloat32, 1.0 / 255)
                        .cast(1, DType::kInt32)
                        .cast(2, DType::kFloat32)
                        .batch(2);
  EXPECT_EQ(dataset.output_dtype(0), DType::kFloat32);
  EXPECT_EQ(dataset.output_dtype(1), DType::kInt32);
  std::vector<float> got_pixels;
  std::vector<int32_t> got_labels;
  std::vector<float> got_values;
  auto iterator = dataset.begin_epoch(0);
  Batch batch;
  while (iterator.next(batch)) {
    ASSERT_EQ(batch[0].dtype(), DType::kFloat32);
    ASSERT_EQ(batch[1].dtype(), DType::kInt32);
    for (float v : batch[0].to_vector<float>()) got_pixels.push_back(v);
    for (int32_t v : batch[1].to_vector<int32_t>()) got_labels.push_back(v);
    for (float v : batch[2].to_vector<float>()) got_values.push_back(v);
  }
  ASSERT_EQ(got_pixels.size(), pixels.size());
  for (size_t i = 0; i < pixels.size(); ++i) {
    EXPECT_FLOAT_EQ(got_pixels[i], static_cast<float>(pixels[i] / 255.0)) << i;
  }
  EXPECT_EQ(got_labels, (std::vector<int32_t>{9, 0, 4}));
  EXPECT_EQ(got_values, (std::vector<float>{-1.5f, 2.25f, 1e10f}));
  // The source arrays are untouched.
  EXPECT_EQ(images.to_vector<uint8_t>(), pixels);

  // Same dtype with a scale still converts; integer targets take no scale.
  Dataset halves = Dataset::from_tensors({Tensor::from_vector<float>(Shape{2}, {2, 4})})
                       .cast(0, DType::kFloat32, 0.5)
                       .batch(2);
  Batch half_batch;
  auto half_iterator = halves.begin_epoch(0);
  ASSERT_TRUE(half_iterator.next(half_batch));
  EXPECT_EQ(half_batch[0].to_vector<float>(), (std::vector<float>{1, 2}));
  EXPECT_THROW(Dataset::from_tensors({labels}).cast(0, DType::kInt32, 2.0), ValueError);
  EXPECT_THROW(Dataset::from_tensors({labels}).cast(0, DType::kBFloat16), ValueError);
  EXPECT_THROW(Dataset::from_tensors({labels}).cast(1, DType::kFloat32), ValueError);
}

TEST(DatasetTest, TakeSkipShardAndSplitSelectInStoredOrder) {
  Dataset all = Dataset::from_tensors({sample_ids(10)});
  auto ids = [](const Dataset& dataset) { return flatten(epoch_batches(dataset.batch(3), 0)); };
  EXPECT_EQ(ids(all.take(3)), range(0, 3));
  EXPECT_EQ(ids(all.take(50)), range(0, 10));
  EXPECT_EQ(ids(all.skip(7)), range(7, 10));
  EXPECT_EQ(ids(all.skip(50)), range(0, 0));
  EXPECT_EQ(ids(all.shard(3, 0)), range(0, 10, 3));
  EXPECT_EQ(ids(all.shard(3, 1)), range(1, 10, 3));
  EXPECT_EQ(ids(all.shard(3, 2)), range(2, 10, 3));
  EXPECT_EQ(ids(all.shard(20, 15)), range(0, 0));
  EXPECT_EQ(ids(all.skip(2).shard(3, 0)), (std::vector<int64_t>{2, 5, 8}));
  EXPECT_EQ(ids(all.shard(2, 1).skip(1).take(2)), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(ids(all.shard(2, 0).shard(2, 1)), (std::vector<int64_t>{2, 6}));

  // Keras's validation_split: the last fraction, floor(N * (1 - f)) training samples.
  DatasetSplit split = all.split_at(0.25);
  EXPECT_EQ(ids(split.train), range(0, 7));
  EXPECT_EQ(ids(split.validation), range(7, 10));
  EXPECT_EQ(all.split_at(0.0).validation.num_samples(), 0);
  Dataset large = Dataset::from_tensors({Tensor::zeros(Shape{60000}, DType::kUInt8)});
  EXPECT_EQ(large.split_at(0.1).train.num_samples(), 54000);
  EXPECT_EQ(large.split_at(0.1).validation.num_samples(), 6000);
  EXPECT_EQ(large.split_at(0.3).train.num_samples(), 42000);

  EXPECT_THROW(all.split_at(1.0), ValueError);
  EXPECT_THROW(all.split_at(-0.1), ValueError);
  EXPECT_THROW(all.shard(3, 3), ValueError);
  EXPECT_THROW(all.take(-1), ValueError);
  std::string message = error_of<ValueError>([&] { all.shuffle(1).take(3); });
  EXPECT_NE(message.find("select samples before shuffle(), repeat() and batch()"),
            std::string::npos);
  EXPECT_THROW(all.batch(2).skip(1), ValueError);
  EXPECT_THROW(all.batch(2).batch(2), ValueError);
  EXPECT_THROW(all.batch(0), ValueError);
  EXPECT_THROW(all.begin_epoch(0), ValueError);
  EXPECT_THROW(all.num_batches(), ValueError);
}

TEST(DatasetTest, ShardsOfAShuffledDatasetPartitionEachEpoch) {
  // Each worker shards first, then shuffles its own part; together they see every sample.
  std::vector<int64_t> seen;
  for (int64_t worker = 0; worker < 4; ++worker) {
    Dataset part = Dataset::from_tensors({sample_ids(103)}).shard(4, worker).shuffle(9).batch(10);
    for (int64_t id : flatten(epoch_batches(part, 2))) seen.push_back(id);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, range(0, 103));
}

TEST(DatasetTest, PrefetchGivesTheSameBatchesAsNoPrefetch) {
  const int64_t n = 517;
  std::vector<float> features;
  for (int64_t i = 0; i < n * 5; ++i) features.push_back(static_cast<float>(i) * 0.5f);
  Dataset base =
      Dataset::from_tensors({sample_ids(n), Tensor::from_vector<float>(Shape{n, 5}, features)})
          .shuffle(1234)
          .batch(32);
  for (int depth : {1, 2, 5}) {
    Dataset prefetched = base.prefetch(depth);
    for (int64_t epoch = 0; epoch < 3; ++epoch) {
      auto plain = base.begin_epoch(epoch);
      auto ahead = prefetched.begin_epoch(epoch);
      Batch a, b;
      while (plain.next(a)) {
        ASSERT_TRUE(ahead.next(b));
        ASSERT_EQ(a.num_samples(), b.num_samples());
        EXPECT_EQ(a[0].to_vector<int64_t>(), b[0].to_vector<int64_t>());
        EXPECT_EQ(a[1].to_vector<float>(), b[1].to_vector<float>());
      }
      EXPECT_FALSE(ahead.next(b));
      EXPECT_FALSE(ahead.next(b));  // and stays over
    }
  }
}

TEST(DatasetTest, MapBatchRewritesBatchesInPlaceOnEitherThread) {
  for (int depth : {0, 2}) {
    Dataset dataset = Dataset::from_tensors({sample_ids(9)})
                          .batch(4)
                          .map_batch([](const Batch& batch) {
                            int64_t* ids = batch[0].data<int64_t>();
                            for (int64_t i = 0; i < batch.num_samples(); ++i) ids[i] += 1000;
                          })
                          .prefetch(depth);
    EXPECT_EQ(flatten(epoch_batches(dataset, 0)), range(1000, 1009)) << depth;
  }
}

TEST(DatasetTest, AProducerExceptionReachesTheConsumerAndTheNextEpochRuns) {
  for (int depth : {0, 1, 3}) {
    Dataset dataset = Dataset::from_tensors({sample_ids(40)})
                          .batch(4)
                          .map_batch([](const Batch& batch) {
                            if (batch.epoch() == 0 && batch.index() == 5) {
                              throw DataError("corrupt sample in batch 5");
                            }
                          })
                          .prefetch(depth);
    auto iterator = dataset.begin_epoch(0);
    Batch batch;
    std::vector<int64_t> delivered;
    try {
      while (iterator.next(batch)) delivered.push_back(batch.index());
      ADD_FAILURE() << "no exception with depth " << depth;
    } catch (const DataError& error) {
      EXPECT_STREQ(error.what(), "corrupt sample in batch 5");
    }
    EXPECT_EQ(delivered, range(0, 5)) << depth;
    EXPECT_FALSE(iterator.next(batch));
    EXPECT_EQ(flatten(epoch_batches(dataset, 1)), range(0, 40)) << depth;
  }
}

TEST(DatasetTest, StoppingEarlyNeitherHangsNorLeaksAndBuffersAreReused) {
  Dataset dataset = Dataset::from_tensors({sample_ids(100)}).shuffle(5).batch(8).prefetch(3);
  {
    auto never_started = dataset.begin_epoch(0);  // destroyed before any next()
  }
  {
    auto iterator = dataset.begin_epoch(0);
    Batch batch;
    ASSERT_TRUE(iterator.next(batch));
    ASSERT_TRUE(iterator.next(batch));
  }  // stops while the producer is ahead of the consumer
  EXPECT_EQ(flatten(epoch_batches(dataset, 0)), reference_permutation(5, 0, 100));

  // Moving an iterator over a live one stops the old epoch first.
  auto iterator = dataset.begin_epoch(1);
  Batch batch;
  ASSERT_TRUE(iterator.next(batch));
  iterator = dataset.begin_epoch(2);
  std::vector<int64_t> ids;
  while (iterator.next(batch)) {
    for (int64_t id : batch[0].to_vector<int64_t>()) ids.push_back(id);
  }
  EXPECT_EQ(ids, reference_permutation(5, 2, 100));

  // The iterator may outlive its Dataset.
  std::optional<EpochIterator> orphan;
  {
    Dataset temporary = Dataset::from_tensors({sample_ids(20)}).batch(6).prefetch(2);
    orphan.emplace(temporary.begin_epoch(0));
  }
  std::vector<int64_t> orphan_ids;
  while (orphan->next(batch)) {
    for (int64_t id : batch[0].to_vector<int64_t>()) orphan_ids.push_back(id);
  }
  EXPECT_EQ(orphan_ids, range(0, 20));
}

TEST(DatasetTest, TwoLiveIteratorsOfOneDatasetDoNotShareBuffers) {
  Dataset dataset = Dataset::from_tensors({sample_ids(30)}).shuffle(8).batch(4).prefetch(1);
  auto first = dataset.begin_epoch(0);
  auto second = dataset.begin_epoch(1);
  Batch a, b;
  std::vector<int64_t> first_ids, second_ids;
  while (true) {
    bool more_a = first.next(a);
    bool more_b = second.next(b);
    if (more_a)
      for (int64_t id : a[0].to_vector<int64_t>()) first_ids.push_back(id);
    if (more_b)
      for (int64_t id : b[0].to_vector<int64_t>()) second_ids.push_back(id);
    if (!more_a && !more_b) break;
  }
  EXPECT_EQ(first_ids, reference_permutation(8, 0, 30));
  EXPECT_EQ(second_ids, reference_permutation(8, 1, 30));
}

TEST(DatasetTest, FashionMnistThroughThePipeline) {
  if (!std::filesystem::exists(std::string(kFashionMnistDirectory) +
                               "/train-labels-idx1-ubyte.gz")) {
    GTEST_SKIP() << "Fashion-MNIST is not installed at " << kFashionMnistDirectory
                 << " (Debian package dataset-fashion-mnist)";
  }
  FashionMnist data = load_fashion_mnist();
  DatasetSplit split = Dataset::from_tensors({data.train_images, data.train_labels})
                           .cast(0, DType::kFloat32, 1.0 / 255)
                           .cast(1, DType::kFloat32)
                           .split_at(0.1);
  Dataset train = split.train.shuffle(7).batch(32).prefetch(2);
  EXPECT_EQ(train.num_samples(), 54000);
  EXPECT_EQ(train.num_batches(), 1688);  // ceil(54000 / 32), the last batch holds 16
  // Independent tallies from the raw arrays: labels of the first 54000 samples, and the sum of
  // all their pixels.
  std::array<int64_t, 10> expected_labels{};
  double expected_pixels = 0;
  const uint8_t* labels = data.train_labels.data<uint8_t>();
  const uint8_t* pixels = data.train_images.data<uint8_t>();
  for (int64_t i = 0; i < 54000; ++i) {
    ++expected_labels[labels[i]];
    for (int64_t p = 0; p < 784; ++p) expected_pixels += pixels[i * 784 + p];
  }
  std::array<int64_t, 10> label_counts{};
  double pixel_sum = 0;
  int64_t batches = 0, last_size = 0;
  auto iterator = train.begin_epoch(0);
  Batch batch;
  while (iterator.next(batch)) {
    const float* images = batch[0].data<float>();
    const float* classes = batch[1].data<float>();
    for (int64_t i = 0; i < batch.num_samples() * 784; ++i) pixel_sum += images[i];
    for (int64_t i = 0; i < batch.num_samples(); ++i)
      ++label_counts.at(static_cast<size_t>(classes[i]));
    ++batches;
    last_size = batch.num_samples();
  }
  EXPECT_EQ(batches, 1688);
  EXPECT_EQ(last_size, 16);
  EXPECT_EQ(label_counts, expected_labels);
  EXPECT_NEAR(pixel_sum, expected_pixels / 255.0, expected_pixels / 255.0 * 1e-6);
}

}  // namespace
}  // namespace trainyard::data
