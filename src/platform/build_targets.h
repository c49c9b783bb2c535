// What this build of trainyard compiled for: the GPU architectures its CUDA kernels target
// and the CUDA toolkit they were compiled with. Placement and the doctor both judge GPUs by it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/accelerator.h"
#include "platform/gpu_inventory.h"

namespace trainyard::platform {

// The oldest architecture CUDA 13 compiles for: Turing, compute capability 7.5. CUDA 13
// dropped Maxwell, Pascal and Volta (5.x to 7.2); CUDA 12 had already dropped Kepler (3.x).
inline constexpr ComputeCapability kOldestCudaArchitecture{7, 5};

// How a build's code reaches a GPU of some compute capability.
enum class KernelFit {
  kMachineCode,  // a target with the same major and no higher minor: runs as compiled
  kPtxOnly,      // only an older major's PTX: the driver compiles it at first use
  kNone,         // nothing this GPU can run ("no kernel image is available")
};

// The GPU architectures this build of trainyard carries kernels for.
struct BuildTargets {
  std::vector<ComputeCapability> architectures;  // empty: a CPU-only build

  // This build's targets, from CMAKE_CUDA_ARCHITECTURES at configure time.
  static BuildTargets of_this_build();
  // Parses CMake's list ("75;80;86", "90-real", "89-virtual"); a bad entry is a ValueError.
  static BuildTargets parse(std::string_view cmake_architectures);

  bool cpu_only() const { return architectures.empty(); }
  // True when this build has code a GPU of `capability` can run as compiled: a target with
  // the same major version and a minor version no higher (code for 8.0 runs on 8.6, not on
  // 9.0), as CUDA's binary compatibility allows. True for every GPU in a CPU-only build,
  // which has no GPU code to be wrong about.
  bool serves(ComputeCapability capability) const;
  // serves(), refined: each target also embeds PTX (CMake's default), which newer GPUs
  // compile at load time. kMachineCode for every GPU in a CPU-only build.
  KernelFit fit(ComputeCapability capability) const;
  // "7.5, 8.0, 8.6, 8.9 and 9.0", lowest first; "none (a CPU-only build)" when empty.
  std::string describe() const;
  // "7.5–9.0", or the one capability, as the CUDA backend's errors name the range.
  std::string range() const;
};

// The CUDA toolkit version this build's kernels were compiled with; empty without CUDA.
std::optional<CudaVersion> cuda_toolkit_of_this_build();

}  // namespace trainyard::platform
