#include "platform/gpu_inventory.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace trainyard::platform {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Sets an environment variable for one test and restores the absence after it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

GpuDetectionOptions nothing_installed() {
  GpuDetectionOptions options;
  options.nvml_library = "/nonexistent/libnvidia-ml.so.1";
  options.cuda_driver_library = "/nonexistent/libcuda.so.1";
  options.cuda_runtime_libraries = {"/nonexistent/libcudart.so"};
  return options;
}

TEST(SystemGpuInventoryTest, WithoutADriverReportsWhyAndNoGpus) {
  SystemGpuInventory inventory(nothing_installed());
  EXPECT_TRUE(inventory.gpus().empty());
  EXPECT_FALSE(inventory.driver_version().has_value());
  EXPECT_FALSE(inventory.cuda_driver_version().has_value());
  EXPECT_FALSE(inventory.runtime_version().has_value());
  std::string error = inventory.detection_error();
  EXPECT_TRUE(contains(error, "no NVIDIA driver found")) << error;
  EXPECT_TRUE(contains(error, "/nonexistent/libnvidia-ml.so.1 not loadable")) << error;
  EXPECT_TRUE(contains(error, "/nonexistent/libcuda.so.1 not loadable")) << error;
  EXPECT_TRUE(contains(inventory.summary(), "No NVIDIA GPU found: no NVIDIA driver found"));
}

TEST(SystemGpuInventoryTest, ThisHostIsDetectedWithoutThrowing) {
  std::unique_ptr<SystemGpuInventory> inventory;
  ASSERT_NO_THROW(inventory = std::make_unique<SystemGpuInventory>());
  // Asked independently: can the driver's library be opened here at all?
  void* nvml = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  void* cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (nvml != nullptr || cuda != nullptr) {
    if (nvml) dlclose(nvml);
    if (cuda) dlclose(cuda);
    GTEST_SKIP() << "this host has an NVIDIA driver library; the no-driver path is covered "
                    "by WithoutADriverReportsWhyAndNoGpus";
  }
  EXPECT_TRUE(inventory->gpus().empty());
  EXPECT_TRUE(contains(inventory->detection_error(),
                       "no NVIDIA driver found (libnvidia-ml.so.1 not loadable"))
      << inventory->detection_error();
}

