// Counts every global operator new of the test binary that links the
// trainyard_allocation_counter object library (which replaces operator new and delete),
// across all threads, so a test can prove a code path allocates nothing.
#pragma once

#include <cstdint>

namespace trainyard::testing {

// Heap allocations through operator new since the process started.
int64_t heap_allocation_count();

// Counts the allocations made while it is alive: AllocationWindow window; ...; window.count().
class AllocationWindow {
 public:
  AllocationWindow() : start_(heap_allocation_count()) {}
  int64_t count() const { return heap_allocation_count() - start_; }

 private:
  int64_t start_;
};

}  // namespace trainyard::testing
