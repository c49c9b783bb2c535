#include "platform/doctor.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "platform/fake_gpu_inventory.h"

namespace trainyard::platform {
namespace {

FakeDriver cuda13_driver() {
  return {.driver_version = "580.65.06",
          .cuda_driver_version = CudaVersion{13, 0},
          .runtime_version = CudaVersion{13, 0}};
}

LibraryProbe found(std::string name, std::string version) {
  return {.name = std::move(name), .version = std::move(version), .location = "lib.so"};
}

RuntimeLibraries all_libraries() {
  RuntimeLibraries libraries;
  libraries.cudnn = found("cuDNN", "9.10.2");
  libraries.cublas = found("cuBLAS", "13.0.0");
  libraries.nccl = found("NCCL", "2.27.3");
  libraries.openmpi = found("Open MPI", "4.1.4");
  libraries.mpirun = "/usr/bin/mpirun";
  return libraries;
}

// A CUDA 13 build for 7.5 to 9.0 with every library, on `inventory`.
DoctorFacts healthy_facts(const GpuInventory& inventory) {
  return {.inventory = &inventory,
          .libraries = all_libraries(),
          .build_targets = BuildTargets::parse("75;80;86;89;90"),
          .build_cuda = CudaVersion{13, 0},
          .host = {.vcpus = 8, .memory_gib = 64.0},
          .cpu_check_error = ""};
}

// A copy, so a check of a temporary report stays valid.
DoctorCheck check_named(const DoctorReport& report, const std::string& name) {
  for (const DoctorCheck& check : report.checks) {
    if (check.name == name) return check;
  }
  ADD_FAILURE() << "no check named " << name;
  return {};
}

TEST(DoctorTest, AHealthyH100HostPassesEveryCheck) {
  auto inventory = FakeGpuInventory::of("H100", 2, cuda13_driver());
  DoctorReport report = examine(healthy_facts(inventory));
  EXPECT_FALSE(report.failed());
  for (const DoctorCheck& check : report.checks) {
    EXPECT_EQ(check.verdict, Verdict::kPass) << check.name << ": " << check.finding;
    EXPECT_TRUE(check.fix.empty()) << check.name;
  }
  EXPECT_NE(
      check_named(report, "gpu 1 architecture").finding.find("Hopper, compute capability 9.0"),
      std::string::npos);
  EXPECT_NE(check_named(report, "driver").finding.find("580.65.06"), std::string::npos);
}

TEST(DoctorTest, ADriverTooOldForCuda13Fails) {
  auto inventory = FakeGpuInventory::of("A10G", 1);  // driver 550.54.15, CUDA 12.4
  DoctorReport report = examine(healthy_facts(inventory));
  ASSERT_TRUE(report.failed());
  DoctorCheck driver = check_named(report, "driver");
  EXPECT_EQ(driver.verdict, Verdict::kFail);
  EXPECT_NE(driver.finding.find("550.54.15 is older than CUDA 13.0 needs (580 or newer)"),
            std::string::npos)
      << driver.finding;
  EXPECT_NE(driver.fix.find("580"), std::string::npos);
  // The runtime found is CUDA 12's while the build is CUDA 13's.
  EXPECT_EQ(check_named(report, "cuda runtime").verdict, Verdict::kWarn);
}

TEST(DoctorTest, ADriverWhoseCudaIsOlderThanTheBuildFails) {
  FakeDriver driver = cuda13_driver();
  driver.driver_version = "590.10";
  driver.cuda_driver_version = CudaVersion{12, 9};
  auto inventory = FakeGpuInventory::of("L4", 1, driver);
  DoctorCheck check = check_named(examine(healthy_facts(inventory)), "driver");
  EXPECT_EQ(check.verdict, Verdict::kFail);
  EXPECT_NE(check.finding.find("supports CUDA up to 12.9"), std::string::npos) << check.finding;
}

TEST(DoctorTest, AK80FailsWithTheKeplerReason) {
  auto inventory = FakeGpuInventory::of("K80", 1, cuda13_driver());
  DoctorReport report = examine(healthy_facts(inventory));
  DoctorCheck check = check_named(report, "gpu 0 architecture");
  EXPECT_EQ(check.verdict, Verdict::kFail);
  EXPECT_NE(check.finding.find("Kepler, compute capability 3.7"), std::string::npos);
  EXPECT_NE(check.finding.find("CUDA 12 had already dropped Kepler"), std::string::npos);
  EXPECT_NE(check.fix.find("Turing"), std::string::npos);
  EXPECT_TRUE(report.failed());
}

TEST(DoctorTest, VoltaFailsUnderCuda13ButNotUnderACuda12Build) {
  auto inventory = FakeGpuInventory::of("V100 SXM2 16GB", 1, cuda13_driver());
  DoctorCheck under13 = check_named(examine(healthy_facts(inventory)), "gpu 0 architecture");
  EXPECT_EQ(under13.verdict, Verdict::kFail);
  EXPECT_NE(under13.finding.find("Volta, compute capability 7.0"), std::string::npos);
  EXPECT_NE(under13.finding.find("CUDA 13 dropped every architecture before Turing (7.5)"),
            std::string::npos)
      << under13.finding;

  DoctorFacts cuda12 = healthy_facts(inventory);
  cuda12.build_cuda = CudaVersion{12, 4};
  cuda12.build_targets = BuildTargets::parse("70;80");
  cuda12.libraries.cublas = found("cuBLAS", "12.4.5");
  DoctorReport report = examine(cuda12);
  EXPECT_EQ(check_named(report, "gpu 0 architecture").verdict, Verdict::kPass);
  EXPECT_FALSE(report.failed());
}

TEST(DoctorTest, MissingCudnnFailsOnAGpuHostAndIsOnlyANoteWithout) {
  auto inventory = FakeGpuInventory::of("A10G", 1, cuda13_driver());
  DoctorFacts facts = healthy_facts(inventory);
  facts.libraries.cudnn = {.name = "cuDNN", .error = "libcudnn.so.9: cannot open shared object"};
  DoctorReport report = examine(facts);
  DoctorCheck cudnn = check_named(report, "cudnn");
  EXPECT_EQ(cudnn.verdict, Verdict::kFail);
  EXPECT_NE(cudnn.finding.find("cannot open shared object"), std::string::npos);
  EXPECT_NE(cudnn.fix.find("cuDNN 9"), std::string::npos);

  auto none = FakeGpuInventory::without_gpus("libnvidia-ml.so.1: cannot open shared object");
  facts.inventory = &none;
  DoctorReport cpu_only = examine(facts);
  EXPECT_EQ(check_named(cpu_only, "cudnn").verdict, Verdict::kPass);
  EXPECT_FALSE(cpu_only.failed());
}

TEST(DoctorTest, TheWrongCudnnMajorFails) {
  auto inventory = FakeGpuInventory::of("A10G", 1, cuda13_driver());
  DoctorFacts facts = healthy_facts(inventory);
  facts.libraries.cudnn = found("cuDNN", "8.9.7");
  DoctorCheck cudnn = check_named(examine(facts), "cudnn");
  EXPECT_EQ(cudnn.verdict, Verdict::kFail);
  EXPECT_NE(cudnn.finding.find("needs cuDNN 9"), std::string::npos) << cudnn.finding;
}

TEST(DoctorTest, MigModeIsAWarningWithTheCommandToTurnItOff) {
  GpuInfo gpu = FakeGpuInventory::of("A100 80GB", 1).gpus()[0];
  gpu.mig_enabled = true;
  FakeGpuInventory inventory({gpu}, cuda13_driver());
  DoctorReport report = examine(healthy_facts(inventory));
  DoctorCheck mig = check_named(report, "gpu 0 mig");
  EXPECT_EQ(mig.verdict, Verdict::kWarn);
  EXPECT_NE(mig.fix.find("nvidia-smi -i 0 -mig 0"), std::string::npos);
  EXPECT_FALSE(report.failed());
}

TEST(DoctorTest, MemoryHeldByOthersAndPersistenceOffAreWarnings) {
  GpuInfo gpu = FakeGpuInventory::of("L4", 1).gpus()[0];
  gpu.free_memory_bytes = gpu.total_memory_bytes / 2;
  gpu.persistence_mode = false;
  FakeGpuInventory inventory({gpu}, cuda13_driver());
  DoctorReport report = examine(healthy_facts(inventory));
  DoctorCheck memory = check_named(report, "gpu 0 memory");
  EXPECT_EQ(memory.verdict, Verdict::kWarn);
  EXPECT_NE(memory.finding.find("12.0 GiB of 24.0 GiB is held by other processes"),
            std::string::npos)
      << memory.finding;
  EXPECT_EQ(check_named(report, "gpu 0 persistence").verdict, Verdict::kWarn);
}

TEST(DoctorTest, AGpuWithoutMachineCodeInTheBuild) {
  auto a10g = FakeGpuInventory::of("A10G", 1, cuda13_driver());  // 8.6
  DoctorFacts facts = healthy_facts(a10g);
  facts.build_targets = BuildTargets::parse("90");
  DoctorCheck none = check_named(examine(facts), "gpu 0 architecture");
  EXPECT_EQ(none.verdict, Verdict::kFail);
  EXPECT_NE(none.finding.find("no kernel image for compute capability 8.6; this build targets 9.0"),
            std::string::npos)
      << none.finding;
  EXPECT_NE(none.fix.find("TRAINYARD_CUDA_ARCHITECTURES including 86"), std::string::npos);

  auto h100 = FakeGpuInventory::of("H100", 1, cuda13_driver());
  facts = healthy_facts(h100);
  facts.build_targets = BuildTargets::parse("75-real;80");
  DoctorCheck ptx = check_named(examine(facts), "gpu 0 architecture");
  EXPECT_EQ(ptx.verdict, Verdict::kWarn);
  EXPECT_NE(ptx.finding.find("compiles PTX"), std::string::npos);
}

TEST(DoctorTest, AHostWithoutGpusSaysSoAndChecksTheCpu) {
  auto inventory = FakeGpuInventory::without_gpus("libnvidia-ml.so.1: cannot open shared object");
  DoctorFacts facts = healthy_facts(inventory);
  facts.libraries = RuntimeLibraries{};
  DoctorReport report = examine(facts);
  EXPECT_FALSE(report.failed());
  DoctorCheck gpus = check_named(report, "gpus");
  EXPECT_EQ(gpus.verdict, Verdict::kWarn);
  EXPECT_NE(gpus.finding.find("no NVIDIA GPU found: libnvidia-ml.so.1"), std::string::npos);
  EXPECT_NE(gpus.finding.find("trains on the CPU"), std::string::npos);
  EXPECT_EQ(check_named(report, "cpu").verdict, Verdict::kPass);
  EXPECT_EQ(check_named(report, "openmpi").verdict, Verdict::kWarn);
  for (const DoctorCheck& check : report.checks) {
    EXPECT_EQ(check.name.rfind("gpu ", 0), std::string::npos) << check.name;
  }

  facts.cpu_check_error = "matmul element [0, 0] is nan";
  DoctorCheck cpu = check_named(examine(facts), "cpu");
  EXPECT_EQ(cpu.verdict, Verdict::kFail);
  EXPECT_NE(cpu.finding.find("is nan"), std::string::npos);
}

TEST(DoctorTest, NcclIsWantedOnlyAcrossSeveralGpus) {
  auto two = FakeGpuInventory::of("A10G", 2, cuda13_driver());
  DoctorFacts facts = healthy_facts(two);
  facts.libraries.nccl = {.name = "NCCL", .error = "libnccl.so.2: cannot open"};
  EXPECT_EQ(check_named(examine(facts), "nccl").verdict, Verdict::kWarn);
  auto one = FakeGpuInventory::of("A10G", 1, cuda13_driver());
  facts.inventory = &one;
  EXPECT_EQ(check_named(examine(facts), "nccl").verdict, Verdict::kPass);
}

TEST(DoctorTest, ACpuOnlyBuildOnAGpuHostWarns) {
  auto inventory = FakeGpuInventory::of("A10G", 1, cuda13_driver());
  DoctorFacts facts = healthy_facts(inventory);
  facts.build_cuda.reset();
  facts.build_targets = {};
  DoctorReport report = examine(facts);
  EXPECT_EQ(check_named(report, "cuda build").verdict, Verdict::kWarn);
  EXPECT_FALSE(report.failed());
}

TEST(DoctorTest, DriverVersionsCompareNumberByNumber) {
  EXPECT_GT(compare_driver_versions("580.65.06", "580"), 0);
  EXPECT_EQ(compare_driver_versions("580", "580.0.0"), 0);
  EXPECT_LT(compare_driver_versions("575.57.08", "580"), 0);
  EXPECT_GT(compare_driver_versions("1000.1", "999.99.99"), 0);
  EXPECT_LT(compare_driver_versions("525.60.11", "525.60.13"), 0);
  EXPECT_EQ(minimum_driver_for(12), "525.60.13");
  EXPECT_EQ(minimum_driver_for(11), "450.80.02");
  EXPECT_EQ(minimum_driver_for(13), "580");
  EXPECT_FALSE(minimum_driver_for(9).has_value());
}

TEST(DoctorTest, LibraryVersionNumbersDecode) {
  EXPECT_EQ(nccl_version_text(22703), "2.27.3");
  EXPECT_EQ(nccl_version_text(2708), "2.7.8");
  EXPECT_EQ(cudnn_version_text(91002), "9.10.2");
  EXPECT_EQ(cudnn_version_text(8907), "8.9.7");
  EXPECT_EQ(openmpi_version_text("Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4"),
            "4.1.4");
}

TEST(DoctorTest, ProbingThisHostIsConsistent) {
  RuntimeLibraries libraries = RuntimeLibraries::detect();
  for (const LibraryProbe* probe :
       {&libraries.cudnn, &libraries.cublas, &libraries.nccl, &libraries.openmpi}) {
    if (probe->found()) {
      EXPECT_FALSE(probe->version->empty()) << probe->name;
      EXPECT_FALSE(probe->location.empty()) << probe->name;
    } else {
      EXPECT_FALSE(probe->error.empty()) << probe->name << " unfound without a reason";
    }
  }
}

TEST(BuildTargetsTest, ParsesCmakeListsAndJudgesFit) {
  BuildTargets targets = BuildTargets::parse("75;80-real,90-virtual");
  ASSERT_EQ(targets.architectures.size(), 3u);
  EXPECT_EQ(targets.range(), "7.5\u20139.0");
  EXPECT_EQ(targets.fit({8, 6}), KernelFit::kMachineCode);
  EXPECT_EQ(targets.fit({10, 0}), KernelFit::kPtxOnly);
  EXPECT_EQ(targets.fit({7, 0}), KernelFit::kNone);
  EXPECT_TRUE(BuildTargets::parse("").cpu_only());
  EXPECT_THROW(BuildTargets::parse("75;sm_90"), ValueError);
  EXPECT_THROW(BuildTargets::parse("7"), ValueError);
}

}  // namespace
}  // namespace trainyard::platform
