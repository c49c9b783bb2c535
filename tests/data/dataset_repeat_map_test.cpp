// Dataset::repeat and Dataset::map: tf.data's semantics, kept simple (see dataset.h).
#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "core/error.h"
#include "data/dataset.h"
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

// The first `count` batches of an epoch that never ends, as id lists.
std::vector<std::vector<int64_t>> first_batches(const Dataset& dataset, int64_t epoch,
                                                int64_t count) {
  std::vector<std::vector<int64_t>> batches;
  auto iterator = dataset.begin_epoch(epoch);
  EXPECT_EQ(iterator.num_batches(), -1);
  Batch batch;
  while (static_cast<int64_t>(batches.size()) < count) {
    if (!iterator.next(batch)) {
      ADD_FAILURE() << "the epoch ended after " << batches.size() << " batches";
      break;
    }
    EXPECT_EQ(batch.num_samples(), dataset.batch_size());
    batches.push_back(batch[0].to_vector<int64_t>());
  }
  return batches;  // the iterator is destroyed mid-epoch here
}

TEST(DatasetRepeatTest, PassesFollowEachOtherAndBatchesRunAcrossThem) {
  Dataset dataset = Dataset::from_tensors({sample_ids(5)}).repeat(3).batch(2);
  EXPECT_EQ(dataset.num_samples(), 5);
  EXPECT_EQ(dataset.num_batches(), 8);
  EXPECT_FALSE(dataset.repeats_forever());
  std::vector<std::vector<int64_t>> batches = epoch_batches(dataset, 0);
  ASSERT_EQ(batches.size(), 8u);
  EXPECT_EQ(batches[2], (std::vector<int64_t>{4, 0}));  // pass 0 ends, pass 1 starts
  EXPECT_EQ(batches[7], (std::vector<int64_t>{4}));     // only the last batch is partial
  EXPECT_EQ(flatten(batches), flatten({range(0, 5), range(0, 5), range(0, 5)}));

  Dataset dropped = Dataset::from_tensors({sample_ids(5)}).repeat(3).batch(4, true);
  EXPECT_EQ(dropped.num_batches(), 3);  // 15 samples: three full batches of four
  EXPECT_EQ(flatten(epoch_batches(dropped, 0)), flatten({range(0, 5), range(0, 5), range(0, 2)}));
}

TEST(DatasetRepeatTest, EachShuffledPassHasTheOrderOfAnUnrepeatedEpoch) {
  const uint64_t seed = 77;
  for (int depth : {0, 2}) {
    Dataset dataset =
        Dataset::from_tensors({sample_ids(7)}).shuffle(seed).repeat(3).batch(3).prefetch(depth);
    for (int64_t epoch = 0; epoch < 2; ++epoch) {
      std::vector<int64_t> expected;
      for (int64_t pass = 0; pass < 3; ++pass) {
        std::vector<int64_t> order = reference_permutation(seed, epoch * 3 + pass, 7);
        expected.insert(expected.end(), order.begin(), order.end());
      }
      EXPECT_EQ(flatten(epoch_batches(dataset, epoch)), expected) << depth << " " << epoch;
    }
  }
  // Calling shuffle() after repeat() changes nothing: the options apply in one fixed order.
  EXPECT_EQ(flatten(epoch_batches(
                Dataset::from_tensors({sample_ids(7)}).repeat(3).shuffle(seed).batch(3), 1)),
            flatten(epoch_batches(
                Dataset::from_tensors({sample_ids(7)}).shuffle(seed).repeat(3).batch(3), 1)));
}

TEST(DatasetRepeatTest, ForeverNeverEndsAndStopsCleanlyWhenTheConsumerDoes) {
  for (int depth : {0, 1, 3}) {
    Dataset dataset = Dataset::from_tensors({sample_ids(5)}).repeat().batch(3).prefetch(depth);
    EXPECT_TRUE(dataset.repeats_forever());
    EXPECT_THROW(dataset.num_batches(), ValueError);
    std::vector<int64_t> expected;
    for (int pass = 0; pass < 6; ++pass) {
      for (int64_t id : range(0, 5)) expected.push_back(id);
    }
    EXPECT_EQ(flatten(first_batches(dataset, 0, 10)), expected) << depth;
    // The buffers are free again for the next epoch.
    EXPECT_EQ(flatten(first_batches(dataset, 1, 10)), expected) << depth;
  }
  // Shuffled, pass r of epoch e uses the order of stream e * 2^32 + r.
  Dataset shuffled = Dataset::from_tensors({sample_ids(6)}).shuffle(3).repeat(-1).batch(4);
  std::vector<int64_t> expected;
  for (int64_t pass = 0; pass < 4; ++pass) {
    std::vector<int64_t> order = reference_permutation(3, (int64_t{1} << 32) + pass, 6);
    expected.insert(expected.end(), order.begin(), order.end());
  }
  EXPECT_EQ(flatten(first_batches(shuffled, 1, 6)), expected);
}

TEST(DatasetRepeatTest, CountsMultiplyAndZeroOrEmptyMeansNoBatches) {
  Dataset five = Dataset::from_tensors({sample_ids(5)});
  EXPECT_EQ(five.repeat(2).repeat(3).batch(5).num_batches(), 6);
  EXPECT_EQ(five.repeat(0).batch(2).num_batches(), 0);
  EXPECT_TRUE(epoch_batches(five.repeat(0).batch(2), 0).empty());
  EXPECT_EQ(five.repeat(-1).repeat(0).batch(2).num_batches(), 0);
  EXPECT_TRUE(five.repeat(2).repeat(-1).repeats_forever());
  // An empty selection repeated forever is still empty, not an endless loop.
  Dataset empty = five.take(0).repeat().batch(2);
  EXPECT_FALSE(empty.repeats_forever());
  EXPECT_TRUE(epoch_batches(empty, 0).empty());
  // Selection first, then repeat: the shard repeats.
  EXPECT_EQ(flatten(epoch_batches(five.shard(2, 1).repeat(2).batch(3), 0)),
            (std::vector<int64_t>{1, 3, 1, 3}));
}

