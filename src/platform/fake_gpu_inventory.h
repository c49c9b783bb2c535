// FakeGpuInventory: a GpuInventory that describes whatever host a test needs (eight A10Gs,
// a mixed box, a machine with no driver), so the layers above test GPU logic anywhere.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/gpu_inventory.h"

namespace trainyard::platform {

// The driver facts a fake host reports.
struct FakeDriver {
  std::optional<std::string> driver_version = "550.54.15";
  std::optional<CudaVersion> cuda_driver_version = CudaVersion{12, 4};
  std::optional<CudaVersion> runtime_version = CudaVersion{12, 4};
};

class FakeGpuInventory final : public GpuInventory {
 public:
  using Driver = FakeDriver;

  // Exactly `gpus`, with `driver`'s versions. Indices are taken as given.
  explicit FakeGpuInventory(std::vector<GpuInfo> gpus, Driver driver = Driver());

  // `count` identical GPUs of the catalog's accelerator model `model` ("A10G", "K80",
  // "A100 80GB"; see InstanceCatalog::require_accelerator_model): its name, memory (all of
  // it free) and compute capability, UUIDs GPU-fake-0000-0000-0000-00000000000<i>, PCI
  // bus ids 00000000:<10+i>:00.0. Throws ValueError for an unknown, ambiguous or
  // non-NVIDIA model, or one whose memory the catalog does not know.
  static FakeGpuInventory of(std::string_view model, int count, Driver driver = Driver());

  // A host without GPUs whose detection failed for `reason`, as on a machine without the
  // NVIDIA driver.
  static FakeGpuInventory without_gpus(std::string reason);

  std::vector<GpuInfo> gpus() const override { return gpus_; }
  std::optional<std::string> driver_version() const override { return driver_.driver_version; }
  std::optional<CudaVersion> cuda_driver_version() const override {
    return driver_.cuda_driver_version;
  }
  std::optional<CudaVersion> runtime_version() const override { return driver_.runtime_version; }
  std::string detection_error() const override { return detection_error_; }
  std::vector<std::string> warnings() const override { return {}; }

 private:
  std::vector<GpuInfo> gpus_;
  Driver driver_;
  std::string detection_error_;
};

}  // namespace trainyard::platform
