#include "jobs/placement/placement_text.h"

#include <cstdio>

namespace trainyard::jobs::detail {
namespace {

using platform::ComputeCapability;
using platform::GpuInfo;
using platform::InstanceType;

// Identical GPUs with the same verdict, described once: "2 x NVIDIA T4, 16 GiB, ...".
struct GpuGroup {
  std::string description;
  std::string reason;  // empty for GPUs that qualify
  int count = 0;
};

std::vector<GpuGroup> group_gpus(const std::vector<GpuInfo>& gpus,
                                 const GpuRequirement& requirement, bool qualifying) {
  std::vector<GpuGroup> groups;
  for (const GpuInfo& gpu : gpus) {
    std::string reason = requirement.unsuitable_reason(gpu);
    if (reason.empty() != qualifying) continue;
    std::string description = gpu.name + ", " + format_gib(gpu.total_memory_gib()) +
                              " GiB, compute capability " + gpu.compute_capability.to_string();
    bool grouped = false;
    for (GpuGroup& group : groups) {
      if (group.description == description && group.reason == reason) {
        ++group.count;
        grouped = true;
        break;
      }
    }
    if (!grouped) groups.push_back({std::move(description), std::move(reason), 1});
  }
  return groups;
}

int count_of(const std::vector<GpuGroup>& groups) {
  int count = 0;
  for (const GpuGroup& group : groups) count += group.count;
  return count;
}

std::string describe(const std::vector<GpuGroup>& groups) {
  std::vector<std::string> parts;
  for (const GpuGroup& group : groups) {
    std::string part = std::to_string(group.count) + " x " + group.description;
    if (!group.reason.empty()) part += ": " + group.reason;
    parts.push_back(std::move(part));
  }
  return join(parts, "; ");
}

bool servable(const InstanceType& type, const BuildTargets& targets) {
  return type.has_nvidia_gpus() && type.compute_capability && type.gpu_count().value_or(0) > 0 &&
         !type.local && *type.compute_capability >= kOldestCudaArchitecture &&
         targets.serves(*type.compute_capability);
}

// "ml.g4dn (NVIDIA T4, 7.5)".
std::string family_label(const InstanceType& type) {
  return "ml." + type.family + " (" + type.accelerator_model + ", " +
         type.compute_capability->to_string() + ")";
}

// "NVIDIA L4 (Ada Lovelace, compute capability 8.9)".
std::string gpu_label(const InstanceType& type) {
  std::string text = type.accelerator_model + " (";
  if (!type.accelerator_architecture.empty()) text += type.accelerator_architecture + ", ";
  return text + "compute capability " + type.compute_capability->to_string() + ")";
}

}  // namespace

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

std::string instances(const InstanceType& type, int count) {
  return count == 1 ? type.name : std::to_string(count) + " x " + type.name;
}

std::string gpu_need(const InstanceType& type, const GpuRequirement& requirement) {
  const int total = requirement.total_gpus();
  std::string text = instances(type, requirement.hosts) +
                     (requirement.hosts == 1 ? " needs " : " need ") + std::to_string(total) +
                     (total == 1 ? " GPU" : " GPUs");
  if (requirement.hosts > 1) text += ", " + std::to_string(requirement.gpus_per_host) + " per host";
  if (requirement.min_memory_gib > 0) {
    text += std::string(requirement.hosts > 1 ? "," : "") + " with at least " +
            format_gib(requirement.min_memory_gib) + " GiB" + (total > 1 ? " each" : "");
  }
  std::vector<std::string> facts;
  if (!type.accelerator_model.empty()) facts.push_back(type.accelerator_model);
  if (type.compute_capability) {
    facts.push_back("compute capability " + type.compute_capability->to_string());
  }
  if (!facts.empty()) text += " (" + join(facts, ", ") + ")";
  return text;
}

std::string host_gpus(const platform::GpuInventory& inventory, const GpuRequirement& requirement) {
  auto gpus = inventory.gpus();
  if (gpus.empty()) {
    std::string text = "this host has no NVIDIA GPU";
    if (!inventory.detection_error().empty()) text += " (" + inventory.detection_error() + ")";
    return text;
  }
  auto qualifying = group_gpus(gpus, requirement, true);
  auto others = group_gpus(gpus, requirement, false);
  const int qualifying_count = count_of(qualifying);
  const int other_count = count_of(others);
  if (qualifying_count == 0)
    return "this host has no GPU that qualifies (" + describe(others) + ")";
  std::string text = "this host has only " + std::to_string(qualifying_count) +
                     (qualifying_count == 1 ? " that qualifies (" : " that qualify (") +
                     describe(qualifying) + ")";
  if (other_count > 0) {
    text += " and " + std::to_string(other_count) +
            (other_count == 1 ? " that does not (" : " that do not (") + describe(others) + ")";
  }
  return text;
}

std::string cuda_architecture_note(const InstanceType& type,
                                   const platform::InstanceCatalog& catalog,
                                   const BuildTargets& targets) {
  const ComputeCapability capability = *type.compute_capability;
  std::string code_for = type.accelerator_architecture.empty()
                             ? "compute capability " + capability.to_string()
                             : type.accelerator_architecture;
  std::string text = gpu_label(type) + " needs code built for " + code_for;
  // Kepler went with CUDA 12; Maxwell, Pascal and Volta with CUDA 13.
  if (capability.major < 5) {
    text += ", which CUDA 12 dropped, and CUDA 13 dropped everything before Turing (" +
            kOldestCudaArchitecture.to_string() + ")";
  } else {
    text += ", which CUDA 13 dropped along with everything else before Turing (" +
            kOldestCudaArchitecture.to_string() + ")";
  }
  const InstanceType* oldest = nullptr;
  for (const InstanceType& candidate : catalog.all()) {
    if (servable(candidate, targets) &&
        (oldest == nullptr || *candidate.compute_capability < *oldest->compute_capability)) {
      oldest = &candidate;
    }
  }
  if (oldest != nullptr) text += "; pick " + family_label(*oldest) + " or newer";
  return text + ".";
}

std::string build_targets_note(const InstanceType& type, const platform::InstanceCatalog& catalog,
                               const BuildTargets& targets) {
  const ComputeCapability capability = *type.compute_capability;
  std::string text = "this build of trainyard has no code for the " + gpu_label(type) +
                     ": it targets compute capability " + targets.describe();
  // The servable GPU nearest below the one asked for, else the oldest servable one.
  const InstanceType* nearest = nullptr;
  for (const InstanceType& candidate : catalog.all()) {
    if (!servable(candidate, targets)) continue;
    const ComputeCapability& here = *candidate.compute_capability;
    if (nearest == nullptr) {
      nearest = &candidate;
      continue;
    }
    const ComputeCapability& best = *nearest->compute_capability;
    bool here_below = here <= capability, best_below = best <= capability;
    if ((here_below && (!best_below || here > best)) ||
        (!here_below && !best_below && here < best)) {
      nearest = &candidate;
    }
  }
  if (nearest != nullptr)
    text += "; pick a type whose GPU it targets, such as " + family_label(*nearest);
  return text + ", or build trainyard for compute capability " + capability.to_string() + ".";
}

std::string priced(const InstanceType& type) {
  if (!type.price_usd_per_hour) return type.name + " (price unknown)";
  char price[32];
  std::snprintf(price, sizeof(price), "%g", *type.price_usd_per_hour);
  return type.name + " ($" + price + "/h)";
}

}  // namespace trainyard::jobs::detail
