#include "jobs/placement/placement.h"

#include <algorithm>
#include <tuple>

#include "core/error.h"
#include "jobs/placement/placement_text.h"

namespace trainyard::jobs {
namespace {

using detail::instances;
using detail::join;
using platform::AcceleratorKind;
using platform::GpuInfo;
using platform::InstanceType;

// A vCPU or memory shortfall: what is short, and what that means for a job that runs anyway.
struct Shortfall {
  std::string what;
  std::string consequence;
};

std::vector<Shortfall> shortfalls(const InstanceType& type, int count,
                                  const platform::HostResources& host) {
  std::vector<Shortfall> found;
  if (type.vcpus && host.vcpus > 0 && *type.vcpus * count > host.vcpus) {
    std::string what = count == 1 ? type.name + " has " + std::to_string(*type.vcpus) + " vCPUs"
                                  : instances(type, count) + " have " +
                                        std::to_string(*type.vcpus * count) + " vCPUs (" +
                                        std::to_string(*type.vcpus) + " each)";
    found.push_back(
        {what + " and this host has " + std::to_string(host.vcpus), "the job runs, more slowly"});
  }
  // The OS reports a little less memory than is installed (15.5 GiB on a 16 GiB machine), so
  // the same tolerance as for GPU memory keeps a 16 GiB type quiet there.
  if (type.memory_gib && host.memory_gib &&
      *type.memory_gib * count * kGpuMemoryTolerance > *host.memory_gib) {
    std::string what =
        count == 1 ? type.name + " has " + format_gib(*type.memory_gib) + " GiB of memory"
                   : instances(type, count) + " have " + format_gib(*type.memory_gib * count) +
                         " GiB of memory (" + format_gib(*type.memory_gib) + " each)";
    found.push_back({what + " and this host has " + format_gib(*host.memory_gib),
                     "the job runs, but may run out of memory"});
  }
  return found;
}

// Shortfalls become warnings, or under strict placement reasons to refuse.
void sort_shortfalls(const std::vector<Shortfall>& found, const PlacementOptions& options,
                     std::vector<std::string>& warnings, std::vector<std::string>& reasons) {
  for (const Shortfall& shortfall : found) {
    if (options.strict) {
      reasons.push_back(shortfall.what);
    } else {
      warnings.push_back(shortfall.what + ": " + shortfall.consequence + ".");
    }
  }
}

// A requirement any GPU CUDA 13 and this build can drive meets.
GpuRequirement any_usable_gpu(const BuildTargets& targets) {
  return GpuRequirement{.hosts = 1, .gpus_per_host = 1, .build_targets = targets};
}

std::vector<GpuInfo> usable_gpus(const PlacementHost& host) {
  GpuRequirement requirement = any_usable_gpu(host.build_targets);
  std::vector<GpuInfo> usable;
  for (const GpuInfo& gpu : host.gpus.gpus()) {
    if (requirement.accepts(gpu)) usable.push_back(gpu);
  }
  return usable;
}

std::string cpu_only_build_warning() {
  return "this build of trainyard has no CUDA kernels, so its built-in trainer runs on the CPU; "
         "the GPUs are still reserved for the job, for an entry point of its own.";
}

PlacementDecision place_type(const InstanceType& type, int count, const PlacementHost& host,
                             const PlacementOptions& options, bool suggest);

// "Types that fit this host: ml.m5.large ($0.115/h), ..., or local (...)." The cheapest first;
// types that fit without a warning before those that fit with one; unknown prices after
// known ones, smallest first.
std::string suggestions(int count, bool gpu_types, const PlacementHost& host,
                        const PlacementOptions& options) {
  struct Candidate {
    const InstanceType* type;
    bool warned;
  };
  std::vector<Candidate> fitting;
  for (const InstanceType& type : host.catalog.all()) {
    if (type.local) continue;
    if (gpu_types ? !type.has_nvidia_gpus() : type.accelerator_kind != AcceleratorKind::kNone) {
      continue;
    }
    PlacementDecision decision = place_type(type, count, host, options, false);
    if (decision.fits()) fitting.push_back({&type, !decision.warnings.empty()});
  }
  auto key = [](const Candidate& candidate) {
    const InstanceType& type = *candidate.type;
    return std::make_tuple(candidate.warned, !type.price_usd_per_hour.has_value(),
                           type.price_usd_per_hour.value_or(0), type.gpu_count().value_or(0),
                           type.vcpus.value_or(0), type.memory_gib.value_or(0));
  };
  std::stable_sort(fitting.begin(), fitting.end(),
                   [&](const Candidate& a, const Candidate& b) { return key(a) < key(b); });
  std::vector<std::string> names;
  for (std::size_t i = 0; i < fitting.size() && i < options.suggestion_count; ++i) {
    names.push_back(detail::priced(*fitting[i].type));
  }
  std::string local;
  if (!gpu_types) {
    local = std::string(platform::kLocalInstanceType) + " (this host's CPUs, no GPU)";
  } else if (count == 1) {
    local = std::string(platform::kLocalGpuInstanceType) + " (this host with all of its GPUs)";
  }
  if (names.empty() && local.empty()) return "";
  std::string text = "Types that fit this host";
  if (count > 1) text += " with InstanceCount " + std::to_string(count);
  text += ": " + join(names, ", ");
  if (!local.empty()) text += names.empty() ? local : ", or " + local;
  return text + ".";
}

PlacementDecision refused(std::string message) {
  PlacementDecision decision;
  decision.refusal = std::move(message);
  return decision;
}

PlacementDecision place_local(int count, const PlacementHost& host) {
  InstanceType resolved =
      host.catalog.resolve(platform::kLocalInstanceType, host.resources, host.gpus);
  JobPlacement placement{
      .instance_type = resolved,
      .gpus = {.hosts = count, .gpus_per_host = 0, .build_targets = host.build_targets},
      .vcpus_per_host =
          host.resources.vcpus > 0 ? std::optional<int>(host.resources.vcpus) : std::nullopt,
      .memory_gib_per_host = host.resources.memory_gib};
  return PlacementDecision{.placement = std::move(placement)};
}

PlacementDecision place_local_gpu(const PlacementHost& host) {
  std::vector<GpuInfo> usable = usable_gpus(host);
  if (usable.empty()) {
    return refused("local_gpu needs an NVIDIA GPU trainyard can use; " +
                   detail::host_gpus(host.gpus, any_usable_gpu(host.build_targets)) + ".");
  }
  PlacementDecision decision;
  GpuRequirement requirement = any_usable_gpu(host.build_targets);
  for (const GpuInfo& gpu : host.gpus.gpus()) {
    std::string reason = requirement.unsuitable_reason(gpu);
    if (!reason.empty()) {
      decision.warnings.push_back("GPU " + std::to_string(gpu.index) + " (" + gpu.name +
                                  ") is left out of local_gpu: " + reason + ".");
    }
  }
  if (host.build_targets.cpu_only()) decision.warnings.push_back(cpu_only_build_warning());

  // local_gpu is this host with the GPUs it can use; describe it by the weakest of them.
  InstanceType resolved =
      host.catalog.resolve(platform::kLocalGpuInstanceType, host.resources, host.gpus);
  std::vector<std::string> models;
  const GpuInfo* least_memory = &usable.front();
  const GpuInfo* oldest = &usable.front();
  for (const GpuInfo& gpu : usable) {
    if (std::find(models.begin(), models.end(), gpu.name) == models.end()) {
      models.push_back(gpu.name);
    }
    if (gpu.total_memory_bytes < least_memory->total_memory_bytes) least_memory = &gpu;
    if (gpu.compute_capability < oldest->compute_capability) oldest = &gpu;
  }
  resolved.accelerator_count = static_cast<int>(usable.size());
  resolved.accelerator_model = join(models, " + ");
  resolved.accelerator_memory_gib = least_memory->total_memory_gib();
  resolved.compute_capability = oldest->compute_capability;

  requirement.gpus_per_host = static_cast<int>(usable.size());
  decision.placement = JobPlacement{.instance_type = std::move(resolved),
                                    .gpus = requirement,
                                    .vcpus_per_host = host.resources.vcpus > 0
                                                          ? std::optional<int>(host.resources.vcpus)
                                                          : std::nullopt,
                                    .memory_gib_per_host = host.resources.memory_gib};
  return decision;
}

PlacementDecision place_type(const InstanceType& type, int count, const PlacementHost& host,
                             const PlacementOptions& options, bool suggest) {
  const bool gpu_host = !usable_gpus(host).empty();
  auto refuse = [&](std::string message, bool gpu_suggestions) {
    PlacementDecision decision = refused(std::move(message));
    if (suggest) {
      std::string more = suggestions(count, gpu_suggestions, host, options);
      if (!more.empty()) decision.refusal += " " + more;
    }
    return decision;
  };

  if (type.name == platform::kLocalInstanceType) return place_local(count, host);
  if (type.name == platform::kLocalGpuInstanceType) {
    if (count != 1) {
      return refuse(
          "local_gpu runs this host as one instance with all of its GPUs, so "
          "InstanceCount must be 1, not " +
              std::to_string(count) + "; use local for several CPU instances.",
          gpu_host);
    }
    PlacementDecision decision = place_local_gpu(host);
    if (!decision.fits() && suggest) {
      std::string more = suggestions(count, false, host, options);
      if (!more.empty()) decision.refusal += " " + more;
    }
    return decision;
  }

  if (type.accelerator_kind == AcceleratorKind::kTrainium ||
      type.accelerator_kind == AcceleratorKind::kInferentia) {
    return refuse(type.name + " carries " + std::to_string(type.accelerator_count.value_or(0)) +
                      " x " + type.accelerator_model +
                      ", and trainyard does not support Trainium or Inferentia accelerators: it "
                      "runs jobs on NVIDIA GPUs and CPUs.",
                  gpu_host);
  }

  PlacementDecision decision;
  std::vector<std::string> reasons;
  sort_shortfalls(shortfalls(type, count, host.resources), options, decision.warnings, reasons);

  if (!type.has_nvidia_gpus()) {
    if (!reasons.empty()) {
      return refuse(instances(type, count) + (count == 1 ? " does" : " do") +
                        " not fit this host under strict placement: " + join(reasons, "; ") + ".",
                    false);
    }
    decision.placement = JobPlacement{
        .instance_type = type,
        .gpus = {.hosts = count, .gpus_per_host = 0, .build_targets = host.build_targets},
        .vcpus_per_host = type.vcpus,
        .memory_gib_per_host = type.memory_gib};
    return decision;
  }

  const std::optional<int> gpu_count = type.gpu_count();
  if (!gpu_count || *gpu_count <= 0) {
    return refuse("the instance catalog does not know how many GPUs " + type.name +
                      " has, so trainyard cannot place it.",
                  gpu_host);
  }
  GpuRequirement requirement{.hosts = count,
                             .gpus_per_host = *gpu_count,
                             .min_memory_gib = type.accelerator_memory_gib.value_or(0),
                             .min_compute_capability = type.compute_capability,
                             .build_targets = host.build_targets};
  std::string note;
  if (type.compute_capability && *type.compute_capability < kOldestCudaArchitecture) {
    note = detail::cuda_architecture_note(type, host.catalog, host.build_targets);
  } else if (type.compute_capability && !host.build_targets.serves(*type.compute_capability)) {
    note = detail::build_targets_note(type, host.catalog, host.build_targets);
  }
  auto gpus = host.gpus.gpus();
  const auto qualifying = std::count_if(
      gpus.begin(), gpus.end(), [&](const GpuInfo& gpu) { return requirement.accepts(gpu); });
  if (qualifying < requirement.total_gpus()) {
    reasons.insert(reasons.begin(), detail::host_gpus(host.gpus, requirement));
  }
  if (!reasons.empty() || !note.empty()) {
    std::string message = detail::gpu_need(type, requirement);
    if (!reasons.empty()) message += "; " + join(reasons, "; ");
    message += ".";
    if (!note.empty()) message += " " + note;
    return refuse(std::move(message), gpu_host);
  }

  if (!type.accelerator_memory_gib) {
    decision.warnings.push_back("the instance catalog does not know how much memory each GPU of " +
                                type.name + " has, so any GPU that otherwise qualifies is used.");
  }
  if (host.build_targets.cpu_only()) decision.warnings.push_back(cpu_only_build_warning());
  decision.placement = JobPlacement{.instance_type = type,
                                    .gpus = requirement,
                                    .vcpus_per_host = type.vcpus,
                                    .memory_gib_per_host = type.memory_gib};
  return decision;
}

}  // namespace

PlacementDecision place_instance_type(std::string_view instance_type, int instance_count,
                                      const PlacementHost& host, const PlacementOptions& options) {
  const InstanceType* type = host.catalog.find(instance_type);
  if (type == nullptr) {
    std::string message = "unknown instance type '" + std::string(instance_type) + "'";
    try {
      host.catalog.require(instance_type);  // throws, naming the closest known types
    } catch (const ValueError& error) {
      message = error.what();
    }
    return refused(message + ".");
  }
  if (instance_count < 1) {
    return refused("InstanceCount must be at least 1, got " + std::to_string(instance_count) + ".");
  }
  return place_type(*type, instance_count, host, options, true);
}

PlacementDecision place_job(const ResourceConfig& resources, const PlacementHost& host,
                            const PlacementOptions& options) {
  if (!resources.instance_groups.empty()) {
    return refused(
        "ResourceConfig.InstanceGroups (a heterogeneous cluster) is not supported by trainyard "
        "yet; give ResourceConfig.InstanceType and ResourceConfig.InstanceCount instead.");
  }
  if (!resources.instance_type) {
    return refused(
        "ResourceConfig.InstanceType is missing; name an instance type such as "
        "ml.m5.xlarge, or local to run on this host.");
  }
  if (!resources.instance_count) {
    return refused(
        "ResourceConfig.InstanceCount is missing; give the number of instances (1 "
        "for a single host).");
  }
  return place_instance_type(*resources.instance_type, *resources.instance_count, host, options);
}

}  // namespace trainyard::jobs
