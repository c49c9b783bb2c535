#include "core/storage.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/memory_counter.h"

namespace trainyard {
namespace {

std::atomic<int64_t> g_allocation_count{0};

size_t cpu_rounded_size(size_t bytes) {
  constexpr size_t kAlignment = 64;
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  return rounded == 0 ? kAlignment : rounded;
}

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t bytes) override {
    size_t rounded = cpu_rounded_size(bytes);
    void* pointer = std::aligned_alloc(64, rounded);
    if (pointer == nullptr) throw std::bad_alloc();
    std::memset(pointer, 0, rounded);
    count(static_cast<int64_t>(rounded));
    return pointer;
  }
  void deallocate(void* pointer, size_t bytes) override {
    std::free(pointer);
    count(-static_cast<int64_t>(cpu_rounded_size(bytes)));
  }
  Device device() const override { return cpu_device(); }

 private:
  // The host reserves exactly what it hands out, so both counters move together.
  static void count(int64_t bytes) {
    static MemoryCounter& in_use = memory_in_use(cpu_device());
    static MemoryCounter& reserved = memory_reserved(cpu_device());
    if (bytes >= 0) {
      in_use.add(bytes);
      reserved.add(bytes);
    } else {
      in_use.remove(-bytes);
      reserved.remove(-bytes);
    }
  }
};

}  // namespace

Allocator& cpu_allocator() {
  static CpuAllocator allocator;
  return allocator;
}

int64_t storage_allocation_count() {
  return g_allocation_count.load();
}

namespace detail {
void count_storage_allocation() {
  g_allocation_count.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace detail

Storage::Storage(size_t bytes, Allocator& allocator)
    : data_(allocator.allocate(bytes)), bytes_(bytes), allocator_(&allocator) {
  detail::count_storage_allocation();
}

Storage::~Storage() {
  allocator_->deallocate(data_, bytes_);
}

}  // namespace trainyard
