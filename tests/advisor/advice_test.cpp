// The ranking and recommendation pinned for a small fixed catalog and a fixed efficiency.
// With efficiency 0.5, 1e9 training FLOPs per sample and a batch of 100, a step takes
// 1e9 x 100 / (0.5 x float32 peak) = 2e11 / peak seconds; 10,000 steps make the epoch:
//   ml.a.xlarge, ml.a2.xlarge  A10G 31.2 TFLOP/s  64.10 s  at $1.00/h  $0.01781
//   ml.b.xlarge                L4   30.3 TFLOP/s  66.01 s  at $0.80/h  $0.01467
//   ml.c.xlarge                H100 67.0 TFLOP/s  29.85 s  at $10.0/h  $0.08292
//   ml.t.xlarge                T4    8.1 TFLOP/s 246.91 s  no price
#include "advisor/advice.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace trainyard::advisor {
namespace {

constexpr std::string_view kCatalog =
    "instance_type,vcpus,memory_gib,accelerator_count,accelerator_model,accelerator_memory_gib_"
    "each,accelerator_arch,compute_capability,interconnect,network_gbps,price_usd_per_hour_us_"
    "east_1,price_source,notes\n"
    "ml.a.xlarge,4,16,1,NVIDIA A10G,24,Ampere,8.6,PCIe; single GPU,up to 10,1.0,test,\n"
    "ml.a2.xlarge,4,16,1,NVIDIA A10G,24,Ampere,8.6,PCIe; single GPU,up to 10,1.0,test,\n"
    "ml.b.xlarge,4,16,1,NVIDIA L4,24,Ada Lovelace,8.9,PCIe; single GPU,10,0.8,test,\n"
    "ml.c.xlarge,4,16,1,NVIDIA H100 SXM5 80GB,80,Hopper,9.0,single GPU,100,10.0,test,\n"
    "ml.t.xlarge,4,16,1,NVIDIA T4,16,Turing,7.5,PCIe; single GPU,25,,unknown,\n"
    "ml.k.xlarge,4,61,1,NVIDIA Tesla K80 (GK210),12,Kepler,3.7,PCIe,,0.9,test,\n"
    "ml.v.xlarge,8,61,1,NVIDIA V100 SXM2 16GB,16,Volta,7.0,single GPU,10,3.0,test,\n"
    "ml.cpu.xlarge,4,16,0,,,,,none (CPU only),10,0.2,test,\n";

const platform::InstanceCatalog& test_catalog() {
  static const platform::InstanceCatalog catalog =
      platform::InstanceCatalog::from_csv(kCatalog, "test catalog");
  return catalog;
}

const platform::BuildTargets& build_for_turing_onward() {
  static const platform::BuildTargets build = platform::BuildTargets::parse("75;80;86;89;90");
  return build;
}

ModelWorkload workload() {
  return ModelWorkload{
      .training_flops_per_sample = 1'000'000'000,
      .gradient_bytes = 4'000'000,
      .run = RunShape{
          .samples_per_epoch = 1'000'000, .global_batch = 100, .epochs = 1, .startup_seconds = 0}};
}

AdviceOptions calibrated() {
  AdviceOptions options;
  options.measured_efficiency = 0.5;
  return options;
}

std::vector<std::string> order(const Advice& advice) {
  std::vector<std::string> names;
  for (const Candidate& candidate : advice.ranked) {
    names.push_back(candidate.type->name + " x" + std::to_string(candidate.instances));
  }
  return names;
}

const Candidate& recommended(const Advice& advice) {
  EXPECT_TRUE(advice.recommended.has_value());
  return advice.ranked.at(advice.recommended.value_or(0));
}

TEST(AdviceTest, RejectsArchitecturesCuda13DroppedAndSkipsCpuTypes) {
  const Advice advice =
      advise(test_catalog(), workload(), {}, calibrated(), build_for_turing_onward());
  ASSERT_EQ(advice.rejected.size(), 2u);
  EXPECT_EQ(advice.rejected[0].type->name, "ml.k.xlarge");
  EXPECT_NE(advice.rejected[0].reason.find("Kepler 3.7: CUDA 13 dropped"), std::string::npos)
      << advice.rejected[0].reason;
  EXPECT_EQ(advice.rejected[1].type->name, "ml.v.xlarge");
  EXPECT_NE(advice.rejected[1].reason.find("Volta 7.0"), std::string::npos);
  for (const Candidate& candidate : advice.ranked) EXPECT_NE(candidate.type->name, "ml.cpu.xlarge");
}

TEST(AdviceTest, ABuildWithoutTuringKernelsRejectsTheT4) {
  const Advice advice =
      advise(test_catalog(), workload(), {}, calibrated(), platform::BuildTargets::parse("80"));
  ASSERT_EQ(advice.rejected.size(), 3u);  // in catalog order: the T4 comes first
  EXPECT_EQ(advice.rejected[0].type->name, "ml.t.xlarge");
  EXPECT_NE(advice.rejected[0].reason.find("this build carries kernels for 8.0 only"),
            std::string::npos)
      << advice.rejected[0].reason;
}

TEST(AdviceTest, NeitherDeadlineNorBudgetRecommendsTheFastest) {
  const Advice advice =
      advise(test_catalog(), workload(), {}, calibrated(), build_for_turing_onward());
  // Equal A10G types tie on time and cost; the name decides.
  EXPECT_EQ(order(advice),
            (std::vector<std::string>{"ml.c.xlarge x1", "ml.a.xlarge x1", "ml.a2.xlarge x1",
                                      "ml.b.xlarge x1", "ml.t.xlarge x1"}));
  const Candidate& fastest = recommended(advice);
  EXPECT_NEAR(fastest.run->total_seconds, 2e11 / 67e12 * 10000, 1e-9);
  EXPECT_NEAR(*fastest.run->cost_usd, 2e11 / 67e12 * 10000 / 3600 * 10.0, 1e-12);
  EXPECT_NE(advice.reasoning.find("ml.c.xlarge x1 is the fastest"), std::string::npos)
      << advice.reasoning;
  EXPECT_NE(advice.reasoning.find("runner-up, ml.a.xlarge x1"), std::string::npos);
  EXPECT_NE(advice.reasoning.find("Rejected: ml.k.xlarge"), std::string::npos);
}

TEST(AdviceTest, DeadlineRecommendsTheCheapestThatMeetsIt) {
  AdviceOptions options = calibrated();
  options.deadline_seconds = 65;  // the H100 (29.9 s) and the A10Gs (64.1 s) meet it
  const Advice advice = advise(test_catalog(), workload(), {}, options, build_for_turing_onward());
  EXPECT_EQ(recommended(advice).type->name, "ml.a.xlarge");
  EXPECT_EQ(order(advice)[1], "ml.a2.xlarge x1");
  EXPECT_EQ(order(advice)[2], "ml.c.xlarge x1");
  const auto late = std::find_if(advice.ranked.begin(), advice.ranked.end(),
                                 [](const Candidate& c) { return c.type->name == "ml.b.xlarge"; });
  EXPECT_FALSE(late->meets_constraints);
  EXPECT_EQ(late->note, "misses the deadline");

  options.deadline_seconds = 120;  // everything priced meets it: the L4 is cheapest
  EXPECT_EQ(recommended(advise(test_catalog(), workload(), {}, options, build_for_turing_onward()))
                .type->name,
            "ml.b.xlarge");
}

TEST(AdviceTest, BudgetRecommendsTheFastestWithinIt) {
  AdviceOptions options = calibrated();
  options.budget_usd = 0.05;  // the A10Gs and the L4; the H100 costs $0.083
  EXPECT_EQ(recommended(advise(test_catalog(), workload(), {}, options, build_for_turing_onward()))
                .type->name,
            "ml.a.xlarge");
  options.budget_usd = 0.015;  // only the L4 ($0.0147)
  EXPECT_EQ(recommended(advise(test_catalog(), workload(), {}, options, build_for_turing_onward()))
                .type->name,
            "ml.b.xlarge");
  options.budget_usd = 0.001;
  const Advice none = advise(test_catalog(), workload(), {}, options, build_for_turing_onward());
  EXPECT_FALSE(none.recommended);
  EXPECT_NE(none.reasoning.find("No instance type meets"), std::string::npos);
}

TEST(AdviceTest, MemoryThatDoesNotFitIsNotRecommended) {
  // 30 GiB per GPU at the full batch: only the 80 GiB H100 fits one GPU.
  const MemoryNeeded memory = [](int64_t per_gpu_batch) -> std::optional<uint64_t> {
    return uint64_t{30} * 1024 * 1024 * 1024 * per_gpu_batch / 100;
  };
  AdviceOptions options = calibrated();
  options.deadline_seconds = 3600;
  const Advice advice =
      advise(test_catalog(), workload(), memory, options, build_for_turing_onward());
  EXPECT_EQ(recommended(advice).type->name, "ml.c.xlarge");
  EXPECT_EQ(advice.ranked.back().note, "does not fit GPU memory");
}

TEST(AdviceTest, MoreInstancesSplitTheBatchAndPayForTheAllReduce) {
  AdviceOptions options = calibrated();
  options.max_instances = 2;
  const Advice advice = advise(test_catalog(), workload(), {}, options, build_for_turing_onward());
  EXPECT_EQ(advice.ranked.size(), 10u);  // five types x two counts
  const Candidate& two_h100 = advice.ranked.front();
  EXPECT_EQ(order(advice).front(), "ml.c.xlarge x2");
  // 50 samples per GPU; all-reduce 2 (2 - 1) / 2 x 4e6 bytes over 100 Gbit/s.
  EXPECT_NEAR(two_h100.step->compute_seconds, 1e9 * 50 / (0.5 * 67e12), 1e-15);
  EXPECT_NEAR(two_h100.step->all_reduce_seconds, 4e6 / (100e9 / 8), 1e-15);
}

TEST(AdviceTest, WithoutAModelRanksByThroughputPerDollar) {
  const Advice advice =
      advise(test_catalog(), std::nullopt, {}, calibrated(), build_for_turing_onward());
  // 0.5 x peak / price: L4 18.9, A10G 15.6 (twice, by name), H100 3.35 TFLOP/s per USD/h;
  // the T4 has no price.
  EXPECT_EQ(order(advice),
            (std::vector<std::string>{"ml.b.xlarge x1", "ml.a.xlarge x1", "ml.a2.xlarge x1",
                                      "ml.c.xlarge x1", "ml.t.xlarge x1"}));
  EXPECT_NEAR(*advice.ranked[0].throughput_per_dollar, 0.5 * 30.3e12 / 0.8, 1);
  EXPECT_EQ(advice.ranked.back().note, "price unknown");
  EXPECT_NE(advice.reasoning.find("times need --model"), std::string::npos);
  EXPECT_EQ(recommended(advice).type->name, "ml.b.xlarge");
}

TEST(AdviceTest, RejectsBadOptions) {
  AdviceOptions options = calibrated();
  options.budget_usd = -1;
  EXPECT_THROW(advise(test_catalog(), workload(), {}, options, build_for_turing_onward()),
               ValueError);
  options = calibrated();
  options.max_instances = 0;
  EXPECT_THROW(advise(test_catalog(), workload(), {}, options, build_for_turing_onward()),
               ValueError);
}

}  // namespace
}  // namespace trainyard::advisor
