#include "jobs/placement/gpu_requirement.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace trainyard::jobs {

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
