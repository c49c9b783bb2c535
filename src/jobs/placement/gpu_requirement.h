// What a job needs from this host's GPUs, and which GPUs qualify. One test serves both
// placement (can the job ever run here?) and the allocator (which GPUs to hand out now), so
// the two never disagree about a GPU.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "platform/accelerator.h"
#include "platform/gpu_inventory.h"

namespace trainyard::jobs {

// The oldest architecture CUDA 13 compiles for: Turing, compute capability 7.5. CUDA 13
// dropped Maxwell, Pascal and Volta (5.x to 7.2); CUDA 12 had already dropped Kepler (3.x).
inline constexpr platform::ComputeCapability kOldestCudaArchitecture{7, 5};

// The catalog states GPU memory as marketed (an A10G's "24 GB"), while the driver reports
// what it can hand out (22.5 GiB on an A10G, 15 GiB on a T4). A GPU counts as having a
// memory figure when the driver reports at least this fraction of it.
inline constexpr double kGpuMemoryTolerance = 0.9;

// The GPU architectures this build of trainyard carries kernels for.
struct BuildTargets {
  std::vector<platform::ComputeCapability> architectures;  // empty: a CPU-only build

  bool cpu_only() const { return architectures.empty(); }
  // True when this build has code a GPU of `capability` can run: a target with the same
  // major version and a minor version no higher (code for 8.0 runs on 8.6, not on 9.0), as
  // CUDA's binary compatibility allows. True for every GPU in a CPU-only build, which has
  // no GPU code to be wrong about.
  bool serves(platform::ComputeCapability capability) const;
  // "7.5, 8.0, 8.6, 8.9 and 9.0", lowest first; "none (a CPU-only build)" when empty.
  std::string describe() const;
};

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
