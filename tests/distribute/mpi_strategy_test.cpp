// MultiWorkerMirroredStrategy over OpenMPI, run by ctest under `mpirun -np 2` and `-np 4`:
// MpiCollective sums in rank order (the same bits as a local rank-order sum), broadcasts from
// rank 0 and names mismatched calls; N processes with per-replica batch B end with the weights
// of one model trained with batch N*B over the same samples, as MirroredStrategy's threads do.
#include <gtest/gtest.h>
#include <mpi.h>
#include <trainyard/distribute.h>

#include <cstring>
#include <sstream>
#include <vector>

#include "distribute/mpi_collective.h"
#include "keras/trainer.h"
#include "training_support.h"

namespace trainyard::distribute {
namespace {

// The values rank `rank` contributes to a buffer of `length` elements.
template <typename T>
std::vector<T> contribution(size_t length, int rank) {
  std::vector<T> values(length);
  RandomGenerator generator(1000 * length + static_cast<uint64_t>(rank));
  for (T& value : values) value = static_cast<T>(generator.uniform() * 2.0 - 1.0);
  return values;
}

template <typename T>
void expect_rank_order_sums() {
  MpiCollective collective;
  const int world = collective.world_size(), rank = collective.rank();
  // Lengths below, at and above the number of ranks, and ones that do not split evenly.
  for (size_t length : {size_t{0}, size_t{1}, size_t{3}, size_t{7}, size_t{1000}, size_t{4099}}) {
    std::vector<T> buffer = contribution<T>(length, rank);
    std::vector<T> expected = contribution<T>(length, 0);
    for (int other = 1; other < world; ++other) {
      std::vector<T> values = contribution<T>(length, other);
      for (size_t i = 0; i < length; ++i) expected[i] += values[i];
    }
    collective.all_reduce_sum(rank, std::span(buffer));
    EXPECT_TRUE(length == 0 || std::memcmp(buffer.data(), expected.data(), length * sizeof(T)) == 0)
        << "length " << length << " on rank " << rank;
  }
}

TEST(MpiCollectiveTest, AllReduceIsTheRankOrderSumFloat) {
  expect_rank_order_sums<float>();
}

TEST(MpiCollectiveTest, AllReduceIsTheRankOrderSumDouble) {
  expect_rank_order_sums<double>();
}

TEST(MpiCollectiveTest, BroadcastCopiesRankZeroAndBarrierReturns) {
  MpiCollective collective;
  std::vector<float> buffer = contribution<float>(257, collective.rank());
  collective.broadcast(collective.rank(), std::span(buffer));
  EXPECT_EQ(buffer, contribution<float>(257, 0));
  collective.barrier(collective.rank());
}

TEST(MpiCollectiveTest, MismatchedLengthsAndForeignRanksAreErrors) {
  MpiCollective collective;
  const int rank = collective.rank();
  EXPECT_THROW(collective.barrier(rank + 1), ValueError);
  if (collective.world_size() == 1) GTEST_SKIP() << "one process: no lengths to disagree";
  std::vector<double> buffer(static_cast<size_t>(10 + rank));
  try {
    collective.all_reduce_sum(rank, std::span(buffer));
    ADD_FAILURE() << "mismatched lengths were accepted on rank " << rank;
  } catch (const CollectiveError& error) {
    EXPECT_NE(std::string(error.what()).find("differ in length"), std::string::npos)
        << error.what();
  }
  // The check ran before any data moved: the group still works.
  std::vector<double> agreed(5, 1.0);
  collective.all_reduce_sum(rank, std::span(agreed));
  EXPECT_EQ(agreed[4], static_cast<double>(collective.world_size()));
}

// N processes end where one model on the global batch ends, and every process holds the same
// bits: rank 0's weights, broadcast, are each process's own.
void expect_equivalent(OptimizerKind optimizer, ModelKind kind = ModelKind::kMlp) {
  MultiWorkerMirroredStrategy strategy;
  int world = 0, rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  ASSERT_EQ(strategy.num_replicas_in_sync(), world);
  EXPECT_EQ(strategy.local_replicas(), 1);
  EXPECT_EQ(strategy.rank_of(0), rank);
  EXPECT_EQ(strategy.is_chief(), rank == 0);
  ReplicatedModel distributed(strategy, [&] { return make_model(kind, optimizer); });
  std::vector<Tensor> actual = expect_matches_global_batch_model(distributed, kind, optimizer);
  MpiCollective collective;
  for (size_t i = 0; i < actual.size(); ++i) {
    Tensor chief = actual[i].clone();
    collective.broadcast(rank, std::span(chief.data<float>(), size_t(chief.num_elements())));
    EXPECT_TRUE(same_bits(chief, actual[i])) << "rank " << rank << ", weight " << i;
  }
}

TEST(MultiWorkerMirroredStrategyTest, ProcessesMatchOneModelWithTheGlobalBatchSgd) {
  expect_equivalent(OptimizerKind::kSgd);
}

TEST(MultiWorkerMirroredStrategyTest, ProcessesMatchOneModelWithTheGlobalBatchAdam) {
  expect_equivalent(OptimizerKind::kAdam);
}

TEST(MultiWorkerMirroredStrategyTest, SynchronizedBatchNormMatchesOneModelWithTheGlobalBatch) {
  expect_equivalent(OptimizerKind::kSgd, ModelKind::kSynchronizedBatchNorm);
}

// fit() with shuffling and no seed: rank 0's seed reaches every process, so all of them
// train on the same order and end with the same bits; only the chief prints.
TEST(MultiWorkerMirroredStrategyTest, FitShufflesAlikeOnEveryProcess) {
  MultiWorkerMirroredStrategy strategy;
  Tensor x = random_features(64, 21);
  Tensor y = random_labels(64, 22);
  ReplicatedModel distributed(strategy, [] { return make_mlp(OptimizerKind::kAdam); });
  std::ostringstream printed;
  distributed.fit(x, y, {.batch_size = 16, .epochs = 2, .verbose = 2, .output = &printed});
  EXPECT_EQ(printed.str().empty(), !strategy.is_chief()) << printed.str();
  MpiCollective collective;
  for (const Tensor& weight : distributed.get_weights()) {
    Tensor chief = weight.clone();
    collective.broadcast(collective.rank(),
                         std::span(chief.data<float>(), size_t(chief.num_elements())));
    EXPECT_TRUE(same_bits(chief, weight)) << "rank " << collective.rank();
  }
}

TEST(MultiWorkerMirroredStrategyTest, OnlyCpuZeroIsAccepted) {
  EXPECT_THROW(MultiWorkerMirroredStrategy(Device("cpu:1")), ValueError);
}

}  // namespace
}  // namespace trainyard::distribute
