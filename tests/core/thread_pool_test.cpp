#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace trainyard {
namespace {

TEST(ThreadPoolTest, RunsEveryTaskExactlyOnce) {
  ThreadPool pool(3);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::atomic<int>> hits(97);
    pool.parallel_for(97, [&](int64_t i) { hits[static_cast<size_t>(i)].fetch_add(1); });
    for (auto& hit : hits) ASSERT_EQ(hit.load(), 1);
  }
}

TEST(ThreadPoolTest, RethrowsTaskExceptionAndStaysUsable) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(8,
                                 [](int64_t i) {
                                   if (i == 5) throw std::runtime_error("task 5 failed");
                                 }),
               std::runtime_error);
  std::atomic<int> count{0};
  pool.parallel_for(8, [&](int64_t) { count.fetch_add(1); });
  EXPECT_EQ(count.load(), 8);
}

TEST(ThreadPoolTest, NestedCallsRunSerially) {
  ThreadPool pool(2);
  std::atomic<int> count{0};
  pool.parallel_for(4, [&](int64_t) { pool.parallel_for(3, [&](int64_t) { count++; }); });
  EXPECT_EQ(count.load(), 12);
}

TEST(ParallelRangeTest, CoversRangeWithoutOverlap) {
  std::vector<int> marks(1000, 0);
  parallel_range(1000, 10, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) marks[static_cast<size_t>(i)]++;
  });
  for (int mark : marks) ASSERT_EQ(mark, 1);
}

}  // namespace
}  // namespace trainyard
