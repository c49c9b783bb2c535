// Valid requests parse, and every member lands in the spec where it belongs.
#include <gtest/gtest.h>

#include "core/error.h"
#include "job_spec_test_util.h"

namespace trainyard::jobs {
namespace {

using testing::seed_request;
using testing::spec_of;
using testing::testdata_text;

TEST(JobSpecValidTest, SeedRequestFromTheGpuGuideParses) {
  const TrainingJobSpec spec = spec_of(testdata_text("seed_job.json"));
  EXPECT_EQ(spec.training_job_name, "seed-gpu-training-job");
  ASSERT_TRUE(spec.algorithm_specification);
  EXPECT_EQ(spec.algorithm_specification->training_image,
            "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:2.13.0-gpu-py310");
  EXPECT_EQ(spec.algorithm_specification->training_input_mode, TrainingInputMode::kFile);
  EXPECT_EQ(spec.role_arn, "arn:aws:iam::123456789012:role/SageMakerRole");
  ASSERT_EQ(spec.input_data_config.size(), 1u);
  const Channel& channel = spec.input_data_config[0];
  EXPECT_EQ(channel.channel_name, "training");
  ASSERT_TRUE(channel.data_source.s3_data_source);
  EXPECT_EQ(channel.data_source.s3_data_source->s3_data_type, S3DataType::kS3Prefix);
  EXPECT_EQ(channel.data_source.s3_data_source->s3_uri, "s3://your-bucket/training-data/");
  EXPECT_EQ(channel.data_source.s3_data_source->s3_data_distribution_type,
            S3DataDistribution::kFullyReplicated);
  EXPECT_FALSE(channel.input_mode);
  EXPECT_EQ(effective_input_mode(spec, channel), TrainingInputMode::kFile);
  EXPECT_EQ(spec.output_data_config.s3_output_path, "s3://your-bucket/output/");
  ASSERT_TRUE(spec.resource_config);
  EXPECT_EQ(spec.resource_config->instance_type, "ml.p2.xlarge");
  EXPECT_EQ(spec.resource_config->instance_count, 1);
  EXPECT_EQ(spec.resource_config->volume_size_in_gb, 50);
  ASSERT_TRUE(spec.stopping_condition);
  EXPECT_EQ(spec.stopping_condition->max_runtime_in_seconds, 86400);
  EXPECT_FALSE(spec.enable_managed_spot_training);
  EXPECT_TRUE(spec.hyper_parameters.empty());
}

TEST(JobSpecValidTest, SeedParsesUnderTheStrictestOptions) {
  const ParseOptions strict{
      .reject_unknown_fields = true, .require_role_arn = true, .allow_file_uris = false};
  EXPECT_TRUE(parse_create_training_job(testdata_text("seed_job.json"), strict).ok());
}

TEST(JobSpecValidTest, FullRequestKeepsEveryMember) {
  const TrainingJobSpec spec = spec_of(testdata_text("full_job.json"));
  EXPECT_EQ(spec.hyper_parameters.at("sagemaker_program"), "\"train.py\"");
  EXPECT_EQ(spec.hyper_parameters.size(), 4u);
  const AlgorithmSpecification& algorithm = *spec.algorithm_specification;
  EXPECT_EQ(algorithm.training_input_mode, TrainingInputMode::kFastFile);
  ASSERT_EQ(algorithm.metric_definitions.size(), 2u);
  EXPECT_EQ(algorithm.metric_definitions[1].name, "validation:accuracy");
  EXPECT_EQ(algorithm.metric_definitions[1].regex, "val_accuracy: ([0-9\\.]+)");
  EXPECT_EQ(algorithm.enable_sage_maker_metrics_time_series, true);
  EXPECT_EQ(algorithm.container_entrypoint, std::vector<std::string>{"/bin/bash"});
  EXPECT_EQ(algorithm.container_arguments.size(), 2u);
  ASSERT_TRUE(algorithm.training_image_config);
  EXPECT_EQ(algorithm.training_image_config->training_repository_access_mode,
            TrainingRepositoryAccessMode::kVpc);

  ASSERT_EQ(spec.input_data_config.size(), 4u);
  const Channel& train = spec.input_data_config[0];
  EXPECT_EQ(train.compression_type, CompressionType::kGzip);
  EXPECT_EQ(train.record_wrapper_type, RecordWrapper::kRecordIO);
  EXPECT_EQ(train.input_mode, TrainingInputMode::kPipe);
  EXPECT_EQ(effective_input_mode(spec, train), TrainingInputMode::kPipe);
  EXPECT_EQ(train.shuffle_config->seed, -42);
  EXPECT_EQ(train.data_source.s3_data_source->attribute_names.size(), 2u);
  EXPECT_EQ(train.data_source.s3_data_source->model_access_config->accept_eula, true);
  const Channel& validation = spec.input_data_config[1];
  ASSERT_TRUE(validation.data_source.file_system_data_source);
  EXPECT_EQ(validation.data_source.file_system_data_source->file_system_type,
            FileSystemType::kFsxLustre);
  EXPECT_EQ(effective_input_mode(spec, validation), TrainingInputMode::kFastFile);
  EXPECT_EQ(spec.input_data_config[2].data_source.s3_data_source->s3_uri,
            "file:///data/full/manifest.json");
  EXPECT_TRUE(spec.input_data_config[3].data_source.dataset_source);

  EXPECT_EQ(spec.output_data_config.compression_type, OutputCompressionType::kNone);
  const ResourceConfig& resources = *spec.resource_config;
  EXPECT_FALSE(resources.instance_type);
  ASSERT_EQ(resources.instance_groups.size(), 2u);
  EXPECT_EQ(resources.instance_groups[0].instance_count, 2);
  EXPECT_EQ(resources.keep_alive_period_in_seconds, 1800);
  EXPECT_EQ(resources.instance_placement_config->placement_specifications[0].ultra_server_id,
            "us-0001");
  EXPECT_EQ(spec.vpc_config->subnets.size(), 2u);
  EXPECT_EQ(spec.stopping_condition->max_wait_time_in_seconds, 172800);
  ASSERT_EQ(spec.tags.size(), 2u);
  EXPECT_EQ(spec.tags[1].value, "");
  EXPECT_EQ(spec.enable_network_isolation, false);  // given as false: kept, not dropped
  EXPECT_EQ(spec.checkpoint_config->local_path, "/opt/ml/checkpoints/");
  EXPECT_EQ(spec.debug_hook_config->collection_configurations[0].collection_parameters.at(
                "save_interval"),
            "10");
  EXPECT_EQ(spec.debug_rule_configurations[0].volume_size_in_gb, 0);
  EXPECT_EQ(spec.profiler_config->profiling_interval_in_milliseconds, 500);
  EXPECT_EQ(spec.profiler_rule_configurations.size(), 1u);
  EXPECT_EQ(spec.environment.at("_PRIVATE"), "multi\nline value");
  EXPECT_EQ(spec.retry_strategy->maximum_retry_attempts, 3);
  EXPECT_EQ(spec.infra_check_config->enable_infra_check, true);
  EXPECT_EQ(spec.experiment_config->run_name, "run-7");
  EXPECT_EQ(spec.mlflow_config->mlflow_run_name, "run-7");
  EXPECT_TRUE(spec.model_package_config->source_model_package_arn);
}

TEST(JobSpecValidTest, ServerlessRequestNeedsNoAlgorithmResourcesOrStoppingCondition) {
  const TrainingJobSpec spec = spec_of(testdata_text("serverless_job.json"));
  EXPECT_FALSE(spec.algorithm_specification);
  EXPECT_FALSE(spec.resource_config);
  ASSERT_TRUE(spec.serverless_job_config);
  EXPECT_EQ(spec.serverless_job_config->job_type, ServerlessJobType::kFineTuning);
  EXPECT_EQ(spec.serverless_job_config->peft, Peft::kLora);
}

TEST(JobSpecValidTest, RoleArnIsOptionalForJobFilesAndRequiredOnRequest) {
  nlohmann::json request = seed_request();
  request.erase("RoleArn");
  EXPECT_FALSE(spec_of(request).role_arn);
  const ValidationErrors errors =
      testing::errors_of(request, ParseOptions{.require_role_arn = true});
  EXPECT_EQ(errors.message(),
            "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: "
            "Member must not be null");
}

TEST(JobSpecValidTest, LocalInstanceTypesNeedNoVolume) {
  for (const char* type : {"local", "local_gpu"}) {
    nlohmann::json request = seed_request();
    request["ResourceConfig"] = {{"InstanceType", type}, {"InstanceCount", 1}};
    EXPECT_EQ(spec_of(request).resource_config->instance_type, type);
  }
}

TEST(JobSpecValidTest, JsonNullMeansAbsent) {
  nlohmann::json request = seed_request();
  request["HyperParameters"] = nullptr;
  request["VpcConfig"] = nullptr;
  request["ResourceConfig"]["KeepAlivePeriodInSeconds"] = nullptr;
  const TrainingJobSpec spec = spec_of(request);
  EXPECT_FALSE(spec.vpc_config);
  EXPECT_FALSE(spec.resource_config->keep_alive_period_in_seconds);
}

TEST(JobSpecValidTest, LenientModeDropsUnknownMembers) {
  nlohmann::json request = seed_request();
  request["SomeFutureMember"] = {{"Anything", 1}};
  request["ResourceConfig"]["FutureSetting"] = true;
  const TrainingJobSpec spec = spec_of(request, ParseOptions{.reject_unknown_fields = false});
  EXPECT_EQ(spec, spec_of(seed_request()));
}

TEST(JobSpecValidTest, BoundaryValuesAreAccepted) {
  nlohmann::json request = seed_request();
  request["TrainingJobName"] = std::string(63, 'a');
  request["HyperParameters"] = {{std::string(256, 'k'), std::string(2500, 'v')}};
  request["ResourceConfig"]["KeepAlivePeriodInSeconds"] = 21600;
  request["StoppingCondition"]["MaxRuntimeInSeconds"] = 2419200;
  request["RetryStrategy"] = {{"MaximumRetryAttempts", 30}};
  request["Tags"] = nlohmann::json::array();
  for (int i = 0; i < 50; ++i) {
    request["Tags"].push_back(
        {{"Key", testing::numbered("k", i)}, {"Value", std::string(256, 'v')}});
  }
  EXPECT_TRUE(parse_create_training_job(request.dump()).ok());
}

TEST(JobSpecValidTest, ResultAccessorsRefuseTheWrongAlternative) {
  ParseResult failed = parse_create_training_job("{}");
  ASSERT_FALSE(failed.ok());
  EXPECT_THROW(failed.spec(), InternalError);
  ParseResult parsed = parse_create_training_job(testdata_text("seed_job.json"));
  ASSERT_TRUE(parsed.ok());
  EXPECT_THROW(parsed.errors(), InternalError);
}

}  // namespace
}  // namespace trainyard::jobs
