#include "jobs/placement/gpu_allocator.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "core/error.h"

namespace trainyard::jobs {
namespace {

using platform::GpuInfo;

std::vector<GpuInfo> sorted_by_index(std::vector<GpuInfo> gpus) {
  std::sort(gpus.begin(), gpus.end(),
            [](const GpuInfo& a, const GpuInfo& b) { return a.index < b.index; });
  for (std::size_t i = 1; i < gpus.size(); ++i) {
    if (gpus[i].index == gpus[i - 1].index) {
      throw ValueError("GpuAllocator: two GPUs share index " + std::to_string(gpus[i].index) +
                       " (" + gpus[i - 1].name + " and " + gpus[i].name + ")");
    }
  }
  return gpus;
}

std::string quoted(std::string_view job_name) {
  // Appended piece by piece: g++ 12 reports a false -Wrestrict on "'" + std::string(...).
  std::string text(1, '\'');
  text.append(job_name);
  text.push_back('\'');
  return text;
}

// Picks `count` of `candidates` (sorted by index) for one host: the run spanning the fewest
// indices, then the one with the least memory, then the lowest index. Removes them from
// `candidates` and returns their indices in order.
std::vector<int> take_closest(std::vector<const GpuInfo*>& candidates, int count) {
  if (count == 0) return {};
  std::size_t best = 0;
  std::tuple<int, std::uint64_t, int> best_key{};
  for (std::size_t first = 0; first + count <= candidates.size(); ++first) {
    std::uint64_t memory = 0;
    for (int i = 0; i < count; ++i) memory += candidates[first + i]->total_memory_bytes;
    std::tuple<int, std::uint64_t, int> key{
        candidates[first + count - 1]->index - candidates[first]->index, memory,
        candidates[first]->index};
    if (first == 0 || key < best_key) {
      best = first;
      best_key = key;
    }
  }
  std::vector<int> chosen;
  for (int i = 0; i < count; ++i) chosen.push_back(candidates[best + i]->index);
  candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(best),
                   candidates.begin() + static_cast<std::ptrdiff_t>(best) + count);
  return chosen;
}

}  // namespace

std::string cuda_visible_devices(const std::vector<int>& gpu_indices) {
  std::string text;
  for (int index : gpu_indices) {
    if (!text.empty()) text += ",";
    text += std::to_string(index);
  }
  return text;
}

std::map<std::string, std::string> gpu_environment(const std::vector<int>& gpu_indices) {
  return {{"CUDA_DEVICE_ORDER", "PCI_BUS_ID"},
          {"CUDA_VISIBLE_DEVICES", cuda_visible_devices(gpu_indices)}};
}

GpuAllocator::GpuAllocator(const platform::GpuInventory& inventory)
    : GpuAllocator(inventory.gpus()) {}

GpuAllocator::GpuAllocator(std::vector<GpuInfo> gpus) : gpus_(sorted_by_index(std::move(gpus))) {}

