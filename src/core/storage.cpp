#include "core/storage.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

namespace trainyard {
namespace {

std::atomic<int64_t> g_allocation_count{0};

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t bytes) override {
    constexpr size_t kAlignment = 64;
    size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    if (rounded == 0) rounded = kAlignment;
    void* pointer = std::aligned_alloc(kAlignment, rounded);
    if (pointer == nullptr) throw std::bad_alloc();
    std::memset(pointer, 0, rounded);
    return pointer;
  }
  void deallocate(void* pointer, size_t) override { std::free(pointer); }
  Device device() const override { return cpu_device(); }
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
