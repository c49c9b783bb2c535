#include "platform/fake_gpu_inventory.h"

#include <gtest/gtest.h>

#include <set>

#include "core/error.h"

namespace trainyard::platform {
namespace {

TEST(FakeGpuInventoryTest, OfFillsInTheCatalogModel) {
  auto inventory = FakeGpuInventory::of("A10G", 8);
  auto gpus = inventory.gpus();
  ASSERT_EQ(gpus.size(), 8u);
  std::set<std::string> uuids, buses;
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(gpus[i].index, i);
    EXPECT_EQ(gpus[i].name, "NVIDIA A10G");
    EXPECT_EQ(gpus[i].total_memory_bytes, 24ull << 30);
    EXPECT_EQ(gpus[i].free_memory_bytes, 24ull << 30);
    EXPECT_EQ(gpus[i].compute_capability, (ComputeCapability{8, 6}));
    EXPECT_EQ(gpus[i].uuid.rfind("GPU-fake-0000", 0), 0u) << gpus[i].uuid;
    uuids.insert(gpus[i].uuid);
    buses.insert(gpus[i].pci_bus_id);
  }
  EXPECT_EQ(uuids.size(), 8u);
  EXPECT_EQ(buses.size(), 8u);
  EXPECT_EQ(inventory.detection_error(), "");
  EXPECT_EQ(inventory.driver_version(), "550.54.15");
  EXPECT_EQ(inventory.summary(), "8 NVIDIA GPUs, driver 550.54.15, CUDA 12.4.");

  auto k80 = FakeGpuInventory::of("K80", 1).gpus();
  ASSERT_EQ(k80.size(), 1u);
  EXPECT_EQ(k80[0].compute_capability, (ComputeCapability{3, 7}));
  EXPECT_EQ(k80[0].total_memory_bytes, 12ull << 30);
  EXPECT_EQ(FakeGpuInventory::of("H100", 0).gpus().size(), 0u);
}

TEST(FakeGpuInventoryTest, OfRejectsWhatItCannotDescribe) {
  EXPECT_THROW(FakeGpuInventory::of("A100", 8), ValueError);      // 40GB or 80GB?
  EXPECT_THROW(FakeGpuInventory::of("Trainium", 1), ValueError);  // not an NVIDIA GPU
  EXPECT_THROW(FakeGpuInventory::of("GB200", 4), ValueError);     // memory not known
  EXPECT_THROW(FakeGpuInventory::of("Voodoo2", 1), ValueError);   // not in the catalog
  EXPECT_THROW(FakeGpuInventory::of("A10G", -1), ValueError);
}

TEST(FakeGpuInventoryTest, ExplicitListAndDriverAreKept) {
  GpuInfo gpu;
  gpu.index = 3;
  gpu.name = "NVIDIA L4";
  gpu.total_memory_bytes = 1000;
  FakeGpuInventory inventory({gpu}, FakeDriver{"535.1", CudaVersion{12, 2}, std::nullopt});
  ASSERT_EQ(inventory.gpus().size(), 1u);
  EXPECT_EQ(inventory.gpus()[0].index, 3);
  EXPECT_EQ(inventory.driver_version(), "535.1");
  EXPECT_FALSE(inventory.runtime_version().has_value());
  EXPECT_EQ(inventory.summary(), "1 NVIDIA GPU, driver 535.1, CUDA 12.2.");
}

TEST(FakeGpuInventoryTest, WithoutGpusCarriesTheReason) {
  auto inventory = FakeGpuInventory::without_gpus("no NVIDIA driver found (test)");
  EXPECT_TRUE(inventory.gpus().empty());
  EXPECT_FALSE(inventory.driver_version().has_value());
  EXPECT_EQ(inventory.detection_error(), "no NVIDIA driver found (test)");
  EXPECT_EQ(inventory.summary(), "No NVIDIA GPU found: no NVIDIA driver found (test).");
}

}  // namespace
}  // namespace trainyard::platform
