#include "platform/fake_gpu_inventory.h"

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "platform/instance_catalog.h"

namespace trainyard::platform {

FakeGpuInventory::FakeGpuInventory(std::vector<GpuInfo> gpus, Driver driver)
    : gpus_(std::move(gpus)), driver_(std::move(driver)) {}

FakeGpuInventory FakeGpuInventory::of(std::string_view model, int count, Driver driver) {
  if (count < 0) {
    throw ValueError("FakeGpuInventory::of: count must be >= 0, got " + std::to_string(count));
  }
  const AcceleratorModel& facts = InstanceCatalog::builtin().require_accelerator_model(model);
  if (facts.kind != AcceleratorKind::kNvidiaGpu || !facts.compute_capability) {
    throw ValueError("FakeGpuInventory::of: '" + facts.name + "' is not an NVIDIA GPU");
  }
  if (!facts.memory_gib) {
    throw ValueError("FakeGpuInventory::of: the catalog does not know the memory of '" +
                     facts.name + "'");
  }
  std::vector<GpuInfo> gpus;
  for (int i = 0; i < count; ++i) {
    GpuInfo gpu;
    gpu.index = i;
    gpu.name = facts.name;
    char text[64];
    std::snprintf(text, sizeof(text), "GPU-fake-0000-0000-0000-%012d", i);
    gpu.uuid = text;
    std::snprintf(text, sizeof(text), "00000000:%02X:00.0", 0x10 + i);
    gpu.pci_bus_id = text;
    gpu.total_memory_bytes =
        static_cast<std::uint64_t>(std::llround(*facts.memory_gib * kBytesPerGib));
    gpu.free_memory_bytes = gpu.total_memory_bytes;
    gpu.compute_capability = *facts.compute_capability;
    gpu.persistence_mode = true;
    gpu.ecc_enabled = true;
    gpu.mig_enabled = false;
    gpus.push_back(std::move(gpu));
  }
  return FakeGpuInventory(std::move(gpus), std::move(driver));
}

FakeGpuInventory FakeGpuInventory::without_gpus(std::string reason) {
  FakeGpuInventory inventory({}, Driver{std::nullopt, std::nullopt, std::nullopt});
  inventory.detection_error_ = std::move(reason);
  return inventory;
}

}  // namespace trainyard::platform