TEST(SystemGpuInventoryTest, ReadsEveryFieldFromNvml) {
  GpuDetectionOptions options = nothing_installed();
  options.nvml_library = TRAINYARD_FAKE_NVML_LIBRARY;
  options.cuda_runtime_libraries = {"/nonexistent/libcudart.so", TRAINYARD_FAKE_CUDA_LIBRARY};
  SystemGpuInventory inventory(options);
  EXPECT_EQ(inventory.detection_error(), "");
  EXPECT_TRUE(inventory.warnings().empty());
  EXPECT_EQ(inventory.driver_version(), "550.54.15");
  EXPECT_EQ(inventory.cuda_driver_version(), (CudaVersion{12, 4}));
  EXPECT_EQ(inventory.runtime_version(), (CudaVersion{12, 2}));
  auto gpus = inventory.gpus();
  ASSERT_EQ(gpus.size(), 2u);

  EXPECT_EQ(gpus[0].index, 0);
  EXPECT_EQ(gpus[0].name, "NVIDIA A100-SXM4-80GB");
  EXPECT_EQ(gpus[0].uuid, "GPU-11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(gpus[0].total_memory_bytes, 80ull * 1024 * 1024 * 1024);
  EXPECT_EQ(gpus[0].free_memory_bytes, 80000000000ull);
  EXPECT_EQ(gpus[0].compute_capability, (ComputeCapability{8, 0}));
  EXPECT_EQ(gpus[0].pci_bus_id, "00000000:07:00.0");
  EXPECT_EQ(gpus[0].persistence_mode, true);
  EXPECT_EQ(gpus[0].ecc_enabled, true);
  EXPECT_EQ(gpus[0].mig_enabled, false);
  EXPECT_DOUBLE_EQ(gpus[0].total_memory_gib(), 80.0);

  EXPECT_EQ(gpus[1].index, 1);
  EXPECT_EQ(gpus[1].name, "Tesla T4");
  EXPECT_EQ(gpus[1].total_memory_bytes, 15ull * 1024 * 1024 * 1024);
  EXPECT_EQ(gpus[1].compute_capability, (ComputeCapability{7, 5}));
  EXPECT_EQ(gpus[1].pci_bus_id, "00000000:3B:00.0");
  EXPECT_EQ(gpus[1].persistence_mode, false);
  // The fake says "not supported" for these, which must read as unknown, not as off.
  EXPECT_FALSE(gpus[1].ecc_enabled.has_value());
  EXPECT_FALSE(gpus[1].mig_enabled.has_value());
  EXPECT_EQ(inventory.summary(), "2 NVIDIA GPUs, driver 550.54.15, CUDA 12.4.");
}

TEST(SystemGpuInventoryTest, OneUnreadableGpuDoesNotHideTheOthers) {
  ScopedEnv mode("TRAINYARD_FAKE_NVML_MODE", "second_gpu_forbidden");
  GpuDetectionOptions options = nothing_installed();
  options.nvml_library = TRAINYARD_FAKE_NVML_LIBRARY;
  SystemGpuInventory inventory(options);
  EXPECT_EQ(inventory.detection_error(), "");
  ASSERT_EQ(inventory.gpus().size(), 1u);
  ASSERT_EQ(inventory.warnings().size(), 1u);
  EXPECT_TRUE(contains(inventory.warnings()[0], "GPU 1 skipped")) << inventory.warnings()[0];
  EXPECT_TRUE(contains(inventory.warnings()[0], "Insufficient Permissions (4)"));
}

TEST(SystemGpuInventoryTest, NvmlThatCannotInitialiseIsReported) {
  ScopedEnv mode("TRAINYARD_FAKE_NVML_MODE", "init_fails");
  GpuDetectionOptions options = nothing_installed();
  options.nvml_library = TRAINYARD_FAKE_NVML_LIBRARY;
  SystemGpuInventory inventory(options);
  EXPECT_TRUE(inventory.gpus().empty());
  std::string error = inventory.detection_error();
  EXPECT_TRUE(contains(error, "NVIDIA driver unusable")) << error;
  EXPECT_TRUE(contains(error, "nvmlInit_v2 failed: Driver Not Loaded (9)")) << error;
}

TEST(SystemGpuInventoryTest, FallsBackToTheCudaDriverApiWithoutNvml) {
  GpuDetectionOptions options = nothing_installed();
  options.cuda_driver_library = TRAINYARD_FAKE_CUDA_LIBRARY;
  SystemGpuInventory inventory(options);
  EXPECT_EQ(inventory.detection_error(), "");
  EXPECT_EQ(inventory.cuda_driver_version(), (CudaVersion{12, 6}));
  EXPECT_FALSE(inventory.driver_version().has_value());  // only NVML knows it
  ASSERT_EQ(inventory.warnings().size(), 1u);
  EXPECT_TRUE(contains(inventory.warnings()[0], "CUDA driver API alone"));
  auto gpus = inventory.gpus();
  ASSERT_EQ(gpus.size(), 1u);
  EXPECT_EQ(gpus[0].name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(gpus[0].total_memory_bytes, 85520809984ull);
  EXPECT_FALSE(gpus[0].free_memory_bytes.has_value());
  EXPECT_EQ(gpus[0].compute_capability, (ComputeCapability{9, 0}));
  EXPECT_EQ(gpus[0].pci_bus_id, "00000000:1A:00.0");
  EXPECT_EQ(gpus[0].uuid, "GPU-00010203-0405-0607-0809-0a0b0c0d0e0f");
  EXPECT_FALSE(gpus[0].ecc_enabled.has_value());
}

TEST(SystemGpuInventoryTest, CudaDriverWithoutGpusIsNotAnError) {
  ScopedEnv mode("TRAINYARD_FAKE_CUDA_MODE", "no_device");
  GpuDetectionOptions options = nothing_installed();
  options.cuda_driver_library = TRAINYARD_FAKE_CUDA_LIBRARY;
  SystemGpuInventory inventory(options);
  EXPECT_TRUE(inventory.gpus().empty());
  EXPECT_EQ(inventory.detection_error(), "");
  EXPECT_EQ(inventory.summary(), "No NVIDIA GPU found: the NVIDIA driver reports none.");
}

TEST(SystemGpuInventoryTest, CudaDriverThatFailsIsReported) {
  ScopedEnv mode("TRAINYARD_FAKE_CUDA_MODE", "init_fails");
  GpuDetectionOptions options = nothing_installed();
  options.cuda_driver_library = TRAINYARD_FAKE_CUDA_LIBRARY;
  SystemGpuInventory inventory(options);
  EXPECT_TRUE(inventory.gpus().empty());
  std::string error = inventory.detection_error();
  EXPECT_TRUE(contains(error, "NVIDIA driver unusable")) << error;
  EXPECT_TRUE(contains(error, "cuInit failed: unknown error (999)")) << error;
}

TEST(SystemGpuInventoryTest, LibraryWithoutTheEntryPointsIsRejected) {
  GpuDetectionOptions options = nothing_installed();
  options.nvml_library = TRAINYARD_FAKE_CUDA_LIBRARY;  // a real library, but not NVML
  SystemGpuInventory inventory(options);
  EXPECT_TRUE(inventory.gpus().empty());
  EXPECT_TRUE(contains(inventory.detection_error(), "does not export nvmlInit_v2"))
      << inventory.detection_error();
}

TEST(GpuDetectionOptionsTest, EnvironmentOverridesTheSonames) {
  EXPECT_EQ(GpuDetectionOptions::from_environment().nvml_library, "libnvidia-ml.so.1");
  ScopedEnv nvml("TRAINYARD_NVML_LIBRARY", "/opt/nvidia/libnvidia-ml.so.1");
  ScopedEnv runtime("TRAINYARD_CUDA_RUNTIME_LIBRARY", "/opt/cuda/libcudart.so.12");
  auto options = GpuDetectionOptions::from_environment();
  EXPECT_EQ(options.nvml_library, "/opt/nvidia/libnvidia-ml.so.1");
  EXPECT_EQ(options.cuda_driver_library, "libcuda.so.1");
  EXPECT_EQ(options.cuda_runtime_libraries, std::vector<std::string>{"/opt/cuda/libcudart.so.12"});
}

TEST(CudaVersionTest, DecodesTheDriverApiEncoding) {
  EXPECT_EQ(CudaVersion::from_encoded(12040), (CudaVersion{12, 4}));
  EXPECT_EQ(CudaVersion::from_encoded(11080).to_string(), "11.8");
  EXPECT_EQ(CudaVersion::from_encoded(13000).to_string(), "13.0");
  EXPECT_LT(CudaVersion::from_encoded(11080), CudaVersion::from_encoded(12000));
}

}  // namespace
}  // namespace trainyard::platform
