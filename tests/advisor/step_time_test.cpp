// Step time, all-reduce, link bandwidths and run cost against hand-computed figures.
#include "advisor/step_time.h"

#include <gtest/gtest.h>

#include "advisor/link_bandwidth.h"
#include "advisor/training_cost.h"
#include "core/error.h"

namespace trainyard::advisor {
namespace {

StepInputs four_gpus_in_one_instance() {
  return StepInputs{.training_flops_per_sample = 1'000'000'000,
                    .global_batch = 64,
                    .total_gpus = 4,
                    .instances = 1,
                    .peak_flops_per_gpu = 10e12,
                    .efficiency = 0.5,
                    .gradient_bytes = 400'000'000,
                    .intra_instance_bytes_per_second = 100e9,
                    .inter_instance_bytes_per_second = 12.5e9};
}

TEST(StepTimeTest, ComputeSplitsTheBatchAndAllReduceUsesTheGpuLink) {
  const StepTime time = estimate_step_time(four_gpus_in_one_instance());
  EXPECT_EQ(time.per_gpu_batch, 16);  // 64 / 4
  // 1e9 FLOPs x 16 samples / (10e12 x 0.5)
  EXPECT_DOUBLE_EQ(time.compute_seconds, 1e9 * 16 / 5e12);
  // 2 (4 - 1) / 4 x 4e8 bytes / 100e9 bytes/s
  EXPECT_DOUBLE_EQ(time.all_reduce_seconds, 1.5 * 4e8 / 100e9);
}

TEST(StepTimeTest, SeveralInstancesAllReduceOverTheNetwork) {
  StepInputs inputs = four_gpus_in_one_instance();
  inputs.instances = 2;
  inputs.total_gpus = 8;
  const StepTime time = estimate_step_time(inputs);
  EXPECT_EQ(time.per_gpu_batch, 8);
  EXPECT_DOUBLE_EQ(time.compute_seconds, 1e9 * 8 / 5e12);
  // 2 (8 - 1) / 8 x 4e8 / 12.5e9
  EXPECT_DOUBLE_EQ(time.all_reduce_seconds, 1.75 * 4e8 / 12.5e9);
}

TEST(StepTimeTest, OneGpuNeedsNoAllReduceAndUnevenBatchesRoundUp) {
  EXPECT_EQ(ring_all_reduce_seconds(1000, 1, 0), 0);
  StepInputs inputs = four_gpus_in_one_instance();
  inputs.global_batch = 65;
  EXPECT_EQ(estimate_step_time(inputs).per_gpu_batch, 17);
}

TEST(StepTimeTest, RejectsNonsenseInputs) {
  StepInputs inputs = four_gpus_in_one_instance();
  inputs.efficiency = 1.5;
  EXPECT_THROW(estimate_step_time(inputs), ValueError);
  inputs.efficiency = 0;
  EXPECT_THROW(estimate_step_time(inputs), ValueError);
}

TEST(TrainingCostTest, EpochsStartupAndPrice) {
  const RunShape shape{
      .samples_per_epoch = 1000, .global_batch = 64, .epochs = 3, .startup_seconds = 300};
  const RunEstimate run = estimate_run(0.5, shape, 3.6, 2);
  EXPECT_EQ(run.steps_per_epoch, 16);  // ceil(1000 / 64)
  EXPECT_DOUBLE_EQ(run.epoch_seconds, 8);
  EXPECT_DOUBLE_EQ(run.total_seconds, 300 + 3 * 8);
  ASSERT_TRUE(run.cost_usd);
  EXPECT_NEAR(*run.cost_usd, 324.0 / 3600 * 3.6 * 2, 1e-12);
  EXPECT_FALSE(estimate_run(0.5, shape, std::nullopt, 1).cost_usd);
  EXPECT_THROW(estimate_run(0.5, RunShape{.samples_per_epoch = 0, .global_batch = 1}, 1.0, 1),
               ValueError);
}

platform::InstanceType type_with_links(std::string interconnect, std::string network) {
  platform::InstanceType type;
  type.interconnect = std::move(interconnect);
  type.network_gbps = std::move(network);
  return type;
}

TEST(LinkBandwidthTest, NvlinkGenerationsPcieAndNetworkFigures) {
  EXPECT_DOUBLE_EQ(
      intra_instance_bandwidth(type_with_links("NVSwitch/NVLink 3 (600 GB/s per GPU)", "")), 300e9);
  EXPECT_DOUBLE_EQ(intra_instance_bandwidth(type_with_links("NVLink 2", "")), 150e9);
  EXPECT_DOUBLE_EQ(intra_instance_bandwidth(type_with_links("PCIe (no NVLink); EFA", "")), 16e9);
  EXPECT_DOUBLE_EQ(inter_instance_bandwidth(type_with_links("", "up to 25")), 25e9 / 8);
  EXPECT_DOUBLE_EQ(inter_instance_bandwidth(type_with_links("", "3200")), 3200e9 / 8);
  EXPECT_DOUBLE_EQ(inter_instance_bandwidth(type_with_links("", "")), 10e9 / 8);
}

}  // namespace
}  // namespace trainyard::advisor
