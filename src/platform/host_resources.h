// The CPU and memory of the machine trainyard runs on, as SageMaker local mode sees them.
#pragma once

#include <optional>

namespace trainyard::platform {

struct HostResources {
  int vcpus = 0;                     // logical CPUs this process may run on
  std::optional<double> memory_gib;  // physical memory; empty when the OS does not say

  // Reads this host's figures. Never throws.
  static HostResources detect();
};

}  // namespace trainyard::platform
