// Placement: can a job's ResourceConfig ever run on this host, and with what? Each of the
// job's InstanceCount "hosts" becomes a process group on this machine owning its own share
// of the GPUs. The answer is either what the job needs (hosts, GPUs per host and which GPUs
// qualify, vCPUs and memory per host) or one paragraph a user can act on: what is missing,
// why, and which instance types would fit instead.
//
// Refused: unknown types, InstanceGroups, Trainium/Inferentia types, GPU types whose
// architecture CUDA 13 or this build cannot serve, and too few qualifying GPUs on this host.
// vCPU and memory shortfalls are warnings (the job runs, slower or at risk of running out
// of memory) unless PlacementOptions::strict makes them refusals.
//
// Pure functions of their arguments: safe to call from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/job_spec.h"
#include "jobs/placement/gpu_requirement.h"
#include "platform/gpu_inventory.h"
#include "platform/host_resources.h"
#include "platform/instance_catalog.h"
#include "platform/instance_type.h"

namespace trainyard::jobs {

// This machine as placement sees it. The catalog and inventory must outlive the call.
struct PlacementHost {
  const platform::InstanceCatalog& catalog;  // usually InstanceCatalog::builtin()
  const platform::GpuInventory& gpus;
  platform::HostResources resources;
  BuildTargets build_targets;  // empty: a CPU-only build (GPU jobs get a warning, not refused)
};

struct PlacementOptions {
  // Default false: too few vCPUs or too little memory only warns. True: it refuses.
  bool strict = false;
  // Default 5: how many fitting instance types a refusal suggests (cheapest first).
  std::size_t suggestion_count = 5;
};

// What a job that fits needs from this host.
struct JobPlacement {
  // The type as placed: catalogued facts, or for `local` / `local_gpu` this host's.
  platform::InstanceType instance_type;
  // hosts = InstanceCount; gpus_per_host = the type's GPU count (all usable GPUs for
  // local_gpu, 0 for CPU types); the memory and compute capability each GPU needs.
  GpuRequirement gpus;
  std::optional<int> vcpus_per_host;          // empty when the catalog does not know
  std::optional<double> memory_gib_per_host;  // empty when the catalog or OS does not say

  int hosts() const { return gpus.hosts; }
};

struct PlacementDecision {
  std::optional<JobPlacement> placement;  // set when the job fits this host
  // When it does not: one paragraph, what the type needs, what this host lacks, and the
  // types that would fit. Report it as the FailureReason "ClientError: <refusal>".
  std::string refusal;
  // Things that do not stop the job but the user should know (fewer vCPUs than the type
  // has, a CPU-only build, GPUs local_gpu leaves out). Each one sentence.
  std::vector<std::string> warnings;

  bool fits() const { return placement.has_value(); }
};

// Places the job whose resources are `resources` on `host`. Never throws for anything a
// job file can say: every problem is a refusal. InstanceGroups are refused as not yet
// supported.
PlacementDecision place_job(const ResourceConfig& resources, const PlacementHost& host,
                            const PlacementOptions& options = PlacementOptions());

// The same for `instance_count` instances of the type named `instance_type` ("ml.g5.xlarge",
// "local", "local_gpu"); for `trainyard advise` and other callers without a ResourceConfig.
PlacementDecision place_instance_type(std::string_view instance_type, int instance_count,
                                      const PlacementHost& host,
                                      const PlacementOptions& options = PlacementOptions());

}  // namespace trainyard::jobs
