// One SageMaker training instance type: its CPU, memory and accelerators, and its price
// where one is known. Unknown facts stay empty (std::nullopt), never zero.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "platform/accelerator.h"

namespace trainyard::platform {

// The names of SageMaker local mode's two instance types, whose resources are this host's.
inline constexpr std::string_view kLocalInstanceType = "local";
inline constexpr std::string_view kLocalGpuInstanceType = "local_gpu";

struct InstanceType {
  std::string name;    // "ml.p4d.24xlarge", "local", "local_gpu"
  std::string family;  // "p4d", "p6-b200"; "local" for both local-mode types
  std::optional<int> vcpus;
  std::optional<double> memory_gib;  // host memory
  AcceleratorKind accelerator_kind = AcceleratorKind::kNone;
  std::optional<int> accelerator_count;                 // 0 for CPU-only types
  std::string accelerator_model;                        // "NVIDIA A10G"; empty for CPU-only types
  std::optional<double> accelerator_memory_gib;         // per accelerator
  std::string accelerator_architecture;                 // "Ampere"; may be empty
  std::optional<ComputeCapability> compute_capability;  // NVIDIA GPUs only
  std::string interconnect;                             // free text, e.g. "NVLink 2; EFA"
  std::string network_gbps;                  // as published: "25", "up to 10"; may be empty
  std::optional<double> price_usd_per_hour;  // on-demand in us-east-1
  std::string price_source;                  // where the price came from, or "unknown"
  std::string notes;
  // SageMaker local mode: the type stands for this host, and its resources are filled in
  // by InstanceCatalog::resolve.
  bool local = false;

  bool has_nvidia_gpus() const { return accelerator_kind == AcceleratorKind::kNvidiaGpu; }
  // Number of NVIDIA GPUs: 0 for CPU-only and non-NVIDIA accelerators, empty when the
  // catalog does not know the count.
  std::optional<int> gpu_count() const {
    return has_nvidia_gpus() ? accelerator_count : std::optional<int>(0);
  }
};

// The family part of an instance type name: "ml.g5.xlarge" -> "g5",
// "ml.p6-b200.48xlarge" -> "p6-b200". A name without the ml.<family>.<size> shape is its
// own family.
std::string instance_family(std::string_view name);

}  // namespace trainyard::platform
