// What a job needs from this host's GPUs, and which GPUs qualify. One test serves both
// placement (can the job ever run here?) and the allocator (which GPUs to hand out now), so
// the two never disagree about a GPU.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "platform/accelerator.h"
#include "platform/build_targets.h"
#include "platform/gpu_inventory.h"

namespace trainyard::jobs {

// The build's GPU targets and CUDA's oldest architecture live in platform, which the
// doctor shares; placement names them here.
using platform::BuildTargets;
using platform::kOldestCudaArchitecture;

// The catalog states GPU memory as marketed (an A10G's "24 GB"), while the driver reports
// what it can hand out (22.5 GiB on an A10G, 15 GiB on a T4). A GPU counts as having a
// memory figure when the driver reports at least this fraction of it.
inline constexpr double kGpuMemoryTolerance = 0.9;

// What one job needs: `hosts` process groups on this machine, each owning `gpus_per_host`
// GPUs of its own that pass `unsuitable_reason`.
struct GpuRequirement {
  int hosts = 1;              // InstanceCount
  int gpus_per_host = 0;      // 0 for a CPU job
  double min_memory_gib = 0;  // per GPU as the catalog states it; 0: any
  std::optional<platform::ComputeCapability> min_compute_capability;  // empty: any
  BuildTargets build_targets;  // architectures this build can run

  int total_gpus() const { return hosts * gpus_per_host; }
  // Why `gpu` cannot serve this job ("compute capability 8.6, below 9.0 and less than 40
  // GiB"), or an empty string when it can. Every GPU must also be one CUDA 13 supports
  // (kOldestCudaArchitecture or newer) and one `build_targets` serves.
  std::string unsuitable_reason(const platform::GpuInfo& gpu) const;
  bool accepts(const platform::GpuInfo& gpu) const { return unsuitable_reason(gpu).empty(); }
};

// "24" for whole numbers, else one decimal ("22.5"): how GiB figures appear in messages.
std::string format_gib(double gib);

}  // namespace trainyard::jobs
