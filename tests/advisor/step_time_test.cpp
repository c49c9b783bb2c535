// Step time, all-reduce, link bandwidths and run cost against hand-computed figures.
#include "advisor/step_time.h"

#include <gtest/gtest.h>

#include "advisor/gpu_peak_rates.h"
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

TEST(StepTimeTest, EveryOpCallAddsItsFloor) {
  StepInputs inputs = four_gpus_in_one_instance();
  inputs.calls_per_step = 7;
  inputs.seconds_per_call = 10e-6;
  const StepTime time = estimate_step_time(inputs);
  EXPECT_DOUBLE_EQ(time.call_seconds, 70e-6);
  EXPECT_DOUBLE_EQ(time.compute_seconds, 1e9 * 16 / 5e12);  // unchanged by the floor
  EXPECT_DOUBLE_EQ(time.seconds(), time.compute_seconds + 70e-6 + time.all_reduce_seconds);
  // The H200 fit behind the default floor: the batch-32 MLP (610,324 training FLOPs per
  // sample, 7 calls) at 67 TFLOP/s x 0.3 takes about 72 us a step, as measured.
  StepInputs mlp{.training_flops_per_sample = 610'324,
                 .global_batch = 32,
                 .peak_flops_per_gpu = 67e12,
                 .efficiency = 0.3,
                 .calls_per_step = 7,
                 .seconds_per_call = seconds_per_call("Hopper")};
  EXPECT_NEAR(estimate_step_time(mlp).seconds(), 72e-6, 2e-6);
}

TEST(StepTimeTest, RejectsNonsenseInputs) {
  StepInputs inputs = four_gpus_in_one_instance();
  inputs.efficiency = 1.5;
  EXPECT_THROW(estimate_step_time(inputs), ValueError);
  inputs.efficiency = 0;
  EXPECT_THROW(estimate_step_time(inputs), ValueError);
  inputs = four_gpus_in_one_instance();
  inputs.calls_per_step = -1;
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
