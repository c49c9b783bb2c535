#include "jobs/placement/gpu_requirement.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace trainyard::jobs {

bool BuildTargets::serves(platform::ComputeCapability capability) const {
  if (cpu_only()) return true;
  return std::any_of(architectures.begin(), architectures.end(),
                     [&](const platform::ComputeCapability& target) {
                       return target.major == capability.major && target.minor <= capability.minor;
                     });
}

std::string BuildTargets::describe() const {
  if (cpu_only()) return "none (a CPU-only build)";
  auto sorted = architectures;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string text;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0) text += i + 1 == sorted.size() ? " and " : ", ";
    text += sorted[i].to_string();
  }
  return text;
}

std::string GpuRequirement::unsuitable_reason(const platform::GpuInfo& gpu) const {
  std::vector<std::string> reasons;
  const std::string capability = gpu.compute_capability.to_string();
  if (gpu.compute_capability < kOldestCudaArchitecture) {
    reasons.push_back("compute capability " + capability + ", older than CUDA 13 supports (" +
                      kOldestCudaArchitecture.to_string() + ")");
  } else if (!build_targets.serves(gpu.compute_capability)) {
    reasons.push_back("compute capability " + capability + ", which this build has no code for");
  }
  if (min_compute_capability && gpu.compute_capability < *min_compute_capability &&
      gpu.compute_capability >= kOldestCudaArchitecture) {
    reasons.push_back("compute capability " + capability + ", below " +
                      min_compute_capability->to_string());
  }
  if (min_memory_gib > 0 && gpu.total_memory_gib() < kGpuMemoryTolerance * min_memory_gib) {
    reasons.push_back("less than " + format_gib(min_memory_gib) + " GiB");
  }
  std::string text;
  for (const std::string& reason : reasons) {
    if (!text.empty()) text += " and ";
    text += reason;
  }
  return text;
}

std::string format_gib(double gib) {
  char text[32];
  if (std::fabs(gib - std::round(gib)) < 0.05) {
    std::snprintf(text, sizeof(text), "%.0f", gib);
  } else {
    std::snprintf(text, sizeof(text), "%.1f", gib);
  }
  return text;
}

}  // namespace trainyard::jobs
