// MirroredStrategy over logical CPU devices: N replicas with per-replica batch B end with the
// weights of one replica with batch N*B over the same samples; OneDeviceStrategy is the plain
// model bit for bit; BatchNormalization keeps per-replica statistics, as Keras's default does.
#include <gtest/gtest.h>
#include <trainyard/distribute.h>
#include <trainyard/keras.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "keras/trainer.h"
#include "training_support.h"

namespace trainyard::distribute {
namespace {

namespace k = trainyard::keras;

// N replicas on threads end where one model on the global batch ends, and every replica
// applied the same update.
void expect_equivalent(int replicas, int64_t per_replica, OptimizerKind optimizer,
                       ModelKind kind = ModelKind::kMlp) {
  MirroredStrategy strategy(replicas);
  ASSERT_EQ(strategy.num_replicas_in_sync(), replicas);
  ReplicatedModel mirrored(strategy, [&] { return make_model(kind, optimizer); });
  std::vector<Tensor> actual =
      expect_matches_global_batch_model(mirrored, kind, optimizer, per_replica);
  for (int replica = 1; replica < replicas; ++replica) {
    std::vector<Tensor> other = mirrored.replica(replica).get_weights();
    for (size_t i = 0; i < actual.size(); ++i) {
      EXPECT_TRUE(same_bits(other[i], actual[i])) << "replica " << replica << ", weight " << i;
    }
  }
}

TEST(MirroredStrategyTest, TwoReplicasMatchOneWithTheGlobalBatchSgd) {
  expect_equivalent(2, 8, OptimizerKind::kSgd);
}
TEST(MirroredStrategyTest, FourReplicasMatchOneWithTheGlobalBatchSgd) {
  expect_equivalent(4, 8, OptimizerKind::kSgd);
}
TEST(MirroredStrategyTest, TwoReplicasMatchOneWithTheGlobalBatchAdam) {
  expect_equivalent(2, 8, OptimizerKind::kAdam);
}
TEST(MirroredStrategyTest, FourReplicasMatchOneWithTheGlobalBatchAdam) {
  expect_equivalent(4, 8, OptimizerKind::kAdam);
}

// SyncBatchNormalization: the replicas normalize with the global batch's statistics, so they
// end where one model on the global batch ends, moving statistics included.
TEST(MirroredStrategyTest, SynchronizedBatchNormMatchesOneModelTwoReplicas) {
  expect_equivalent(2, 8, OptimizerKind::kSgd, ModelKind::kSynchronizedBatchNorm);
}
TEST(MirroredStrategyTest, SynchronizedBatchNormMatchesOneModelFourReplicasAdam) {
  expect_equivalent(4, 8, OptimizerKind::kAdam, ModelKind::kSynchronizedBatchNorm);
}

// fit() over arrays: without shuffling, the replicas visit the samples in the order one model
// does, the last global batch (4 of 100 at 16) included, and end where its fit() ends.
TEST(MirroredStrategyTest, FitMatchesOneModelsFitWithoutShuffling) {
  Tensor x = random_features(100, 11);
  Tensor y = random_labels(100, 12);
  MirroredStrategy strategy(2);
  ReplicatedModel mirrored(strategy, [] { return make_mlp(OptimizerKind::kSgd); });
  mirrored.build(x.shape(), y.shape());
  std::unique_ptr<k::Model> single = make_mlp(OptimizerKind::kSgd);
  single->trainer().prepare(x.shape(), y.shape());
  single->set_weights(mirrored.get_weights());
  const std::vector<Tensor> initial = mirrored.get_weights();

  std::ostringstream printed;
  k::History replicated = mirrored.fit(
      x, y, {.batch_size = 16, .epochs = 2, .shuffle = false, .verbose = 2, .output = &printed});
  k::History expected =
      single->fit({x}, {y}, {.batch_size = 16, .epochs = 2, .verbose = 0, .shuffle = false});
  std::vector<Tensor> want = single->get_weights(), got = mirrored.get_weights();
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_LE(relative_difference(got[i], want[i]), 1e-5) << "weight " << i;
    EXPECT_GT(relative_difference(initial[i], want[i]), 1e-3) << "weight " << i;
  }
  EXPECT_EQ(replicated.steps, 7);
  ASSERT_EQ(replicated.history["loss"].size(), 2u);
  EXPECT_NEAR(replicated.history["loss"][1], expected.history["loss"][1], 1e-5);
  EXPECT_NEAR(replicated.history["accuracy"][1], expected.history["accuracy"][1], 1e-6);
  EXPECT_NE(printed.str().find("Epoch 2/2 - 7 steps - "), std::string::npos) << printed.str();
}

// A global batch that does not split across the replicas is trimmed: 3 replicas, batches of
// 7 train on 6; and a global batch smaller than the replica count is refused.
TEST(MirroredStrategyTest, FitTrimsBatchesToTheReplicasAndShufflesDeterministically) {
  Tensor x = random_features(21, 13);
  Tensor y = random_labels(21, 14);
  auto train = [&](std::optional<uint64_t> seed, bool shuffle) {
    set_random_seed(5);
    MirroredStrategy strategy(3);
    ReplicatedModel mirrored(strategy, [] { return make_mlp(OptimizerKind::kSgd); });
    k::History history = mirrored.fit(
        x, y, {.batch_size = 7, .epochs = 2, .shuffle = shuffle, .seed = seed, .verbose = 0});
    EXPECT_EQ(history.steps, 3);
    return mirrored.get_weights();
  };
  std::vector<Tensor> first = train(42, true), again = train(42, true), plain = train({}, false);
  bool differs = false;
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_TRUE(same_bits(first[i], again[i])) << "weight " << i;
    differs = differs || !same_bits(first[i], plain[i]);
  }
  EXPECT_TRUE(differs) << "shuffling changed nothing";
  MirroredStrategy strategy(4);
  ReplicatedModel mirrored(strategy, [] { return make_mlp(OptimizerKind::kSgd); });
  EXPECT_THROW(mirrored.fit(x, y, {.batch_size = 3}), ValueError);
}

