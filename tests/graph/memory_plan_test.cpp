#include "graph/memory_plan.h"

#include <gtest/gtest.h>

namespace trainyard::graph {
namespace {

bool overlap(size_t a_offset, size_t a_bytes, size_t b_offset, size_t b_bytes) {
  return a_offset < b_offset + b_bytes && b_offset < a_offset + a_bytes;
}

TEST(MemoryPlanTest, LiveBuffersNeverShareBytesAndDeadOnesReuse) {
  std::vector<BufferLifetime> buffers = {
      {1000, 0, 2}, {500, 1, 3}, {1000, 3, 5}, {200, 4, 4}, {64, 0, 5}};
  MemoryPlan plan = plan_memory(buffers);
  for (size_t a = 0; a < buffers.size(); ++a) {
    EXPECT_EQ(plan.offsets[a] % 64, 0u);
    for (size_t b = a + 1; b < buffers.size(); ++b) {
      bool live_together = buffers[a].first_step <= buffers[b].last_step &&
                           buffers[b].first_step <= buffers[a].last_step;
      if (live_together) {
        EXPECT_FALSE(overlap(plan.offsets[a], buffers[a].bytes, plan.offsets[b], buffers[b].bytes))
            << a << " and " << b;
      }
    }
  }
  size_t sum = 0;
  for (auto& b : buffers) sum += (b.bytes + 63) / 64 * 64;
  EXPECT_LT(plan.total_bytes, sum);  // buffers 0 and 2 never live together
}

}  // namespace
}  // namespace trainyard::graph
