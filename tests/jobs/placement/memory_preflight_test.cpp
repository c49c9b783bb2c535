// The job memory preflight: a built-in trainer job whose model does not fit its instance
// type's GPU memory is refused with the estimate and three ways out; one that fits with
// under 10% headroom is warned about; others pass silently.
#include "jobs/placement/memory_preflight.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "advisor/memory_estimate.h"
#include "keras/model_config.h"
#include "keras/sequential.h"
#include "nn/optimizers/optimizers.h"

namespace trainyard::jobs {
namespace {

constexpr double kGib = 1024.0 * 1024.0 * 1024.0;

std::string mlp_config() {
  const char* root = std::getenv("TRAINYARD_SOURCE_DIR");
  std::ifstream file(std::string(root != nullptr ? root : TRAINYARD_SOURCE_DIR_FALLBACK) +
                     "/examples/fashion_mnist/model.json");
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_FALSE(text.str().empty());
  return text.str();
}

// Three single-GPU types: one far too small, two that hold the job (the cheaper named).
platform::InstanceCatalog test_catalog() {
  return platform::InstanceCatalog::from_csv(
      "instance_type,vcpus,memory_gib,accelerator_count,accelerator_model,"
      "accelerator_memory_gib_each,accelerator_arch,compute_capability,interconnect,"
      "network_gbps,price_usd_per_hour_us_east_1,price_source,notes\n"
      "ml.tiny.xlarge,4,16,1,NVIDIA A10G,0.01,Ampere,8.6,single GPU,10,1.0,test,\n"
      "ml.pricey.xlarge,4,16,1,NVIDIA T4,1,Turing,7.5,single GPU,10,9.0,test,\n"
      "ml.roomy.xlarge,4,16,1,NVIDIA T4,1,Turing,7.5,single GPU,10,2.5,test,\n",
      "test.csv");
}

TrainingJobSpec mlp_job(int64_t batch_size) {
  TrainingJobSpec spec;
  spec.training_job_name = "fashion-mlp";
  spec.hyper_parameters["model_config"] = mlp_config();
  spec.hyper_parameters["batch_size"] = std::to_string(batch_size);
  return spec;
}

uint64_t estimate_at(int64_t batch) {
  keras::Sequential model = keras::model_from_json(mlp_config());
  return advisor::estimate_training_memory(model, batch, "adam", Device("cuda:0")).total();
}

TEST(MemoryPreflightTest, RefusesAJobThatDoesNotFitWithTheNumbersAndThreeWaysOut) {
  platform::InstanceCatalog catalog = test_catalog();
  const platform::InstanceType& tiny = catalog.require("ml.tiny.xlarge");
  MemoryPreflight result = check_job_memory(mlp_job(4096), tiny, catalog);
  ASSERT_TRUE(result.refusal.has_value());
  const std::string& text = *result.refusal;
  EXPECT_NE(text.find("ResourceConfig.InstanceType ml.tiny.xlarge"), std::string::npos) << text;
  EXPECT_NE(text.find("HyperParameters.batch_size 4096"), std::string::npos) << text;
  EXPECT_NE(text.find("optimizer slots"), std::string::npos) << text;
  EXPECT_NE(text.find("has 10.2 MiB"), std::string::npos) << text;  // 0.01 GiB

  // The batch named is the largest whose estimate fits 0.01 GiB.
  const std::string marker = "HyperParameters.batch_size ";
  size_t at = text.find(marker, text.find("(1)"));
  ASSERT_NE(at, std::string::npos) << text;
  int64_t fitting = std::stoll(text.substr(at + marker.size()));
  EXPECT_LE(static_cast<double>(estimate_at(fitting)), 0.01 * kGib);
  EXPECT_GT(static_cast<double>(estimate_at(fitting + 1)), 0.01 * kGib);
  EXPECT_NE(text.find("(2) an instance type with more GPU memory: ml.roomy.xlarge"),
            std::string::npos)
      << text;
  int64_t gpus = (4096 + fitting - 1) / fitting;
  EXPECT_NE(text.find("(3) more GPUs: spread the batch over " + std::to_string(gpus) + " GPUs"),
            std::string::npos)
      << text;
  EXPECT_TRUE(result.warnings.empty());
}

TEST(MemoryPreflightTest, NamesAnUnpricedTypeWithEnoughMemoryWhenNoPricedOneHasIt) {
  platform::InstanceCatalog catalog = platform::InstanceCatalog::from_csv(
      "instance_type,vcpus,memory_gib,accelerator_count,accelerator_model,"
      "accelerator_memory_gib_each,accelerator_arch,compute_capability,interconnect,"
      "network_gbps,price_usd_per_hour_us_east_1,price_source,notes\n"
      "ml.tiny.xlarge,4,16,1,NVIDIA A10G,0.01,Ampere,8.6,single GPU,10,1.0,test,\n"
      "ml.huge.xlarge,4,16,1,NVIDIA T4,4,Turing,7.5,single GPU,10,,unknown,\n"
      "ml.roomy.xlarge,4,16,1,NVIDIA L4,1,Ada Lovelace,8.9,single GPU,10,,unknown,\n",
      "test.csv");
  MemoryPreflight result =
      check_job_memory(mlp_job(4096), catalog.require("ml.tiny.xlarge"), catalog);
  ASSERT_TRUE(result.refusal.has_value());
  EXPECT_NE(result.refusal->find("(2) an instance type with more GPU memory: ml.roomy.xlarge fits "
                                 "(1.00 GiB per GPU, price unknown)"),
            std::string::npos)
      << *result.refusal;
}

platform::InstanceType gpu_with(double bytes) {
  platform::InstanceType type = test_catalog().require("ml.roomy.xlarge");
  type.accelerator_memory_gib = bytes / kGib;
  return type;
}

TEST(MemoryPreflightTest, WarnsWhenUnderTenPercentIsLeft) {
  const double needed = static_cast<double>(estimate_at(256));
  MemoryPreflight tight = check_job_memory(mlp_job(256), gpu_with(needed * 1.05), test_catalog());
  EXPECT_FALSE(tight.refusal.has_value());
  ASSERT_EQ(tight.warnings.size(), 1u);
  EXPECT_NE(tight.warnings[0].find("under 10%"), std::string::npos) << tight.warnings[0];

  MemoryPreflight roomy = check_job_memory(mlp_job(256), gpu_with(needed * 1.2), test_catalog());
  EXPECT_FALSE(roomy.refusal.has_value());
  EXPECT_TRUE(roomy.warnings.empty());
}

// Each host of a multi-instance job trains on its share of batch_size: a batch that does
// not fit one GPU whole fits when four hosts split it, and a refusal names the split.
TEST(MemoryPreflightTest, SplitsTheBatchOverTheJobsInstances) {
  const double room = static_cast<double>(estimate_at(1024)) * 1.2;  // 1024 per GPU fits
  ASSERT_GT(static_cast<double>(estimate_at(4096)), room);
  TrainingJobSpec four_hosts = mlp_job(4096);
  four_hosts.resource_config = ResourceConfig{.instance_count = 4};
  MemoryPreflight split = check_job_memory(four_hosts, gpu_with(room), test_catalog());
  EXPECT_FALSE(split.refusal.has_value()) << split.refusal.value_or("");
  EXPECT_TRUE(check_job_memory(mlp_job(4096), gpu_with(room), test_catalog()).refusal.has_value());

  TrainingJobSpec two_hosts = mlp_job(4096);
  two_hosts.resource_config = ResourceConfig{.instance_count = 2};
  MemoryPreflight refused = check_job_memory(two_hosts, gpu_with(room), test_catalog());
  ASSERT_TRUE(refused.refusal.has_value());
  const std::string& text = *refused.refusal;
  EXPECT_NE(text.find("HyperParameters.batch_size 4096 split over ResourceConfig.InstanceCount 2 "
                      "(2048 per GPU)"),
            std::string::npos)
      << text;
  // Way out (1) gives the global batch_size whose per-GPU share is the largest that fits.
  const std::string marker = "(1) a smaller batch: HyperParameters.batch_size ";
  size_t at = text.find(marker);
  ASSERT_NE(at, std::string::npos) << text;
  const int64_t global = std::stoll(text.substr(at + marker.size()));
  EXPECT_EQ(global % 2, 0) << text;
  EXPECT_LE(static_cast<double>(estimate_at(global / 2)), room);
  EXPECT_GT(static_cast<double>(estimate_at(global / 2 + 1)), room);
}

TEST(MemoryPreflightTest, PassesJobsItCannotJudge) {
  platform::InstanceCatalog catalog = test_catalog();
  const platform::InstanceType& tiny = catalog.require("ml.tiny.xlarge");
  TrainingJobSpec no_model = mlp_job(4096);
  no_model.hyper_parameters.erase("model_config");
  EXPECT_FALSE(check_job_memory(no_model, tiny, catalog).refusal.has_value());

  platform::InstanceType cpu_only = tiny;
  cpu_only.accelerator_kind = platform::AcceleratorKind::kNone;
  cpu_only.accelerator_count = 0;
  EXPECT_FALSE(check_job_memory(mlp_job(4096), cpu_only, catalog).refusal.has_value());
}

TEST(MemoryPreflightTest, NamesTheFieldOfAModelConfigThatDoesNotParse) {
  platform::InstanceCatalog catalog = test_catalog();
  TrainingJobSpec spec = mlp_job(32);
  spec.hyper_parameters["model_config"] = "{\"class_name\": \"Sequential\"}";
  try {
    check_job_memory(spec, catalog.require("ml.tiny.xlarge"), catalog);
    FAIL() << "expected ValueError";
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what()).find("HyperParameters.model_config"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace trainyard::jobs