TEST(MirroredStrategyTest, OneDeviceStrategyIsThePlainModelBitForBit) {
  Tensor x = random_features(20 * 16, 3);
  Tensor y = random_labels(20 * 16, 4);
  OneDeviceStrategy strategy;
  ReplicatedModel replicated(strategy, [] { return make_mlp(OptimizerKind::kAdam); });
  replicated.build(x.shape(), y.shape());
  std::unique_ptr<k::Model> single = make_mlp(OptimizerKind::kAdam);
  single->trainer().prepare(x.shape(), y.shape());
  single->set_weights(replicated.get_weights());
  for (int64_t step = 0; step < 20; ++step) {
    Tensor batch_x = x.slice_rows(step * 16, (step + 1) * 16);
    Tensor batch_y = y.slice_rows(step * 16, (step + 1) * 16);
    replicated.train_on_batch(batch_x, batch_y);
    single->trainer().train_step(batch_x, batch_y);
  }
  std::vector<Tensor> expected = single->get_weights();
  std::vector<Tensor> actual = replicated.get_weights();
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_TRUE(same_bits(actual[i], expected[i]));
}

TEST(MirroredStrategyTest, ReplicasStartFromReplicaZerosWeights) {
  MirroredStrategy strategy(3);
  ReplicatedModel mirrored(strategy, [] { return make_mlp(OptimizerKind::kSgd); });
  mirrored.build(Shape{6, kFeatures}, Shape{6});
  std::vector<Tensor> first = mirrored.get_weights();
  for (int replica = 1; replica < 3; ++replica) {
    std::vector<Tensor> other = mirrored.replica(replica).get_weights();
    for (size_t i = 0; i < first.size(); ++i) EXPECT_TRUE(same_bits(other[i], first[i]));
  }
}

