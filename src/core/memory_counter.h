// Live bytes and their high-water mark per device, kept by trainyard's allocators so a
// measured peak of a training run can be read from code (tests, the memory estimate's
// checks). Thread-safe; the counters of a device live as long as the process.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/device.h"

namespace trainyard {

class MemoryCounter {
 public:
  void add(int64_t bytes);
  void remove(int64_t bytes);
  int64_t live_bytes() const { return live_.load(); }
  int64_t high_water_bytes() const { return high_water_.load(); }
  // Starts a new high-water mark from the bytes live now.
  void reset_high_water() { high_water_.store(live_.load()); }

 private:
  std::atomic<int64_t> live_{0};
  std::atomic<int64_t> high_water_{0};
};

// Bytes handed out to trainyard (storage, kernel scratch) on `device`, rounded as the
// allocator rounds them.
MemoryCounter& memory_in_use(Device device);
// Bytes an allocator holds from the system or driver on `device`, handed out or cached
// (the CUDA caching allocator's reserve; the host allocator reserves what it hands out).
MemoryCounter& memory_reserved(Device device);

int64_t memory_high_water_bytes(Device device);
int64_t memory_live_bytes(Device device);
// Resets both the in-use and the reserved high-water marks of `device`.
void reset_memory_high_water(Device device);

}  // namespace trainyard
