// The doctor: this host's GPU setup judged rule by rule (driver against CUDA, each GPU's
// architecture against CUDA 13 and this build's kernels, cuDNN/cuBLAS/NCCL/Open MPI, MIG,
// memory held by others), each with a verdict and one line on how to fix it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/build_targets.h"
#include "platform/gpu_inventory.h"
#include "platform/host_resources.h"
#include "platform/runtime_libraries.h"

namespace trainyard::platform {

enum class Verdict { kPass, kWarn, kFail };
std::string_view verdict_name(Verdict verdict);  // "PASS", "WARN", "FAIL"

struct DoctorCheck {
  std::string name;  // "driver", "gpu 0 architecture"
  Verdict verdict = Verdict::kPass;
  std::string finding;  // what was found, one sentence
  std::string fix;      // how to fix it; empty for a pass
};

// Everything the rules look at, gathered beforehand so tests can describe any host.
struct DoctorFacts {
  const GpuInventory* inventory = nullptr;
  RuntimeLibraries libraries;
  BuildTargets build_targets;
  std::optional<CudaVersion> build_cuda;  // the toolkit this build compiled with
  HostResources host;
  // The CPU backend's self-check: empty when it passed, else what went wrong.
  std::string cpu_check_error;
};

struct DoctorReport {
  std::vector<DoctorCheck> checks;

  bool failed() const;
  int count(Verdict verdict) const;
};

// Applies every rule to `facts`. REQUIRES: facts.inventory is set.
DoctorReport examine(const DoctorFacts& facts);

// The oldest driver each CUDA major version needs ("580" for 13, "525.60.13" for 12,
// "450.80.02" for 11); empty for a major it does not know.
std::optional<std::string> minimum_driver_for(int cuda_major);
// Compares dotted driver versions number by number ("580.65.06" > "575.57.08"); a missing
// component counts as 0.
int compare_driver_versions(std::string_view a, std::string_view b);

}  // namespace trainyard::platform