TEST(MirroredStrategyTest, GlobalBatchMustSplitEvenly) {
  MirroredStrategy strategy(4);
  ReplicatedModel mirrored(strategy, [] { return make_mlp(OptimizerKind::kSgd); });
  try {
    mirrored.train_on_batch(random_features(10, 5), random_labels(10, 6));
    FAIL() << "expected ValueError";
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what())
                  .find("global batch of 10 samples does not split evenly "
                        "across 4 replicas"),
              std::string::npos)
        << error.what();
  }
}

TEST(MirroredStrategyTest, BatchNormalizationKeepsPerReplicaStatistics) {
  // Keras's default BatchNormalization (synchronized=False) normalises each replica's local
  // batch and moves each replica's moving mean toward its local batch mean.
  const int replicas = 2;
  const int64_t per_replica = 8;
  Tensor x = random_features(replicas * per_replica, 9);
  Tensor y = random_labels(replicas * per_replica, 10);
  MirroredStrategy strategy(replicas);
  ReplicatedModel mirrored(strategy, [] {
    auto model = std::make_unique<k::Sequential>(k::Sequential({
        k::layers::BatchNormalization(),
        k::layers::Dense(kClasses),
    }));
    model->compile({.optimizer = k::optimizers::SGD(),
                    .loss = k::losses::SparseCategoricalCrossentropy({.from_logits = true})});
    return model;
  });
  mirrored.train_on_batch(x, y);
  for (int replica = 0; replica < replicas; ++replica) {
    // Weights: gamma, beta, moving_mean, moving_variance, kernel, bias.
    Tensor moving_mean = mirrored.replica(replica).get_weights().at(2);
    for (int64_t feature = 0; feature < kFeatures; ++feature) {
      double mean = 0.0;
      for (int64_t row = 0; row < per_replica; ++row) {
        mean += x.data<float>()[(replica * per_replica + row) * kFeatures + feature];
      }
      mean /= per_replica;
      // moving = 0.99 * 0 + 0.01 * local batch mean.
      EXPECT_NEAR(moving_mean.data<float>()[feature], 0.01 * mean, 1e-6)
          << "replica " << replica << ", feature " << feature;
    }
  }
  // The trainable weights stay mirrored.
  std::vector<Tensor> first = mirrored.replica(0).get_weights();
  std::vector<Tensor> second = mirrored.replica(1).get_weights();
  for (size_t i : {0, 1, 4, 5}) EXPECT_TRUE(same_bits(first[i], second[i])) << "weight " << i;
}

TEST(MirroredStrategyTest, AFailingReplicaFailsTheStepWithoutAHang) {
  MirroredStrategy strategy(3);
  const auto start = std::chrono::steady_clock::now();
  try {
    strategy.run([&](int replica) {
      if (replica == 1) throw ValueError("replica 1 broke");
      strategy.collective().barrier(replica);
    });
    FAIL() << "expected the replica's error";
  } catch (const ValueError& error) {
    EXPECT_STREQ(error.what(), "replica 1 broke");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(MirroredStrategyTest, DevicesAndScope) {
  MirroredStrategy strategy(std::vector<Device>{Device("cpu:0"), Device("cpu:1")});
  EXPECT_EQ(strategy.num_replicas_in_sync(), 2);
  EXPECT_EQ(strategy.devices().at(1).to_string(), "cpu:1");
  EXPECT_EQ(current_strategy(), nullptr);
  {
    StrategyScope scope = strategy.scope();
    EXPECT_EQ(current_strategy(), &strategy);
  }
  EXPECT_EQ(current_strategy(), nullptr);
  EXPECT_THROW(MirroredStrategy(std::vector<Device>{Device("cuda:0")}), ValueError);
  EXPECT_THROW(MirroredStrategy(std::vector<Device>{Device("cpu:0"), Device("cpu:0")}), ValueError);
  EXPECT_THROW(MirroredStrategy(0), ValueError);
  EXPECT_EQ(OneDeviceStrategy().num_replicas_in_sync(), 1);
}

}  // namespace
}  // namespace trainyard::distribute
