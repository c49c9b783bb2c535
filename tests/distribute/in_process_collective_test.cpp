// The in-process collective: sums against a float64 reference, the same bits whatever the
// thread timing, broadcast and barrier, and a clear error instead of a hang when a rank is
// missing.
#include "distribute/in_process_collective.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "core/random.h"

namespace trainyard::distribute {
namespace {

using std::chrono::milliseconds;

// Calls fn(rank) on one thread per rank and waits for all.
template <typename Fn>
void on_ranks(int ranks, Fn fn) {
  std::vector<std::thread> threads;
  for (int rank = 0; rank < ranks; ++rank) threads.emplace_back(fn, rank);
  for (std::thread& thread : threads) thread.join();
}

std::vector<std::vector<float>> random_buffers(int ranks, size_t size, uint64_t seed) {
  RandomGenerator generator(seed);
  std::vector<std::vector<float>> buffers(static_cast<size_t>(ranks), std::vector<float>(size));
  for (auto& buffer : buffers) {
    for (float& value : buffer) value = static_cast<float>(generator.uniform() * 2.0 - 1.0);
  }
  return buffers;
}

TEST(InProcessCollectiveTest, AllReduceMatchesFloat64Reference) {
  for (int ranks : {1, 2, 3, 4}) {
    auto buffers = random_buffers(ranks, 1001, 7);
    std::vector<double> reference(1001, 0.0);
    for (const auto& buffer : buffers) {
      for (size_t i = 0; i < buffer.size(); ++i) reference[i] += buffer[i];
    }
    InProcessCollective collective(ranks);
    on_ranks(ranks, [&](int rank) {
      collective.all_reduce_sum(rank, std::span(buffers[static_cast<size_t>(rank)]));
    });
    for (size_t i = 0; i < reference.size(); ++i) {
      // At most ranks - 1 float roundings of values below `ranks` in magnitude.
      EXPECT_NEAR(buffers[0][i], reference[i], 1e-6 * ranks) << "element " << i;
      for (const auto& buffer : buffers) ASSERT_EQ(buffer[i], buffers[0][i]) << "element " << i;
    }
  }
}

TEST(InProcessCollectiveTest, AllReduceFloat64AddsInRankOrder) {
  const int ranks = 3;
  std::vector<std::vector<double>> buffers = {{1e16, 1.0}, {1.0, 1e16}, {-1e16, -1e16}};
  InProcessCollective collective(ranks);
  on_ranks(ranks, [&](int rank) {
    collective.all_reduce_sum(rank, std::span(buffers[static_cast<size_t>(rank)]));
  });
  // (1e16 + 1) + -1e16 loses the 1; (1 + 1e16) + -1e16 as well: rank order, not pairwise.
  for (const auto& buffer : buffers) {
    EXPECT_EQ(buffer[0], (1e16 + 1.0) + -1e16);
    EXPECT_EQ(buffer[1], (1.0 + 1e16) + -1e16);
  }
}

TEST(InProcessCollectiveTest, AllReduceIsTheSameBitsWhateverTheTiming) {
  const int ranks = 4;
  const auto inputs = random_buffers(ranks, 4099, 11);
  std::vector<float> first;
  for (int run = 0; run < 20; ++run) {
    auto buffers = inputs;
    InProcessCollective collective(ranks);
    on_ranks(ranks, [&](int rank) {
      // A different rank arrives last on each run.
      std::this_thread::sleep_for(std::chrono::microseconds(((rank + run) % ranks) * 300));
      collective.all_reduce_sum(rank, std::span(buffers[static_cast<size_t>(rank)]));
    });
    if (run == 0) first = buffers[0];
    for (const auto& buffer : buffers) ASSERT_EQ(buffer, first) << "run " << run;
  }
  // And those bits are the rank-order float sum.
  for (size_t i = 0; i < first.size(); ++i) {
    float sum = inputs[0][i];
    for (int rank = 1; rank < ranks; ++rank) sum += inputs[static_cast<size_t>(rank)][i];
    ASSERT_EQ(first[i], sum) << "element " << i;
  }
}

TEST(InProcessCollectiveTest, BroadcastCopiesRankZero) {
  const int ranks = 3;
  auto buffers = random_buffers(ranks, 100, 3);
  const std::vector<float> root = buffers[0];
  InProcessCollective collective(ranks);
  on_ranks(ranks, [&](int rank) {
    collective.broadcast(rank, std::span(buffers[static_cast<size_t>(rank)]));
  });
  for (const auto& buffer : buffers) EXPECT_EQ(buffer, root);
}

TEST(InProcessCollectiveTest, BarrierWaitsForEveryRank) {
  const int ranks = 4;
  InProcessCollective collective(ranks);
  std::atomic<int> arrived{0};
  std::atomic<bool> left_early{false};
  on_ranks(ranks, [&](int rank) {
    std::this_thread::sleep_for(milliseconds(rank * 5));
    arrived.fetch_add(1);
    collective.barrier(rank);
    if (arrived.load() != ranks) left_early = true;
  });
  EXPECT_FALSE(left_early);
}

TEST(InProcessCollectiveTest, MissingRankTimesOutWithAClearError) {
  const int ranks = 3;
  InProcessCollective collective(ranks, milliseconds(100));
  std::vector<std::string> errors(ranks);
  const auto start = std::chrono::steady_clock::now();
  on_ranks(2, [&](int rank) {  // rank 2 never calls
    std::vector<float> buffer(8, 1.0f);
    try {
      collective.all_reduce_sum(rank, std::span(buffer));
    } catch (const CollectiveError& error) {
      errors[static_cast<size_t>(rank)] = error.what();
    }
  });
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  for (int rank = 0; rank < 2; ++rank) {
    const std::string& error = errors[static_cast<size_t>(rank)];
    EXPECT_NE(error.find("all_reduce_sum"), std::string::npos) << error;
    EXPECT_NE(error.find("timed out after 100 ms"), std::string::npos) << error;
    EXPECT_NE(error.find("waiting for rank(s) 2 of 3"), std::string::npos) << error;
  }
  // The group stays failed: a late rank gets the same error at once.
  std::vector<float> buffer(8, 1.0f);
  EXPECT_THROW(collective.all_reduce_sum(2, std::span(buffer)), CollectiveError);
}

TEST(InProcessCollectiveTest, AbortWakesWaitingRanks) {
  InProcessCollective collective(2, std::chrono::minutes(5));
  std::string error;
  std::thread waiter([&] {
    try {
      collective.barrier(0);
    } catch (const CollectiveError& e) {
      error = e.what();
    }
  });
  std::this_thread::sleep_for(milliseconds(20));
  collective.abort("replica 1 failed");
  waiter.join();
  EXPECT_NE(error.find("aborted: replica 1 failed"), std::string::npos) << error;
}

TEST(InProcessCollectiveTest, MismatchedLengthsAreAnError) {
  InProcessCollective collective(2, milliseconds(1000));
  std::vector<int> failures(2, 0);
  on_ranks(2, [&](int rank) {
    std::vector<float> buffer(rank == 0 ? 4 : 5, 1.0f);
    try {
      collective.all_reduce_sum(rank, std::span(buffer));
    } catch (const CollectiveError&) {
      failures[static_cast<size_t>(rank)] = 1;
    }
  });
  EXPECT_EQ(failures, (std::vector<int>{1, 1}));
}

TEST(InProcessCollectiveTest, RejectsBadArguments) {
  EXPECT_THROW(InProcessCollective(0), ValueError);
  InProcessCollective collective(1);
  std::vector<float> buffer(3, 2.0f);
  EXPECT_THROW(collective.all_reduce_sum(1, std::span(buffer)), ValueError);
  collective.all_reduce_sum(0, std::span(buffer));  // one rank: unchanged
  EXPECT_EQ(buffer, (std::vector<float>{2.0f, 2.0f, 2.0f}));
}

}  // namespace
}  // namespace trainyard::distribute
