#include "jobs/service/gpu_grants.h"

#include <map>

#include "jobs/placement/gpu_allocator.h"
#include "jobs/staging/container_config.h"

namespace trainyard::jobs {

std::optional<std::string> try_grant_gpus(JobStore& store, const platform::GpuInventory& gpus,
                                          const std::string& name,
                                          const GpuRequirement& requirement, double time) {
  GpuAllocator allocator(gpus);
  std::map<std::string, std::vector<int>> held_by_job;
  for (const GpuHold& hold : store.allocated_gpus()) {
    if (hold.job_name != name) held_by_job[hold.job_name].push_back(hold.gpu_index);
  }
  for (const auto& [job, indices] : held_by_job) allocator.restore(job, GpuGrant{{indices}});
  AllocationResult result = allocator.try_allocate(name, requirement);
  if (!result.granted()) return result.waiting_message;
  GpuAllocation allocation;
  for (size_t host = 0; host < result.allocation->hosts.size(); ++host) {
    allocation[host_name(static_cast<int>(host))] = result.allocation->hosts[host];
  }
  try {
    store.set_gpu_allocation(name, allocation, time);
  } catch (const ResourceInUse&) {
    // Another process granted one of these GPUs between our read and our write.
    return "Waiting for GPUs: another job just took some";
  }
  return std::nullopt;
}

}  // namespace trainyard::jobs
