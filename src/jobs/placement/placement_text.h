// The sentences of placement's refusals and warnings, kept apart from the decisions so
// placement.cpp reads as the rules. Internal to src/jobs/placement.
#pragma once

#include <string>
#include <vector>

#include "jobs/placement/gpu_requirement.h"
#include "platform/gpu_inventory.h"
#include "platform/instance_catalog.h"
#include "platform/instance_type.h"

namespace trainyard::jobs::detail {

std::string join(const std::vector<std::string>& items, const std::string& separator);

// "ml.g5.xlarge" for one instance, "2 x ml.g5.xlarge" for several.
std::string instances(const platform::InstanceType& type, int count);

// "ml.g5.12xlarge needs 4 GPUs with at least 24 GiB each (NVIDIA A10G, compute capability
// 8.6)"; "2 x ... need 8 GPUs, 4 per host, ...".
std::string gpu_need(const platform::InstanceType& type, const GpuRequirement& requirement);

// What this host's GPUs offer against `requirement`: "this host has no NVIDIA GPU (<why>)",
// "this host has only 2 that qualify (2 x NVIDIA A10G, 24 GiB, compute capability 8.6)",
// "this host has no GPU that qualifies (8 x NVIDIA A10G, ...: less than 40 GiB)".
std::string host_gpus(const platform::GpuInventory& inventory, const GpuRequirement& requirement);

// Why no CUDA 13 build can serve a GPU of `type`, with the oldest catalog type that can:
// "NVIDIA Tesla K80 (GK210) (Kepler, compute capability 3.7) needs code built for Kepler,
// which CUDA 12 dropped, and CUDA 13 dropped everything before Turing (7.5); pick ml.g4dn
// (NVIDIA T4, 7.5) or newer."
std::string cuda_architecture_note(const platform::InstanceType& type,
                                   const platform::InstanceCatalog& catalog,
                                   const BuildTargets& targets);

// Why this build cannot serve a GPU of `type`, and a catalog type whose GPU it can.
std::string build_targets_note(const platform::InstanceType& type,
                               const platform::InstanceCatalog& catalog,
                               const BuildTargets& targets);

// "ml.m5.xlarge ($0.23/h)" or "ml.g6.xlarge (price unknown)".
std::string priced(const platform::InstanceType& type);

}  // namespace trainyard::jobs::detail