TEST(DatasetRepeatTest, MisuseIsAValueErrorThatSaysWhy) {
  Dataset five = Dataset::from_tensors({sample_ids(5)});
  EXPECT_EQ(error_of<ValueError>([&] { five.repeat(-2); }),
            "Dataset::repeat: count must be >= 0, or -1 for forever; got -2");
  EXPECT_EQ(error_of<ValueError>([&] { five.batch(2).repeat(2); }),
            "Dataset::repeat: call repeat() before batch(); batches then run across the passes, "
            "as with tf.data's repeat().batch()");
  EXPECT_NE(
      error_of<ValueError>([&] { five.repeat(2).take(3); }).find("before shuffle(), repeat()"),
      std::string::npos);
  EXPECT_THROW(five.repeat(2).shard(2, 0), ValueError);
  EXPECT_THROW(five.repeat(-1).skip(1), ValueError);
  EXPECT_NE(error_of<ValueError>([&] {
              five.repeat(std::numeric_limits<int64_t>::max() / 4);
            }).find("exceed 2^63 samples"),
            std::string::npos);
  EXPECT_THROW(five.repeat(1 << 20).repeat(int64_t{1} << 42), ValueError);
}

TEST(DatasetMapTest, RewritesEachSampleAfterTheCastAndBeforeMapBatch) {
  const int64_t n = 7;
  std::vector<uint8_t> pixels;
  for (int64_t i = 0; i < n * 2; ++i) pixels.push_back(static_cast<uint8_t>(i));
  Tensor images = Tensor::from_vector<uint8_t>(Shape{n, 2}, pixels);
  for (int depth : {0, 2}) {
    std::vector<float> batch_firsts;
    Dataset dataset = Dataset::from_tensors({images, sample_ids(n)})
                          .cast(0, DType::kFloat32)
                          .map([](std::span<const Tensor> example) {
                            // One sample: a [2] float32 row and a scalar int64 id.
                            ASSERT_EQ(example.size(), 2u);
                            ASSERT_EQ(example[0].shape(), Shape{2});
                            ASSERT_EQ(example[0].dtype(), DType::kFloat32);
                            ASSERT_EQ(example[1].shape(), Shape{});
                            float* row = example[0].data<float>();
                            row[1] = row[0] + static_cast<float>(*example[1].data<int64_t>());
                          })
                          .batch(3)
                          .map_batch([&](const Batch& batch) {
                            batch_firsts.push_back(batch[0].data<float>()[1]);
                          })
                          .prefetch(depth);
    auto iterator = dataset.begin_epoch(0);
    Batch batch;
    std::vector<float> seen;
    while (iterator.next(batch)) {
      std::vector<float> rows = batch[0].to_vector<float>();
      seen.insert(seen.end(), rows.begin(), rows.end());
    }
    std::vector<float> expected;
    for (int64_t i = 0; i < n; ++i) {
      expected.push_back(static_cast<float>(2 * i));
      expected.push_back(static_cast<float>(2 * i + i));
    }
    EXPECT_EQ(seen, expected) << depth;
    EXPECT_EQ(batch_firsts, (std::vector<float>{0, 9, 18})) << depth;  // mapped, not 1, 7, 13
  }
}

TEST(DatasetMapTest, CallsChainInOrderAndRunOnEveryRepeatedSample) {
  Dataset dataset =
      Dataset::from_tensors({sample_ids(4)})
          .map([](std::span<const Tensor> example) { *example[0].data<int64_t>() += 1; })
          .map([](std::span<const Tensor> example) { *example[0].data<int64_t>() *= 10; })
          .shuffle(9)
          .repeat(2)
          .batch(3);
  std::vector<int64_t> ids = flatten(epoch_batches(dataset, 0));
  std::vector<int64_t> expected;
  for (int64_t pass = 0; pass < 2; ++pass) {
    for (int64_t id : reference_permutation(9, pass, 4)) expected.push_back((id + 1) * 10);
  }
  EXPECT_EQ(ids, expected);
  // The arrays themselves are untouched: map works on the gathered copies.
  EXPECT_EQ(flatten(epoch_batches(Dataset::from_tensors({sample_ids(4)}).batch(4), 0)),
            range(0, 4));
}

TEST(DatasetMapTest, AnExceptionFromMapReachesNextAndAnEmptyTransformIsRefused) {
  for (int depth : {0, 2}) {
    Dataset dataset = Dataset::from_tensors({sample_ids(10)})
                          .map([](std::span<const Tensor> example) {
                            if (*example[0].data<int64_t>() == 6) throw DataError("bad sample 6");
                          })
                          .batch(2)
                          .prefetch(depth);
    auto iterator = dataset.begin_epoch(0);
    Batch batch;
    int64_t delivered = 0;
    EXPECT_EQ(error_of<DataError>([&] {
                while (iterator.next(batch)) ++delivered;
              }),
              "bad sample 6");
    EXPECT_EQ(delivered, 3) << depth;  // batches {0,1} {2,3} {4,5}
  }
  EXPECT_THROW(Dataset::from_tensors({sample_ids(3)}).map(nullptr), ValueError);
}

}  // namespace
}  // namespace trainyard::data
