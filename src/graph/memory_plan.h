// Places buffers with known lifetimes in one arena so buffers that are never live at the
// same time share memory (greedy by size, lowest fitting offset).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace trainyard::graph {

struct BufferLifetime {
  size_t bytes = 0;
  int first_step = 0;  // the step that writes the buffer first
  int last_step = 0;   // the last step that reads it (inclusive)
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // one per requested buffer, aligned
  size_t total_bytes = 0;
};

// REQUIRES: first_step <= last_step for every buffer; alignment is a power of two.
MemoryPlan plan_memory(std::span<const BufferLifetime> buffers, size_t alignment = 64);

}  // namespace trainyard::graph
