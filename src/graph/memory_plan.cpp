#include "graph/memory_plan.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace trainyard::graph {
namespace {

size_t align_up(size_t value, size_t alignment) {
  return (value + alignment - 1) & ~(alignment - 1);
}

bool overlaps_in_time(const BufferLifetime& a, const BufferLifetime& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

}  // namespace

MemoryPlan plan_memory(std::span<const BufferLifetime> buffers, size_t alignment) {
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Largest first: big buffers claim the low offsets, small ones fill the gaps.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
  std::vector<size_t> placed;
  for (size_t index : order) {
    const BufferLifetime& buffer = buffers[index];
    TY_CHECK(buffer.first_step <= buffer.last_step, "buffer lifetime ends before it starts");
    size_t size = align_up(std::max<size_t>(buffer.bytes, 1), alignment);
    // Candidate offsets: 0 and the end of every placed buffer alive at the same time.
    std::vector<size_t> candidates{0};
    for (size_t other : placed) {
      if (overlaps_in_time(buffer, buffers[other])) {
        candidates.push_back(plan.offsets[other] +
                             align_up(std::max<size_t>(buffers[other].bytes, 1), alignment));
      }
    }
    std::sort(candidates.begin(), candidates.end());
    size_t chosen = candidates.back();
    for (size_t candidate : candidates) {
      bool fits = true;
      for (size_t other : placed) {
        if (!overlaps_in_time(buffer, buffers[other])) continue;
        size_t other_begin = plan.offsets[other];
        size_t other_end =
            other_begin + align_up(std::max<size_t>(buffers[other].bytes, 1), alignment);
        if (candidate < other_end && other_begin < candidate + size) {
          fits = false;
          break;
        }
      }
      if (fits) {
        chosen = candidate;
        break;
      }
    }
    plan.offsets[index] = chosen;
    plan.total_bytes = std::max(plan.total_bytes, chosen + size);
    placed.push_back(index);
  }
  return plan;
}

}  // namespace trainyard::graph