AllocationResult GpuAllocator::try_allocate(std::string_view job_name,
                                            const GpuRequirement& requirement) {
  if (job_name.empty()) throw ValueError("GpuAllocator::try_allocate: the job name is empty");
  if (requirement.hosts < 1 || requirement.gpus_per_host < 0) {
    throw ValueError("GpuAllocator::try_allocate: job " + quoted(job_name) + " asks for " +
                     std::to_string(requirement.hosts) + " hosts of " +
                     std::to_string(requirement.gpus_per_host) +
                     " GPUs; both must be positive (GPUs may be 0)");
  }
  std::vector<const GpuInfo*> qualifying;
  for (const GpuInfo& gpu : gpus_) {
    if (requirement.accepts(gpu)) qualifying.push_back(&gpu);
  }
  AllocationResult result;
  result.needed = requirement.total_gpus();
  result.qualifying = static_cast<int>(qualifying.size());
  if (result.needed > result.qualifying) {
    throw ValueError("GpuAllocator::try_allocate: job " + quoted(job_name) + " needs " +
                     std::to_string(result.needed) + " GPUs but this host has only " +
                     std::to_string(result.qualifying) +
                     " that qualify; it can never run here, and placement should have refused it");
  }

  std::lock_guard<std::mutex> lock(mutex_);
  if (auto held = allocations_.find(job_name); held != allocations_.end()) {
    throw ValueError("GpuAllocator::try_allocate: job " + quoted(job_name) +
                     " already holds GPUs; release them first");
  }
  std::vector<const GpuInfo*> free;
  std::set<std::string> holders;
  for (const GpuInfo* gpu : qualifying) {
    auto holder = holder_by_index_.find(gpu->index);
    if (holder == holder_by_index_.end()) {
      free.push_back(gpu);
    } else {
      holders.insert(holder->second);
    }
  }
  result.free_qualifying = static_cast<int>(free.size());
  if (result.free_qualifying < result.needed) {
    result.waiting_message = "Waiting for GPUs: " + std::to_string(result.free_qualifying) +
                             " of " + std::to_string(result.qualifying) + " free";
    result.holders.assign(holders.begin(), holders.end());
    return result;
  }

  GpuGrant allocation;
  for (int host = 0; host < requirement.hosts; ++host) {
    allocation.hosts.push_back(take_closest(free, requirement.gpus_per_host));
  }
  for (const auto& host : allocation.hosts) {
    for (int index : host) holder_by_index_.emplace(index, std::string(job_name));
  }
  allocations_.emplace(std::string(job_name), allocation);
  result.allocation = std::move(allocation);
  return result;
}

bool GpuAllocator::release(std::string_view job_name) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto held = allocations_.find(job_name);
  if (held == allocations_.end()) return false;
  for (const auto& host : held->second.hosts) {
    for (int index : host) holder_by_index_.erase(index);
  }
  allocations_.erase(held);
  return true;
}

void GpuAllocator::restore(std::string_view job_name, const GpuGrant& allocation) {
  const std::string where = "GpuAllocator::restore: job " + quoted(job_name);
  if (job_name.empty()) throw ValueError("GpuAllocator::restore: the job name is empty");
  std::set<int> seen;
  for (const auto& host : allocation.hosts) {
    for (int index : host) {
      bool known = std::any_of(gpus_.begin(), gpus_.end(),
                               [&](const GpuInfo& gpu) { return gpu.index == index; });
      if (!known) {
        throw ValueError(where + " held GPU " + std::to_string(index) +
                         ", which this host does not have (it has " + std::to_string(gpus_.size()) +
                         " GPUs)");
      }
      if (!seen.insert(index).second) {
        throw ValueError(where + " lists GPU " + std::to_string(index) + " twice");
      }
    }
  }

  GpuGrant sorted = allocation;
  for (auto& host : sorted.hosts) std::sort(host.begin(), host.end());

  std::lock_guard<std::mutex> lock(mutex_);
  if (auto held = allocations_.find(job_name); held != allocations_.end()) {
    if (held->second == sorted) return;
    throw ValueError(where + " already holds other GPUs; release them first");
  }
  for (int index : seen) {
    if (auto holder = holder_by_index_.find(index); holder != holder_by_index_.end()) {
      throw ValueError(where + " held GPU " + std::to_string(index) + ", but job " +
                       quoted(holder->second) + " holds it");
    }
  }
  for (int index : seen) holder_by_index_.emplace(index, std::string(job_name));
  allocations_.emplace(std::string(job_name), std::move(sorted));
}

std::optional<GpuGrant> GpuAllocator::allocation_of(std::string_view job_name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto held = allocations_.find(job_name);
  if (held == allocations_.end()) return std::nullopt;
  return held->second;
}

std::optional<std::string> GpuAllocator::holder_of(int index) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto holder = holder_by_index_.find(index);
  if (holder == holder_by_index_.end()) return std::nullopt;
  return holder->second;
}

int GpuAllocator::free_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(gpus_.size() - holder_by_index_.size());
}

}  // namespace trainyard::jobs
