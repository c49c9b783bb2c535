// GpuAllocator: hands this host's GPUs to jobs so that no two jobs ever hold the same GPU.
// A job that placement accepted asks with its GpuRequirement and either gets GPU indices for
// each of its hosts or is told to wait; restore() rebuilds the holdings after a restart from
// what the job store recorded.
//
// Thread safety: every method may be called from any thread. One mutex guards the holdings;
// the GPU list is fixed at construction.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/placement/gpu_requirement.h"
#include "platform/gpu_inventory.h"

namespace trainyard::jobs {

// The GPUs one job holds: per host, the GPU indices (NVML's order, as nvidia-smi prints them)
// in increasing order; hosts[i] is SageMaker's host algo-<i+1>. A CPU job holds one empty
// list per host. (The job store records the same as a GpuAllocation, host name -> indices.)
struct GpuGrant {
  std::vector<std::vector<int>> hosts;

  bool operator==(const GpuGrant&) const = default;
};

// The CUDA_VISIBLE_DEVICES value for one host's GPUs: the indices, comma-separated ("0,1");
// "" for a host without GPUs, which hides every GPU from it. Indices rather than UUIDs: they
// match nvidia-smi and every tool that parses the variable as numbers. CUDA numbers GPUs
// fastest first unless told otherwise, so the process must also get
// CUDA_DEVICE_ORDER=PCI_BUS_ID (see gpu_environment) for the indices to mean NVML's GPUs.
std::string cuda_visible_devices(const std::vector<int>& gpu_indices);

// The environment a host's processes need to see exactly its GPUs: CUDA_DEVICE_ORDER and
// CUDA_VISIBLE_DEVICES.
std::map<std::string, std::string> gpu_environment(const std::vector<int>& gpu_indices);

// The answer to try_allocate: GPUs, or a reason to wait.
struct AllocationResult {
  std::optional<GpuGrant> allocation;  // set when the GPUs were handed out
  // When waiting: "Waiting for GPUs: 2 of 4 free", counting only GPUs that qualify for the
  // job. Empty when granted.
  std::string waiting_message;
  int free_qualifying = 0;           // qualifying GPUs no job holds
  int qualifying = 0;                // qualifying GPUs on this host, held or not
  int needed = 0;                    // the job's GPUs, all hosts together
  std::vector<std::string> holders;  // jobs holding qualifying GPUs, sorted

  bool granted() const { return allocation.has_value(); }
};

class GpuAllocator {
 public:
  // The GPUs of `inventory`, read once. Throws ValueError when two GPUs share an index.
  explicit GpuAllocator(const platform::GpuInventory& inventory);
  explicit GpuAllocator(std::vector<platform::GpuInfo> gpus);

  GpuAllocator(const GpuAllocator&) = delete;
  GpuAllocator& operator=(const GpuAllocator&) = delete;

  // Gives `job_name` requirement.hosts disjoint sets of requirement.gpus_per_host free GPUs
  // that requirement.accepts, each set as close together by index as the free GPUs allow
  // (then the least memory, then the lowest index, so big GPUs stay free for jobs that need
  // them), or answers "wait" and changes nothing. A CPU requirement (0 GPUs) is granted at
  // once with empty lists. Throws ValueError when the job already holds GPUs, when the
  // requirement is malformed, or when the host has fewer qualifying GPUs than the job needs
  // at all: such a job can never run, and placement should have refused it.
  AllocationResult try_allocate(std::string_view job_name, const GpuRequirement& requirement);

  // Frees what `job_name` holds. Returns false when it held nothing.
  bool release(std::string_view job_name);

  // Records, after a restart, that `job_name` holds `allocation` (as the store recorded it).
  // Restoring the same allocation twice is a no-op. Throws ValueError naming the job and the
  // GPU when an index is not on this host, is listed twice, or is held by another job, or
  // when the job already holds a different allocation; nothing changes then.
  void restore(std::string_view job_name, const GpuGrant& allocation);

  // What `job_name` holds, or nothing.
  std::optional<GpuGrant> allocation_of(std::string_view job_name) const;
  // The job holding GPU `index`, or nothing when it is free (or not on this host).
  std::optional<std::string> holder_of(int index) const;
  // GPUs no job holds.
  int free_count() const;
  // Every GPU of this host, in index order.
  const std::vector<platform::GpuInfo>& gpus() const { return gpus_; }

 private:
  // Constant after construction.
  const std::vector<platform::GpuInfo> gpus_;  // sorted by index

  mutable std::mutex mutex_;
  // Guarded by mutex_: the holder of each held GPU, and each job's allocation.
  std::map<int, std::string> holder_by_index_;
  std::map<std::string, GpuGrant, std::less<>> allocations_;
};

}  // namespace trainyard::jobs
