// A training job as trainyard runs it: the members of SageMaker's CreateTrainingJobRequest
// (botocore model 2017-07-24), one C++ struct per model structure, every member kept.
//
// Conventions: member names are the model's in snake_case (VolumeSizeInGB -> volume_size_in_gb).
// Optional scalars and structures are std::optional and absent unless the request gave them;
// no defaults are filled in (see the effective_* helpers for the values SageMaker would use).
// Optional lists and maps are plain containers: absent and empty mean the same, and to_json
// leaves empty ones out. Members the model marks required are plain values. Model Integer is
// int32_t, Long is int64_t. Members trainyard does not act on (Debugger, profiler, MLflow,
// serverless, ...) are still parsed, validated and kept so a request round-trips unchanged.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "jobs/job_spec_enums.h"

namespace trainyard::jobs {

// A map of string to string (HyperParameters, Environment, rule parameters, ...).
using StringMap = std::map<std::string, std::string>;

struct MetricDefinition {
  std::string name;   // [1..255]
  std::string regex;  // [1..500]; its first capture group is the metric's value
  bool operator==(const MetricDefinition&) const = default;
};

struct TrainingRepositoryAuthConfig {
  std::string training_repository_credentials_provider_arn;  // a Lambda function ARN
  bool operator==(const TrainingRepositoryAuthConfig&) const = default;
};

struct TrainingImageConfig {
  TrainingRepositoryAccessMode training_repository_access_mode =
      TrainingRepositoryAccessMode::kPlatform;
  std::optional<TrainingRepositoryAuthConfig> training_repository_auth_config;
  bool operator==(const TrainingImageConfig&) const = default;
};

struct AlgorithmSpecification {
  std::optional<std::string> training_image;  // exactly one of training_image / algorithm_name
  std::optional<std::string> algorithm_name;
  TrainingInputMode training_input_mode = TrainingInputMode::kFile;  // required
  std::vector<MetricDefinition> metric_definitions;                  // at most 40
  std::optional<bool> enable_sage_maker_metrics_time_series;
  std::vector<std::string> container_entrypoint;  // replaces the image's ENTRYPOINT when given
  std::vector<std::string> container_arguments;   // replaces the image's CMD when given
  std::optional<TrainingImageConfig> training_image_config;
  bool operator==(const AlgorithmSpecification&) const = default;
};

struct ModelAccessConfig {
  bool accept_eula = false;
  bool operator==(const ModelAccessConfig&) const = default;
};

struct HubAccessConfig {
  std::string hub_content_arn;
  bool operator==(const HubAccessConfig&) const = default;
};

struct S3DataSource {
  S3DataType s3_data_type = S3DataType::kS3Prefix;
  // s3://bucket/prefix, https://..., or (trainyard) file:///absolute/path.
  std::string s3_uri;
  std::optional<S3DataDistribution>
      s3_data_distribution_type;             // SageMaker's default: FullyReplicated
  std::vector<std::string> attribute_names;  // augmented manifests only
  std::vector<std::string>
      instance_group_names;  // heterogeneous clusters: groups given this channel
  std::optional<ModelAccessConfig> model_access_config;
  std::optional<HubAccessConfig> hub_access_config;
  bool operator==(const S3DataSource&) const = default;
};

struct FileSystemDataSource {
  std::string file_system_id;  // fs-0123abcd...
  FileSystemAccessMode file_system_access_mode = FileSystemAccessMode::kRo;
  FileSystemType file_system_type = FileSystemType::kEfs;
  std::string directory_path;
  bool operator==(const FileSystemDataSource&) const = default;
};

struct DatasetSource {
  std::string dataset_arn;
  bool operator==(const DatasetSource&) const = default;
};

// Exactly one member is set in a valid spec.
struct DataSource {
  std::optional<S3DataSource> s3_data_source;
  std::optional<FileSystemDataSource> file_system_data_source;
  std::optional<DatasetSource> dataset_source;
  bool operator==(const DataSource&) const = default;
};

struct ShuffleConfig {
  int64_t seed = 0;
  bool operator==(const ShuffleConfig&) const = default;
};

// One element of InputDataConfig: a named input, staged at <input>/data/<channel_name>.
struct Channel {
  std::string channel_name;  // [1..64] [A-Za-z0-9.\-_]+, unique within the job
  DataSource data_source;
  std::optional<std::string> content_type;
  std::optional<CompressionType> compression_type;   // SageMaker's default: None
  std::optional<RecordWrapper> record_wrapper_type;  // SageMaker's default: None
  std::optional<TrainingInputMode> input_mode;       // default: the algorithm's TrainingInputMode
  std::optional<ShuffleConfig> shuffle_config;
  bool operator==(const Channel&) const = default;
};

struct OutputDataConfig {
  std::optional<std::string> kms_key_id;
  std::string s3_output_path;                             // where model.tar.gz goes
  std::optional<OutputCompressionType> compression_type;  // SageMaker's default: GZIP
  bool operator==(const OutputDataConfig&) const = default;
};

struct InstanceGroup {
  std::string instance_type;
  int32_t instance_count = 1;
  std::string instance_group_name;
  bool operator==(const InstanceGroup&) const = default;
};

struct PlacementSpecification {
  std::optional<std::string> ultra_server_id;
  int32_t instance_count = 0;
  bool operator==(const PlacementSpecification&) const = default;
};

struct InstancePlacementConfig {
  std::optional<bool> enable_multiple_jobs;
  std::vector<PlacementSpecification> placement_specifications;
  bool operator==(const InstancePlacementConfig&) const = default;
};

// Either instance_type + instance_count (a homogeneous cluster) or instance_groups.
struct ResourceConfig {
  std::optional<std::string> instance_type;  // TrainingInstanceType, "local" or "local_gpu"
  std::optional<int32_t> instance_count;     // >= 1
  std::optional<int32_t> volume_size_in_gb;  // >= 1; required unless every instance is local
  std::optional<std::string> volume_kms_key_id;
  std::optional<int32_t> keep_alive_period_in_seconds;  // warm pool, [0..21600]
  std::vector<InstanceGroup> instance_groups;           // at most 5
  std::optional<std::string> training_plan_arn;
  std::optional<InstancePlacementConfig> instance_placement_config;
  bool operator==(const ResourceConfig&) const = default;
};

struct VpcConfig {
  std::vector<std::string> security_group_ids;  // [1..5]
  std::vector<std::string> subnets;             // [1..16]
  bool operator==(const VpcConfig&) const = default;
};

struct StoppingCondition {
  std::optional<int32_t> max_runtime_in_seconds;       // [1..2419200] (28 days)
  std::optional<int32_t> max_wait_time_in_seconds;     // spot only; >= max_runtime_in_seconds
  std::optional<int32_t> max_pending_time_in_seconds;  // [7200..2419200]
  bool operator==(const StoppingCondition&) const = default;
};

struct Tag {
  std::string key;    // [1..128]
  std::string value;  // [0..256]
  bool operator==(const Tag&) const = default;
};

struct CheckpointConfig {
  std::string s3_uri;
  std::optional<std::string> local_path;  // SageMaker's default: /opt/ml/checkpoints/
  bool operator==(const CheckpointConfig&) const = default;
};

struct CollectionConfiguration {
  std::optional<std::string> collection_name;
  StringMap collection_parameters;  // at most 20
  bool operator==(const CollectionConfiguration&) const = default;
};

struct DebugHookConfig {
  std::optional<std::string> local_path;
  std::string s3_output_path;
  StringMap hook_parameters;                                       // at most 20
  std::vector<CollectionConfiguration> collection_configurations;  // at most 20
  bool operator==(const DebugHookConfig&) const = default;
};

// DebugRuleConfiguration and ProfilerRuleConfiguration share this shape in the model.
struct RuleConfiguration {
  std::string rule_configuration_name;
  std::optional<std::string> local_path;
  std::optional<std::string> s3_output_path;
  std::string rule_evaluator_image;
  std::optional<std::string> instance_type;  // ProcessingInstanceType
  std::optional<int32_t> volume_size_in_gb;
  StringMap rule_parameters;  // at most 100
  bool operator==(const RuleConfiguration&) const = default;
};
using DebugRuleConfiguration = RuleConfiguration;
using ProfilerRuleConfiguration = RuleConfiguration;

struct TensorBoardOutputConfig {
  std::optional<std::string> local_path;
  std::string s3_output_path;
  bool operator==(const TensorBoardOutputConfig&) const = default;
};

struct ExperimentConfig {
  std::optional<std::string> experiment_name;
  std::optional<std::string> trial_name;
  std::optional<std::string> trial_component_display_name;
  std::optional<std::string> run_name;
  bool operator==(const ExperimentConfig&) const = default;
};

struct ProfilerConfig {
  std::optional<std::string> s3_output_path;
  std::optional<int64_t> profiling_interval_in_milliseconds;
  StringMap profiling_parameters;  // at most 20
  std::optional<bool> disable_profiler;
  bool operator==(const ProfilerConfig&) const = default;
};

struct RetryStrategy {
  int32_t maximum_retry_attempts = 1;  // [1..30]
  bool operator==(const RetryStrategy&) const = default;
};

struct RemoteDebugConfig {
  std::optional<bool> enable_remote_debug;
  bool operator==(const RemoteDebugConfig&) const = default;
};

struct InfraCheckConfig {
  std::optional<bool> enable_infra_check;
  bool operator==(const InfraCheckConfig&) const = default;
};

struct SessionChainingConfig {
  std::optional<bool> enable_session_tag_chaining;
  bool operator==(const SessionChainingConfig&) const = default;
};

// SageMaker's serverless fine-tuning mode; kept, not run by trainyard.
struct ServerlessJobConfig {
  std::string base_model_arn;
  std::optional<bool> accept_eula;
  ServerlessJobType job_type = ServerlessJobType::kFineTuning;
  std::optional<CustomizationTechnique> customization_technique;
  std::optional<Peft> peft;
  std::optional<EvaluationType> evaluation_type;
  std::optional<std::string> evaluator_arn;
  bool operator==(const ServerlessJobConfig&) const = default;
};

struct MlflowConfig {
  std::string mlflow_resource_arn;
  std::optional<std::string> mlflow_experiment_name;
  std::optional<std::string> mlflow_run_name;
  bool operator==(const MlflowConfig&) const = default;
};

struct ModelPackageConfig {
  std::string model_package_group_arn;
  std::optional<std::string> source_model_package_arn;
  bool operator==(const ModelPackageConfig&) const = default;
};

// The whole request. In a spec returned by parse_create_training_job, every constraint of
// the model and of trainyard's rules holds (see README.md in this folder).
struct TrainingJobSpec {
  std::string training_job_name;  // [1..63] [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
  StringMap hyper_parameters;     // at most 100; values are strings
  std::optional<AlgorithmSpecification> algorithm_specification;  // required unless serverless
  std::optional<std::string> role_arn;     // required by AWS; optional in trainyard job files
  std::vector<Channel> input_data_config;  // 1..20 channels when given
  OutputDataConfig output_data_config;
  std::optional<ResourceConfig> resource_config;  // required unless serverless
  std::optional<VpcConfig> vpc_config;
  std::optional<StoppingCondition> stopping_condition;  // required unless serverless
  std::vector<Tag> tags;                                // at most 50
  std::optional<bool> enable_network_isolation;
  std::optional<bool> enable_inter_container_traffic_encryption;
  std::optional<bool> enable_managed_spot_training;
  std::optional<CheckpointConfig> checkpoint_config;
  std::optional<DebugHookConfig> debug_hook_config;
  std::vector<DebugRuleConfiguration> debug_rule_configurations;  // at most 20
  std::optional<TensorBoardOutputConfig> tensor_board_output_config;
  std::optional<ExperimentConfig> experiment_config;
  std::optional<ProfilerConfig> profiler_config;
  std::vector<ProfilerRuleConfiguration> profiler_rule_configurations;  // at most 20
  StringMap environment;  // at most 100; keys [a-zA-Z_][a-zA-Z0-9_]*
  std::optional<RetryStrategy> retry_strategy;
  std::optional<RemoteDebugConfig> remote_debug_config;
  std::optional<InfraCheckConfig> infra_check_config;
  std::optional<SessionChainingConfig> session_chaining_config;
  std::optional<ServerlessJobConfig> serverless_job_config;
  std::optional<MlflowConfig> mlflow_config;
  std::optional<ModelPackageConfig> model_package_config;
  bool operator==(const TrainingJobSpec&) const = default;
};

// The input mode SageMaker uses for `channel`: its own InputMode, else the algorithm's
// TrainingInputMode, else File.
TrainingInputMode effective_input_mode(const TrainingJobSpec& spec, const Channel& channel);

}  // namespace trainyard::jobs
