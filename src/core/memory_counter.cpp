#include "core/memory_counter.h"

#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace trainyard {
namespace {

// Counters are created on first use and never destroyed, so references stay valid while
// allocators in static objects still free memory at exit.
MemoryCounter& counter_for(Device device, bool reserved) {
  static std::mutex mutex;
  static auto* counters = new std::map<std::pair<int, int>, std::unique_ptr<MemoryCounter>>();
  std::lock_guard lock(mutex);
  int kind = static_cast<int>(device.type) * 2 + (reserved ? 1 : 0);
  auto& slot = (*counters)[{kind, device.index}];
  if (!slot) slot = std::make_unique<MemoryCounter>();
  return *slot;
}

}  // namespace

void MemoryCounter::add(int64_t bytes) {
  int64_t live = live_.fetch_add(bytes) + bytes;
  int64_t high = high_water_.load();
  while (live > high && !high_water_.compare_exchange_weak(high, live)) {
  }
}

void MemoryCounter::remove(int64_t bytes) {
  live_.fetch_sub(bytes);
}

MemoryCounter& memory_in_use(Device device) {
  return counter_for(device, false);
}

MemoryCounter& memory_reserved(Device device) {
  return counter_for(device, true);
}

int64_t memory_high_water_bytes(Device device) {
  return memory_in_use(device).high_water_bytes();
}

int64_t memory_live_bytes(Device device) {
  return memory_in_use(device).live_bytes();
}

void reset_memory_high_water(Device device) {
  memory_in_use(device).reset_high_water();
  memory_reserved(device).reset_high_water();
}

}  // namespace trainyard
