// The per-device memory counters: the host allocator counts every block at its 64-byte
// rounded size, frees take it back, and the high-water mark restarts from the live bytes.
#include "core/memory_counter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "core/storage.h"

namespace trainyard {
namespace {

TEST(MemoryCounterTest, HostStorageCountsRoundedBytesAndItsHighWater) {
  const Device cpu = cpu_device();
  reset_memory_high_water(cpu);
  const int64_t live = memory_live_bytes(cpu);
  {
    Storage first(100, cpu_allocator());  // 128 bytes
    EXPECT_EQ(memory_live_bytes(cpu), live + 128);
    {
      Storage second(1000, cpu_allocator());  // 1024 bytes
      EXPECT_EQ(memory_live_bytes(cpu), live + 128 + 1024);
    }
    EXPECT_EQ(memory_live_bytes(cpu), live + 128);
    EXPECT_EQ(memory_high_water_bytes(cpu), live + 128 + 1024);
    reset_memory_high_water(cpu);
    EXPECT_EQ(memory_high_water_bytes(cpu), live + 128);
  }
  EXPECT_EQ(memory_live_bytes(cpu), live);
}

TEST(MemoryCounterTest, HighWaterIsTheLargestSumSeenFromManyThreads) {
  MemoryCounter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&counter] {
      for (int i = 0; i < 1000; ++i) {
        counter.add(8);
        counter.remove(8);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.live_bytes(), 0);
  EXPECT_GE(counter.high_water_bytes(), 8);
  EXPECT_LE(counter.high_water_bytes(), 32);
}

TEST(MemoryCounterTest, DevicesHaveTheirOwnCounters) {
  EXPECT_NE(&memory_in_use(cpu_device()), &memory_in_use(Device("cuda:0")));
  EXPECT_NE(&memory_in_use(Device("cuda:0")), &memory_in_use(Device("cuda:1")));
  EXPECT_NE(&memory_in_use(cpu_device()), &memory_reserved(cpu_device()));
  EXPECT_EQ(&memory_in_use(Device("cuda:1")), &memory_in_use(Device("cuda:1")));
}

}  // namespace
}  // namespace trainyard
