// Placement against fake hosts: which instance types fit, and what a refusal tells the user.
// Expected figures come from data/instance-catalog.csv (memory, compute capability, prices)
// read by hand, not from the code under test.
#include "jobs/placement/placement.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "platform/fake_gpu_inventory.h"

namespace trainyard::jobs {
namespace {

using platform::ComputeCapability;
using platform::FakeGpuInventory;
using platform::GpuInfo;
using platform::GpuInventory;
using platform::HostResources;
using platform::InstanceCatalog;
using platform::InstanceType;

const BuildTargets kTargets{{{7, 5}, {8, 0}, {8, 6}, {8, 9}, {9, 0}}};
// A host big enough in CPU and memory that only GPUs decide.
const HostResources kBigHost{.vcpus = 192, .memory_gib = 2048.0};
const char kNoDriver[] =
    "no NVIDIA driver found (libnvidia-ml.so.1 not loadable: libnvidia-ml.so.1: cannot open "
    "shared object file)";

// GPUs of several catalog models on one host, indexed in the order given.
FakeGpuInventory mixed(const std::vector<std::pair<std::string, int>>& parts) {
  std::vector<GpuInfo> gpus;
  for (const auto& [model, count] : parts) {
    for (GpuInfo gpu : FakeGpuInventory::of(model, count).gpus()) {
      gpu.index = static_cast<int>(gpus.size());
      gpus.push_back(gpu);
    }
  }
  return FakeGpuInventory(gpus);
}

PlacementDecision place(std::string_view type, int count, const GpuInventory& gpus,
                        HostResources resources = kBigHost, BuildTargets targets = kTargets,
                        PlacementOptions options = PlacementOptions()) {
  PlacementHost host{InstanceCatalog::builtin(), gpus, resources, targets};
  return place_instance_type(type, count, host, options);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// `parts` appear in `text` in this order.
void expect_in_order(const std::string& text, const std::vector<std::string>& parts) {
  std::size_t at = 0;
  for (const std::string& part : parts) {
    std::size_t found = text.find(part, at);
    ASSERT_NE(found, std::string::npos) << "missing (in order) '" << part << "' in:\n" << text;
    at = found + part.size();
  }
}

TEST(PlacementTest, KeplerTypeOnHostWithoutDriver) {
  auto host = FakeGpuInventory::without_gpus(kNoDriver);
  auto decision = place("ml.p2.xlarge", 1, host, {.vcpus = 8, .memory_gib = 32.0});
  ASSERT_FALSE(decision.fits());
  const std::string& message = decision.refusal;
  expect_in_order(
      message,
      {"ml.p2.xlarge needs 1 GPU with at least 12 GiB (NVIDIA Tesla K80 (GK210), compute "
       "capability 3.7)",
       std::string("this host has no NVIDIA GPU (") + kNoDriver + ")",
       "needs code built for Kepler, which CUDA 12 dropped",
       "CUDA 13 dropped everything before Turing (7.5)", "pick ml.g4dn (NVIDIA T4, 7.5) or newer",
       // The five cheapest CPU types an 8-vCPU, 32 GiB host holds (CSV prices), then local.
       "Types that fit this host: ml.m5.large ($0.115/h), ml.c5.xlarge ($0.204/h), "
       "ml.m5.xlarge ($0.23/h), ml.c5.2xlarge ($0.408/h), ml.m5.2xlarge ($0.461/h), or local "
       "(this host's CPUs, no GPU)."});
  EXPECT_FALSE(contains(message, "ml.g5")) << "a GPU-less host gets no GPU suggestions";
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(PlacementTest, OldArchitecturesAreRefusedEvenWhereTheHostHasThem) {
  auto k80s = FakeGpuInventory::of("K80", 2);
  auto decision = place("ml.p2.xlarge", 1, k80s);
  ASSERT_FALSE(decision.fits());
  EXPECT_TRUE(contains(decision.refusal, "older than CUDA 13 supports (7.5)")) << decision.refusal;
  EXPECT_TRUE(contains(decision.refusal, "Kepler, which CUDA 12 dropped")) << decision.refusal;
  // The host has no GPU CUDA 13 can drive, so the suggestions are CPU types.
  EXPECT_TRUE(contains(decision.refusal, "or local (this host's CPUs")) << decision.refusal;

  // Volta: CUDA 12 still had it; CUDA 13 does not.
  auto a10gs = FakeGpuInventory::of("A10G", 8);
  auto volta = place("ml.p3.2xlarge", 1, a10gs);
  ASSERT_FALSE(volta.fits());
  EXPECT_TRUE(contains(volta.refusal,
                       "NVIDIA V100 SXM2 16GB (Volta, compute capability 7.0) needs "
                       "code built for Volta, which CUDA 13 dropped"))
      << volta.refusal;
  EXPECT_FALSE(contains(volta.refusal, "CUDA 12")) << volta.refusal;
  EXPECT_TRUE(contains(volta.refusal, "ml.g4dn.xlarge ($0.736/h)")) << volta.refusal;
  EXPECT_TRUE(contains(volta.refusal, "or local_gpu")) << volta.refusal;
}

TEST(PlacementTest, FourGpuTypeOnTwoGpuHost) {
  auto host = FakeGpuInventory::of("A10G", 2);
  auto decision = place("ml.g5.12xlarge", 1, host);
  ASSERT_FALSE(decision.fits());
  expect_in_order(
      decision.refusal,
      {"ml.g5.12xlarge needs 4 GPUs with at least 24 GiB each (NVIDIA A10G, compute capability "
       "8.6); this host has only 2 that qualify (2 x NVIDIA A10G, 24 GiB, compute capability "
       "8.6).",
       // One-GPU types of compute capability <= 8.6 and <= 24 GiB: priced ones cheapest first,
       // then the smallest unpriced one.
       "Types that fit this host: ml.g4dn.xlarge ($0.736/h), ml.g5.xlarge ($1.408/h), "
       "ml.g5.2xlarge ($1.515/h), ml.g5.4xlarge ($2.03/h), ml.g4dn.2xlarge (price unknown), or "
       "local_gpu (this host with all of its GPUs)."});
  EXPECT_FALSE(contains(decision.refusal, "CUDA 13")) << decision.refusal;
}

TEST(PlacementTest, GpuTypeThatFits) {
  auto host = FakeGpuInventory::of("A10G", 8);
  auto decision = place("ml.g5.12xlarge", 1, host);
  ASSERT_TRUE(decision.fits()) << decision.refusal;
  EXPECT_TRUE(decision.warnings.empty());
  const JobPlacement& placement = *decision.placement;
  EXPECT_EQ(placement.instance_type.name, "ml.g5.12xlarge");
  EXPECT_EQ(placement.hosts(), 1);
  EXPECT_EQ(placement.gpus.gpus_per_host, 4);
  EXPECT_EQ(placement.gpus.total_gpus(), 4);
  EXPECT_DOUBLE_EQ(placement.gpus.min_memory_gib, 24);
  EXPECT_EQ(placement.gpus.min_compute_capability, (ComputeCapability{8, 6}));
  EXPECT_EQ(placement.vcpus_per_host, 48);
  EXPECT_EQ(placement.memory_gib_per_host, 192.0);

  auto two = place("ml.g5.12xlarge", 2, host);
  ASSERT_TRUE(two.fits()) << two.refusal;
  EXPECT_EQ(two.placement->hosts(), 2);
  EXPECT_EQ(two.placement->gpus.total_gpus(), 8);
  auto three = place("ml.g5.12xlarge", 3, host);
  ASSERT_FALSE(three.fits());
  EXPECT_TRUE(contains(three.refusal,
                       "3 x ml.g5.12xlarge need 12 GPUs, 4 per host, with at "
                       "least 24 GiB each (NVIDIA A10G, compute capability 8.6)"))
      << three.refusal;
  EXPECT_TRUE(contains(three.refusal, "Types that fit this host with InstanceCount 3: "))
      << three.refusal;
}

TEST(PlacementTest, GpuMemoryDecides) {
  auto a10gs = FakeGpuInventory::of("A10G", 8);
  auto decision = place("ml.p4d.24xlarge", 1, a10gs);
  ASSERT_FALSE(decision.fits());
  EXPECT_TRUE(contains(decision.refusal,
                       "ml.p4d.24xlarge needs 8 GPUs with at least 40 GiB each (NVIDIA A100 SXM4 "
                       "40GB, compute capability 8.0); this host has no GPU that qualifies (8 x "
                       "NVIDIA A10G, 24 GiB, compute capability 8.6: less than 40 GiB)."))
      << decision.refusal;

  // More memory than asked for is fine.
  auto a100s = FakeGpuInventory::of("A100 80GB", 8);
  EXPECT_TRUE(place("ml.p4d.24xlarge", 1, a100s).fits());
  EXPECT_TRUE(place("ml.p4de.24xlarge", 1, a100s).fits());
  auto a100_40s = FakeGpuInventory::of("A100 40GB", 8);
  auto p4de = place("ml.p4de.24xlarge", 1, a100_40s);
  ASSERT_FALSE(p4de.fits());
  EXPECT_TRUE(contains(p4de.refusal, "less than 80 GiB")) << p4de.refusal;
}

TEST(PlacementTest, DriverReportedMemoryWithinToleranceQualifies) {
  // What real drivers report: an A10G 23028 MiB, a T4 15360 MiB; both are their types' GPUs.
  GpuInfo a10g = FakeGpuInventory::of("A10G", 1).gpus()[0];
  a10g.total_memory_bytes = 23028ull << 20;
  GpuInfo t4 = FakeGpuInventory::of("T4", 1).gpus()[0];
  t4.total_memory_bytes = 15360ull << 20;
  EXPECT_TRUE(place("ml.g5.xlarge", 1, FakeGpuInventory({a10g})).fits());
  EXPECT_TRUE(place("ml.g4dn.xlarge", 1, FakeGpuInventory({t4})).fits());
  // 21 GiB is not a 24 GiB GPU.
  a10g.total_memory_bytes = 21ull << 30;
  EXPECT_FALSE(place("ml.g5.xlarge", 1, FakeGpuInventory({a10g})).fits());
}

TEST(PlacementTest, H100Host) {
  auto host = FakeGpuInventory::of("H100", 2);
  auto p5 = place("ml.p5.48xlarge", 1, host);
  ASSERT_FALSE(p5.fits());
  EXPECT_TRUE(contains(p5.refusal,
                       "needs 8 GPUs with at least 80 GiB each (NVIDIA H100 SXM5 "
                       "80GB, compute capability 9.0); this host has only 2 that "
                       "qualify (2 x NVIDIA H100 SXM5 80GB, 80 GiB, compute "
                       "capability 9.0)."))
      << p5.refusal;
  auto single = place("ml.p5.4xlarge", 2, host);
  ASSERT_TRUE(single.fits()) << single.refusal;
  EXPECT_EQ(single.placement->hosts(), 2);
  EXPECT_EQ(single.placement->gpus.gpus_per_host, 1);
  EXPECT_FALSE(place("ml.p5.4xlarge", 3, host).fits());
  // Older types run on newer GPUs.
  EXPECT_TRUE(place("ml.g5.xlarge", 1, host).fits());
  EXPECT_TRUE(place("ml.g4dn.12xlarge", 1, FakeGpuInventory::of("H100", 4)).fits());
}

TEST(PlacementTest, ComputeCapabilityBelowTheType) {
  auto host = FakeGpuInventory::of("T4", 4);
  auto decision = place("ml.g5.xlarge", 1, host);
  ASSERT_FALSE(decision.fits());
  EXPECT_TRUE(contains(decision.refusal,
                       "this host has no GPU that qualifies (4 x NVIDIA T4, 16 GiB, compute "
                       "capability 7.5: compute capability 7.5, below 8.6 and less than 24 GiB)"))
      << decision.refusal;
  EXPECT_TRUE(contains(decision.refusal, "Types that fit this host: ml.g4dn.xlarge ($0.736/h)"))
      << decision.refusal;
  EXPECT_TRUE(place("ml.g4dn.12xlarge", 1, host).fits());
}

TEST(PlacementTest, MixedHost) {
  auto host = mixed({{"T4", 2}, {"A10G", 2}});
  EXPECT_TRUE(place("ml.g5.xlarge", 2, host).fits());
  // The A10Gs qualify for a T4 type too.
  EXPECT_TRUE(place("ml.g4dn.12xlarge", 1, host).fits());
  auto decision = place("ml.g5.12xlarge", 1, host);
  ASSERT_FALSE(decision.fits());
  EXPECT_TRUE(contains(decision.refusal,
                       "this host has only 2 that qualify (2 x NVIDIA A10G, 24 GiB, compute "
                       "capability 8.6) and 2 that do not (2 x NVIDIA T4, 16 GiB, compute "
                       "capability 7.5: compute capability 7.5, below 8.6 and less than 24 GiB)"))
      << decision.refusal;
}

TEST(PlacementTest, BuildTargetsServeTheirMajorVersion) {
  EXPECT_TRUE(kTargets.serves({8, 6}));
  EXPECT_TRUE(kTargets.serves({8, 7}));  // code for 8.6 runs on 8.7
  EXPECT_TRUE(kTargets.serves({9, 0}));
  EXPECT_FALSE(kTargets.serves({10, 0}));
  EXPECT_FALSE(kTargets.serves({7, 0}));
  BuildTargets ampere{{{8, 0}}};
  EXPECT_TRUE(ampere.serves({8, 9}));
  EXPECT_FALSE(ampere.serves({7, 5}));
  EXPECT_TRUE(BuildTargets{}.serves({3, 7}));
  EXPECT_EQ(kTargets.describe(), "7.5, 8.0, 8.6, 8.9 and 9.0");
  EXPECT_EQ(BuildTargets{}.describe(), "none (a CPU-only build)");
}

TEST(PlacementTest, ArchitectureOutsideTheBuildTargets) {
  // No 8.x code at all: nothing this build has runs on an L4.
  BuildTargets turing_and_hopper{{{7, 5}, {9, 0}}};
  auto l4 = FakeGpuInventory::of("L4", 1);
  auto decision = place("ml.g6.xlarge", 1, l4, kBigHost, turing_and_hopper);
  ASSERT_FALSE(decision.fits());
  EXPECT_TRUE(contains(decision.refusal,
                       "this build of trainyard has no code for the NVIDIA L4 (Ada Lovelace, "
                       "compute capability 8.9): it targets compute capability 7.5 and 9.0; pick "
                       "a type whose GPU it targets, such as ml.g4dn (NVIDIA T4, 7.5), or build "
                       "trainyard for compute capability 8.9."))
      << decision.refusal;
  EXPECT_TRUE(contains(decision.refusal,
                       "this host has no GPU that qualifies (1 x NVIDIA L4, 24 "
                       "GiB, compute capability 8.9: compute capability 8.9, "
                       "which this build has no code for)"))
      << decision.refusal;
  // Code for 8.0 runs on 8.9.
  EXPECT_TRUE(place("ml.g6.xlarge", 1, l4, kBigHost, BuildTargets{{{8, 0}}}).fits());
  EXPECT_TRUE(place("ml.g6.xlarge", 1, l4, kBigHost, kTargets).fits());

  auto b200 = FakeGpuInventory::of("B200", 8);
  auto blackwell = place("ml.p6-b200.48xlarge", 1, b200);
  ASSERT_FALSE(blackwell.fits());
  EXPECT_TRUE(contains(blackwell.refusal, "such as ml.p5 (NVIDIA H100 SXM5 80GB, 9.0)"))
      << blackwell.refusal;
}

TEST(PlacementTest, CpuOnlyBuildWarnsForGpuTypes) {
  auto host = FakeGpuInventory::of("A10G", 1);
  auto decision = place("ml.g5.xlarge", 1, host, kBigHost, BuildTargets{});
  ASSERT_TRUE(decision.fits()) << decision.refusal;
  ASSERT_EQ(decision.warnings.size(), 1u);
  EXPECT_TRUE(contains(decision.warnings[0], "no CUDA kernels")) << decision.warnings[0];
  // The CUDA 13 floor still applies.
  EXPECT_FALSE(
      place("ml.p2.xlarge", 1, FakeGpuInventory::of("K80", 1), kBigHost, BuildTargets{}).fits());
}

TEST(PlacementTest, TrainiumIsNotSupported) {
  auto none = FakeGpuInventory::without_gpus(kNoDriver);
  auto decision = place("ml.trn1.2xlarge", 1, none, {.vcpus = 8, .memory_gib = 32.0});
  ASSERT_FALSE(decision.fits());
  expect_in_order(decision.refusal,
                  {"ml.trn1.2xlarge carries 1 x AWS Trainium (v1)",
                   "does not support Trainium or Inferentia", "ml.m5.large ($0.115/h)", "local"});
  auto gpus = place("ml.trn1.32xlarge", 1, FakeGpuInventory::of("A10G", 8));
  ASSERT_FALSE(gpus.fits());
  EXPECT_TRUE(contains(gpus.refusal, "ml.g5.xlarge ($1.408/h)")) << gpus.refusal;
}

TEST(PlacementTest, CpuShortfallsWarnUnlessStrict) {
  auto none = FakeGpuInventory::without_gpus(kNoDriver);
  const HostResources small{.vcpus = 2, .memory_gib = 15.5};
  auto decision = place("ml.m5.xlarge", 1, none, small);
  ASSERT_TRUE(decision.fits()) << decision.refusal;
  ASSERT_EQ(decision.warnings.size(), 1u);  // 16 GiB on a 15.5 GiB host is no shortfall
  EXPECT_EQ(decision.warnings[0],
            "ml.m5.xlarge has 4 vCPUs and this host has 2: the job runs, more slowly.");
  EXPECT_EQ(decision.placement->gpus.gpus_per_host, 0);
  EXPECT_EQ(decision.placement->vcpus_per_host, 4);

  auto memory = place("ml.r5.xlarge", 1, none, small);
  ASSERT_TRUE(memory.fits());
  ASSERT_EQ(memory.warnings.size(), 2u);
  EXPECT_EQ(memory.warnings[1],
            "ml.r5.xlarge has 32 GiB of memory and this host has 15.5: the job runs, but may run "
            "out of memory.");

  auto several = place("ml.m5.large", 2, none, small);
  ASSERT_TRUE(several.fits());
  ASSERT_EQ(several.warnings.size(), 1u);  // 2 x 8 GiB fits 15.5 GiB within the tolerance
  EXPECT_EQ(several.warnings[0],
            "2 x ml.m5.large have 4 vCPUs (2 each) and this host has 2: the job runs, more "
            "slowly.");
  EXPECT_EQ(several.placement->hosts(), 2);

  auto strict =
      place("ml.m5.xlarge", 1, none, {.vcpus = 2, .memory_gib = 8.0}, kTargets, {.strict = true});
  ASSERT_FALSE(strict.fits());
  // Only types of at most 2 vCPUs and about 8 GiB: the one priced, then the smallest unpriced
  // in catalog order.
  EXPECT_EQ(strict.refusal,
            "ml.m5.xlarge does not fit this host under strict placement: ml.m5.xlarge has 4 "
            "vCPUs and this host has 2; ml.m5.xlarge has 16 GiB of memory and this host has 8. "
            "Types that fit this host: ml.m5.large ($0.115/h), ml.t3.medium (price unknown), "
            "ml.c7i.large (price unknown), ml.m6i.large (price unknown), ml.t3.large (price "
            "unknown), or local (this host's CPUs, no GPU).");
}

TEST(PlacementTest, StrictAlsoAppliesToGpuTypes) {
  auto host = FakeGpuInventory::of("A100 40GB", 8);
  const HostResources small{.vcpus = 8, .memory_gib = 64.0};
  auto lenient = place("ml.p4d.24xlarge", 1, host, small);
  ASSERT_TRUE(lenient.fits());
  EXPECT_EQ(lenient.warnings.size(), 2u);
  auto strict = place("ml.p4d.24xlarge", 1, host, small, kTargets, {.strict = true});
  ASSERT_FALSE(strict.fits());
  EXPECT_TRUE(contains(strict.refusal,
                       "ml.p4d.24xlarge has 96 vCPUs and this host has 8; "
                       "ml.p4d.24xlarge has 1152 GiB of memory and this host "
                       "has 64."))
      << strict.refusal;
}

TEST(PlacementTest, LocalMode) {
  auto none = FakeGpuInventory::without_gpus(kNoDriver);
  const HostResources host{.vcpus = 6, .memory_gib = 31.2};
  auto local = place("local", 1, none, host);
  ASSERT_TRUE(local.fits());
  EXPECT_TRUE(local.warnings.empty());
  EXPECT_EQ(local.placement->gpus.gpus_per_host, 0);
  EXPECT_EQ(local.placement->vcpus_per_host, 6);
  EXPECT_EQ(local.placement->memory_gib_per_host, 31.2);
  EXPECT_EQ(place("local", 3, none, host).placement->hosts(), 3);

  auto no_gpu = place("local_gpu", 1, none, host);
  ASSERT_FALSE(no_gpu.fits());
  expect_in_order(no_gpu.refusal, {"local_gpu needs an NVIDIA GPU trainyard can use; this host "
                                   "has no NVIDIA GPU (no NVIDIA driver found",
                                   "Types that fit this host: ", "or local (this host's CPUs"});

  auto a10gs = FakeGpuInventory::of("A10G", 8);
  auto all = place("local_gpu", 1, a10gs, host);
  ASSERT_TRUE(all.fits()) << all.refusal;
  EXPECT_EQ(all.placement->gpus.gpus_per_host, 8);
  EXPECT_EQ(all.placement->instance_type.accelerator_count, 8);
  EXPECT_EQ(all.placement->instance_type.accelerator_model, "NVIDIA A10G");
  EXPECT_EQ(all.placement->vcpus_per_host, 6);

  auto two = place("local_gpu", 2, a10gs, host);
  ASSERT_FALSE(two.fits());
  EXPECT_TRUE(contains(two.refusal, "InstanceCount must be 1, not 2")) << two.refusal;
  EXPECT_TRUE(contains(two.refusal, "Types that fit this host with InstanceCount 2: "))
      << two.refusal;
}

TEST(PlacementTest, LocalGpuLeavesOutGpusNoBuildCanDrive) {
  auto host = mixed({{"K80", 1}, {"T4", 1}});
  auto decision = place("local_gpu", 1, host);
  ASSERT_TRUE(decision.fits()) << decision.refusal;
  EXPECT_EQ(decision.placement->gpus.gpus_per_host, 1);
  EXPECT_EQ(decision.placement->instance_type.accelerator_model, "NVIDIA T4");
  ASSERT_EQ(decision.warnings.size(), 1u);
  EXPECT_TRUE(contains(decision.warnings[0], "GPU 0 (NVIDIA Tesla K80 (GK210)) is left out"))
      << decision.warnings[0];

  auto k80s = FakeGpuInventory::of("K80", 2);
  auto none = place("local_gpu", 1, k80s);
  ASSERT_FALSE(none.fits());
  EXPECT_TRUE(contains(none.refusal,
                       "this host has no GPU that qualifies (2 x NVIDIA Tesla K80 "
                       "(GK210), 12 GiB, compute capability 3.7: compute "
                       "capability 3.7, older than CUDA 13 supports (7.5))"))
      << none.refusal;
}

TEST(PlacementTest, CatalogGaps) {
  auto host = FakeGpuInventory::of("A10G", 8);
  auto unknown_count = place("ml.g7e.12xlarge", 1, host);
  ASSERT_FALSE(unknown_count.fits());
  EXPECT_TRUE(contains(unknown_count.refusal, "does not know how many GPUs ml.g7e.12xlarge has"))
      << unknown_count.refusal;

  // GB200's memory is not in the catalog: any GPU of compute capability 10.0 will do.
  GpuInfo gb200;
  gb200.name = "NVIDIA GB200";
  gb200.total_memory_bytes = 186ull << 30;
  gb200.compute_capability = {10, 0};
  std::vector<GpuInfo> gpus;
  for (int i = 0; i < 4; ++i) {
    gb200.index = i;
    gpus.push_back(gb200);
  }
  BuildTargets blackwell{{{10, 0}}};
  auto decision = place("ml.p6e-gb200.36xlarge", 1, FakeGpuInventory(gpus), kBigHost, blackwell);
  ASSERT_TRUE(decision.fits()) << decision.refusal;
  ASSERT_EQ(decision.warnings.size(), 1u);
  EXPECT_TRUE(contains(decision.warnings[0], "does not know how much memory"))
      << decision.warnings[0];
}

TEST(PlacementTest, SuggestionCountIsAnOption) {
  auto none = FakeGpuInventory::without_gpus(kNoDriver);
  auto decision = place("ml.g5.xlarge", 1, none, {.vcpus = 8, .memory_gib = 32.0}, kTargets,
                        {.suggestion_count = 2});
  ASSERT_FALSE(decision.fits());
  EXPECT_TRUE(contains(decision.refusal,
                       "Types that fit this host: ml.m5.large ($0.115/h), ml.c5.xlarge "
                       "($0.204/h), or local (this host's CPUs, no GPU)."))
      << decision.refusal;
}

TEST(PlacementTest, ResourceConfigProblems) {
  auto host = FakeGpuInventory::of("A10G", 8);
  PlacementHost view{InstanceCatalog::builtin(), host, kBigHost, kTargets};

  ResourceConfig groups;
  groups.instance_groups.push_back(
      {.instance_type = "ml.g5.xlarge", .instance_count = 1, .instance_group_name = "a"});
  auto refused = place_job(groups, view);
  ASSERT_FALSE(refused.fits());
  EXPECT_TRUE(contains(refused.refusal, "InstanceGroups")) << refused.refusal;
  EXPECT_TRUE(contains(refused.refusal, "not supported by trainyard yet")) << refused.refusal;

  EXPECT_TRUE(contains(place_job(ResourceConfig{}, view).refusal, "InstanceType is missing"));
  ResourceConfig no_count{.instance_type = "ml.g5.xlarge"};
  EXPECT_TRUE(contains(place_job(no_count, view).refusal, "InstanceCount is missing"));

  ResourceConfig typo{.instance_type = "ml.g5.xlarj", .instance_count = 1};
  auto misspelt = place_job(typo, view);
  ASSERT_FALSE(misspelt.fits());
  EXPECT_TRUE(contains(misspelt.refusal, "unknown instance type 'ml.g5.xlarj'"))
      << misspelt.refusal;
  EXPECT_TRUE(contains(misspelt.refusal, "ml.g5.xlarge")) << misspelt.refusal;

  ResourceConfig zero{.instance_type = "ml.g5.xlarge", .instance_count = 0};
  EXPECT_TRUE(contains(place_job(zero, view).refusal, "InstanceCount must be at least 1, got 0"));

  ResourceConfig good{.instance_type = "ml.g5.2xlarge", .instance_count = 2};
  auto fits = place_job(good, view);
  ASSERT_TRUE(fits.fits()) << fits.refusal;
  EXPECT_EQ(fits.placement->hosts(), 2);
  EXPECT_EQ(fits.placement->gpus.gpus_per_host, 1);
}

// Every catalog type on each test host: placement agrees with a count of GPUs made here
// from the rule (enough memory, compute capability at least the type's and at least 7.5),
// and every refusal is one paragraph.
TEST(PlacementTest, EveryCatalogTypeOnEveryHost) {
  std::vector<std::pair<std::string, FakeGpuInventory>> hosts;
  hosts.emplace_back("none", FakeGpuInventory::without_gpus(kNoDriver));
  hosts.emplace_back("8 x A10G", FakeGpuInventory::of("A10G", 8));
  hosts.emplace_back("4 x T4", FakeGpuInventory::of("T4", 4));
  hosts.emplace_back("2 x H100", FakeGpuInventory::of("H100", 2));
  hosts.emplace_back("mixed", mixed({{"K80", 1}, {"T4", 2}, {"A10G", 2}, {"H100", 1}}));
  for (const auto& [host_name, inventory] : hosts) {
    const auto gpus = inventory.gpus();
    for (const InstanceType& type : InstanceCatalog::builtin().all()) {
      for (int count : {1, 2}) {
        SCOPED_TRACE(host_name + ": " + std::to_string(count) + " x " + type.name);
        auto decision = place(type.name, count, inventory, kBigHost, BuildTargets{});
        EXPECT_NE(decision.fits(), !decision.refusal.empty());
        if (!decision.fits()) {
          EXPECT_EQ(decision.refusal.find('\n'), std::string::npos);
          EXPECT_EQ(decision.refusal.back(), '.') << decision.refusal;
        }
        bool expected = false;
        if (type.name == "local") {
          expected = true;
        } else if (type.name == "local_gpu") {
          expected = count == 1 && std::any_of(gpus.begin(), gpus.end(), [](const GpuInfo& gpu) {
                       return gpu.compute_capability >= ComputeCapability{7, 5};
                     });
        } else if (type.accelerator_kind == platform::AcceleratorKind::kNone) {
          expected = true;
        } else if (type.has_nvidia_gpus() && type.accelerator_count) {
          int qualifying = 0;
          for (const GpuInfo& gpu : gpus) {
            double gib = static_cast<double>(gpu.total_memory_bytes) / (1ull << 30);
            if (gib >= 0.9 * type.accelerator_memory_gib.value_or(0) &&
                gpu.compute_capability >= *type.compute_capability &&
                gpu.compute_capability >= ComputeCapability{7, 5}) {
              ++qualifying;
            }
          }
          expected = *type.compute_capability >= ComputeCapability{7, 5} &&
                     qualifying >= count * *type.accelerator_count;
        }
        EXPECT_EQ(decision.fits(), expected) << decision.refusal;
      }
    }
  }
}

}  // namespace
}  // namespace trainyard::jobs
