// GpuInventory: the NVIDIA GPUs of this host and the driver and CUDA versions that serve
// them. SystemGpuInventory asks the driver through libnvidia-ml (NVML) and libcuda, both
// opened with dlopen at run time, so one trainyard binary runs with or without a driver.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/accelerator.h"

namespace trainyard::platform {

inline constexpr double kBytesPerGib = 1024.0 * 1024.0 * 1024.0;

// A CUDA version such as 12.4, as the driver API encodes it (12040).
struct CudaVersion {
  int major = 0;
  int minor = 0;

  static CudaVersion from_encoded(int encoded) { return {encoded / 1000, (encoded % 1000) / 10}; }
  std::string to_string() const;  // "12.4"
  auto operator<=>(const CudaVersion&) const = default;
};

// One GPU as the driver reports it. Optional fields are empty where the driver does not
// say (older GPUs, no permission, or only the CUDA driver API was available).
struct GpuInfo {
  int index = 0;     // NVML's order, the one nvidia-smi prints
  std::string name;  // "NVIDIA A10G"
  std::string uuid;  // "GPU-8c3a...", stable across reboots
  std::uint64_t total_memory_bytes = 0;
  std::optional<std::uint64_t> free_memory_bytes;
  ComputeCapability compute_capability;
  std::string pci_bus_id;  // "00000000:00:1E.0"; may be empty
  std::optional<bool> persistence_mode;
  std::optional<bool> ecc_enabled;
  std::optional<bool> mig_enabled;

  double total_memory_gib() const { return static_cast<double>(total_memory_bytes) / kBytesPerGib; }
};

// What one host has. Implementations are immutable once built, so every method is safe to
// call from any thread.
class GpuInventory {
 public:
  virtual ~GpuInventory() = default;

  // Every GPU found, in index order; empty when none was found or detection failed.
  virtual std::vector<GpuInfo> gpus() const = 0;
  // The kernel driver's version, e.g. "550.54.15"; empty when no driver was found.
  virtual std::optional<std::string> driver_version() const = 0;
  // The newest CUDA version the driver supports; empty when unknown.
  virtual std::optional<CudaVersion> cuda_driver_version() const = 0;
  // The version of the CUDA runtime library (libcudart) found; empty when none was found.
  virtual std::optional<CudaVersion> runtime_version() const = 0;
  // Why no GPU could be listed (no driver, driver failed to initialise, ...); empty when
  // detection worked, even if it found no GPU.
  virtual std::string detection_error() const = 0;
  // Things that went wrong without stopping detection (one GPU unreadable, no libcudart).
  virtual std::vector<std::string> warnings() const = 0;

  // One sentence for people: "2 NVIDIA GPUs, driver 550.54.15, CUDA 12.4" or why none.
  std::string summary() const;
};

// Where SystemGpuInventory looks for the driver's libraries. The defaults are the sonames
// the NVIDIA driver installs; tests and unusual installs point them elsewhere.
struct GpuDetectionOptions {
  std::string nvml_library = "libnvidia-ml.so.1";
  std::string cuda_driver_library = "libcuda.so.1";
  // Tried in order; the first that opens gives the runtime version.
  std::vector<std::string> cuda_runtime_libraries = {"libcudart.so", "libcudart.so.13",
                                                     "libcudart.so.12", "libcudart.so.11.0"};

  // The defaults, with TRAINYARD_NVML_LIBRARY, TRAINYARD_CUDA_DRIVER_LIBRARY and
  // TRAINYARD_CUDA_RUNTIME_LIBRARY (each a path) replacing them where set.
  static GpuDetectionOptions from_environment();
};

// The real host, asked once at construction: NVML first (names, UUIDs, memory, PCI ids,
// persistence/ECC/MIG), the CUDA driver API when NVML is missing. Never throws and never
// crashes for lack of a driver: detection_error() says what was missing.
class SystemGpuInventory final : public GpuInventory {
 public:
  explicit SystemGpuInventory(const GpuDetectionOptions& options = GpuDetectionOptions());

  std::vector<GpuInfo> gpus() const override { return gpus_; }
  std::optional<std::string> driver_version() const override { return driver_version_; }
  std::optional<CudaVersion> cuda_driver_version() const override { return cuda_driver_version_; }
  std::optional<CudaVersion> runtime_version() const override { return runtime_version_; }
  std::string detection_error() const override { return detection_error_; }
  std::vector<std::string> warnings() const override { return warnings_; }

 private:
  // Fills the members below from NVML; returns false, with the reason in `why`, when NVML
  // could not be used at all.
  bool detect_with_nvml(const std::string& library, std::string& why);
  // Same from the CUDA driver API (libcuda), used when NVML is unavailable.
  bool detect_with_cuda_driver(const std::string& library, bool enumerate, std::string& why);
  void detect_runtime(const std::vector<std::string>& libraries);

  std::vector<GpuInfo> gpus_;
  std::optional<std::string> driver_version_;
  std::optional<CudaVersion> cuda_driver_version_;
  std::optional<CudaVersion> runtime_version_;
  std::string detection_error_;
  std::vector<std::string> warnings_;
};

}  // namespace trainyard::platform
