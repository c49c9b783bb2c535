// plan_memory on many random lifetimes: the invariants StepPlan relies on, whatever the
// mix of sizes and lifetimes.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/random.h"
#include "graph/memory_plan.h"

namespace trainyard::graph {
namespace {

size_t aligned(size_t bytes, size_t alignment) {
  return (std::max<size_t>(bytes, 1) + alignment - 1) / alignment * alignment;
}

TEST(MemoryPlanPropertyTest, RandomLifetimesNeverShareLiveBytes) {
  RandomGenerator generator(2024);
  for (int trial = 0; trial < 40; ++trial) {
    const size_t alignment = size_t{1} << (4 + trial % 4);  // 16 to 128
    const int steps = 5 + static_cast<int>(generator.below(60));
    std::vector<BufferLifetime> buffers(1 + generator.below(150));
    for (auto& buffer : buffers) {
      // Sizes from 0 bytes to 64 KiB, with many equal sizes as a real graph has.
      buffer.bytes = generator.below(4) == 0 ? 4096 : generator.below(65536);
      buffer.first_step = static_cast<int>(generator.below(static_cast<uint64_t>(steps)));
      buffer.last_step =
          buffer.first_step +
          static_cast<int>(generator.below(static_cast<uint64_t>(steps - buffer.first_step)));
    }
    MemoryPlan plan = plan_memory(buffers, alignment);
    ASSERT_EQ(plan.offsets.size(), buffers.size());

    size_t sum = 0;
    for (size_t a = 0; a < buffers.size(); ++a) {
      size_t a_end = plan.offsets[a] + aligned(buffers[a].bytes, alignment);
      sum += aligned(buffers[a].bytes, alignment);
      ASSERT_EQ(plan.offsets[a] % alignment, 0u) << "trial " << trial << " buffer " << a;
      ASSERT_LE(a_end, plan.total_bytes) << "trial " << trial << " buffer " << a;
      for (size_t b = a + 1; b < buffers.size(); ++b) {
        bool live_together = buffers[a].first_step <= buffers[b].last_step &&
                             buffers[b].first_step <= buffers[a].last_step;
        if (!live_together) continue;
        size_t b_end = plan.offsets[b] + aligned(buffers[b].bytes, alignment);
        ASSERT_FALSE(plan.offsets[a] < b_end && plan.offsets[b] < a_end)
            << "trial " << trial << ": buffers " << a << " and " << b << " are live together "
            << "and overlap";
      }
    }
    // Never worse than no sharing, never better than the busiest step allows.
    size_t busiest = 0;
    for (int step = 0; step < steps; ++step) {
      size_t live = 0;
      for (const auto& buffer : buffers) {
        if (buffer.first_step <= step && step <= buffer.last_step) {
          live += aligned(buffer.bytes, alignment);
        }
      }
      busiest = std::max(busiest, live);
    }
    EXPECT_LE(plan.total_bytes, sum) << "trial " << trial;
    EXPECT_GE(plan.total_bytes, busiest) << "trial " << trial;
  }
}

}  // namespace
}  // namespace trainyard::graph
