// One reader per model structure of CreateTrainingJobRequest, in the model's member order,
// with the cross-member rules of each structure right after its members.
#include "jobs/job_spec_read.h"

#include <algorithm>
#include <set>

#include "jobs/model_enums.h"

namespace trainyard::jobs::detail {
namespace {

using Id = StringShapeId;
constexpr Required kYes = Required::kYes;
constexpr Required kNo = Required::kNo;
// The documented ceiling of MaxRuntimeInSeconds and MaxPendingTimeInSeconds: 28 days.
constexpr int64_t kTwentyEightDays = 2419200;

MetricDefinition read_metric_definition(ObjectReader& r) {
  MetricDefinition out;
  out.name = read_string(r, "Name", Id::kMetricName, kYes).value_or("");
  out.regex = read_string(r, "Regex", Id::kMetricRegex, kYes).value_or("");
  return out;
}

TrainingRepositoryAuthConfig read_repository_auth_config(ObjectReader& r) {
  TrainingRepositoryAuthConfig out;
  out.training_repository_credentials_provider_arn =
      read_string(r, "TrainingRepositoryCredentialsProviderArn",
                  Id::kTrainingRepositoryCredentialsProviderArn, kYes)
          .value_or("");
  return out;
}

TrainingImageConfig read_training_image_config(ObjectReader& r) {
  TrainingImageConfig out;
  if (auto mode =
          read_enum<TrainingRepositoryAccessMode>(r, "TrainingRepositoryAccessMode", kYes)) {
    out.training_repository_access_mode = *mode;
  }
  out.training_repository_auth_config = read_struct<TrainingRepositoryAuthConfig>(
      r, "TrainingRepositoryAuthConfig", "TrainingRepositoryAuthConfig", kNo,
      read_repository_auth_config);
  return out;
}

AlgorithmSpecification read_algorithm_specification(ObjectReader& r) {
  AlgorithmSpecification out;
  out.training_image = read_string(r, "TrainingImage", Id::kAlgorithmImage);
  out.algorithm_name = read_string(r, "AlgorithmName", Id::kArnOrName);
  if (auto mode = read_enum<TrainingInputMode>(r, "TrainingInputMode", kYes)) {
    out.training_input_mode = *mode;
  }
  out.metric_definitions = read_struct_list<MetricDefinition>(
      r, "MetricDefinitions", "MetricDefinition", {0, 40}, kNo, read_metric_definition);
  out.enable_sage_maker_metrics_time_series = read_boolean(r, "EnableSageMakerMetricsTimeSeries");
  out.container_entrypoint =
      read_string_list(r, "ContainerEntrypoint", {1, 100}, Id::kTrainingContainerEntrypointString);
  out.container_arguments =
      read_string_list(r, "ContainerArguments", {1, 100}, Id::kTrainingContainerArgument);
  out.training_image_config = read_struct<TrainingImageConfig>(
      r, "TrainingImageConfig", "TrainingImageConfig", kNo, read_training_image_config);

  const bool has_image = r.has("TrainingImage");
  const bool has_name = r.has("AlgorithmName");
  if (has_image == has_name) {
    r.context().rule(r.path(), std::string("AlgorithmSpecification must give exactly one of ") +
                                   "TrainingImage and AlgorithmName; it gives " +
                                   (has_image ? "both" : "neither"));
  }
  return out;
}

ModelAccessConfig read_model_access_config(ObjectReader& r) {
  return ModelAccessConfig{.accept_eula = read_boolean(r, "AcceptEula", kYes).value_or(false)};
}

HubAccessConfig read_hub_access_config(ObjectReader& r) {
  return HubAccessConfig{
      .hub_content_arn = read_string(r, "HubContentArn", Id::kHubContentArn, kYes).value_or("")};
}

S3DataSource read_s3_data_source(ObjectReader& r) {
  S3DataSource out;
  if (auto type = read_enum<S3DataType>(r, "S3DataType", kYes)) out.s3_data_type = *type;
  out.s3_uri = read_uri(r, "S3Uri", kYes).value_or("");
  out.s3_data_distribution_type = read_enum<S3DataDistribution>(r, "S3DataDistributionType");
  out.attribute_names = read_string_list(r, "AttributeNames", {0, 16}, Id::kAttributeName);
  out.instance_group_names =
      read_string_list(r, "InstanceGroupNames", {0, 5}, Id::kInstanceGroupName);
  out.model_access_config = read_struct<ModelAccessConfig>(
      r, "ModelAccessConfig", "ModelAccessConfig", kNo, read_model_access_config);
  out.hub_access_config = read_struct<HubAccessConfig>(r, "HubAccessConfig", "HubAccessConfig", kNo,
                                                       read_hub_access_config);
  return out;
}

FileSystemDataSource read_file_system_data_source(ObjectReader& r) {
  FileSystemDataSource out;
  out.file_system_id = read_string(r, "FileSystemId", Id::kFileSystemId, kYes).value_or("");
  if (auto mode = read_enum<FileSystemAccessMode>(r, "FileSystemAccessMode", kYes)) {
    out.file_system_access_mode = *mode;
  }
  if (auto type = read_enum<FileSystemType>(r, "FileSystemType", kYes))
    out.file_system_type = *type;
  out.directory_path = read_string(r, "DirectoryPath", Id::kDirectoryPath, kYes).value_or("");
  return out;
}

DatasetSource read_dataset_source(ObjectReader& r) {
  return DatasetSource{.dataset_arn =
                           read_string(r, "DatasetArn", Id::kHubDataSetArn, kYes).value_or("")};
}

DataSource read_data_source(ObjectReader& r) {
  DataSource out;
  out.s3_data_source =
      read_struct<S3DataSource>(r, "S3DataSource", "S3DataSource", kNo, read_s3_data_source);
  out.file_system_data_source = read_struct<FileSystemDataSource>(
      r, "FileSystemDataSource", "FileSystemDataSource", kNo, read_file_system_data_source);
  out.dataset_source =
      read_struct<DatasetSource>(r, "DatasetSource", "DatasetSource", kNo, read_dataset_source);
  const int given =
      int{r.has("S3DataSource")} + int{r.has("FileSystemDataSource")} + int{r.has("DatasetSource")};
  if (given != 1) {
    r.context().rule(r.path(),
                     "DataSource must give exactly one of S3DataSource, FileSystemDataSource and "
                     "DatasetSource; it gives " +
                         std::to_string(given));
  }
  return out;
}

ShuffleConfig read_shuffle_config(ObjectReader& r) {
  return ShuffleConfig{.seed = read_long(r, "Seed", {}, kYes).value_or(0)};
}

Channel read_channel(ObjectReader& r) {
  Channel out;
  out.channel_name = read_string(r, "ChannelName", Id::kChannelName, kYes).value_or("");
  out.data_source = read_struct<DataSource>(r, "DataSource", "DataSource", kYes, read_data_source)
                        .value_or(DataSource{});
  out.content_type = read_string(r, "ContentType", Id::kContentType);
  out.compression_type = read_enum<CompressionType>(r, "CompressionType");
  out.record_wrapper_type = read_enum<RecordWrapper>(r, "RecordWrapperType");
  out.input_mode = read_enum<TrainingInputMode>(r, "InputMode");
  out.shuffle_config =
      read_struct<ShuffleConfig>(r, "ShuffleConfig", "ShuffleConfig", kNo, read_shuffle_config);
  return out;
}

OutputDataConfig read_output_data_config(ObjectReader& r) {
  OutputDataConfig out;
  out.kms_key_id = read_string(r, "KmsKeyId", Id::kKmsKeyId);
  out.s3_output_path = read_uri(r, "S3OutputPath", kYes).value_or("");
  out.compression_type = read_enum<OutputCompressionType>(r, "CompressionType");
  return out;
}

InstanceGroup read_instance_group(ObjectReader& r) {
  InstanceGroup out;
  out.instance_type =
      read_string_enum(r, "InstanceType", training_instance_types(), kYes).value_or("");
  out.instance_count = read_integer(r, "InstanceCount", {.min = 1}, kYes).value_or(1);
  out.instance_group_name =
      read_string(r, "InstanceGroupName", Id::kInstanceGroupName, kYes).value_or("");
  return out;
}

PlacementSpecification read_placement_specification(ObjectReader& r) {
  PlacementSpecification out;
  out.ultra_server_id = read_string(r, "UltraServerId", Id::kString256);
  out.instance_count = read_integer(r, "InstanceCount", {.min = 0}, kYes).value_or(0);
  return out;
}

InstancePlacementConfig read_instance_placement_config(ObjectReader& r) {
  InstancePlacementConfig out;
  out.enable_multiple_jobs = read_boolean(r, "EnableMultipleJobs");
  out.placement_specifications = read_struct_list<PlacementSpecification>(
      r, "PlacementSpecifications", "PlacementSpecification", {0, 10}, kNo,
      read_placement_specification);
  return out;
}

ResourceConfig read_resource_config(ObjectReader& r) {
  ResourceConfig out;
  // InstanceGroups: [] says nothing, so it counts as absent.
  const Json* groups_value = r.peek("InstanceGroups");
  const bool has_groups =
      groups_value != nullptr && !(groups_value->is_array() && groups_value->empty());
  // A homogeneous cluster (no InstanceGroups) must say what and how many.
  const Required homogeneous = has_groups ? kNo : kYes;
  out.instance_type = read_string_enum(r, "InstanceType", training_instance_types(), homogeneous);
  out.instance_count = read_integer(r, "InstanceCount", {.min = 1}, homogeneous);
  out.volume_size_in_gb = read_integer(r, "VolumeSizeInGB", {.min = 1});
  out.volume_kms_key_id = read_string(r, "VolumeKmsKeyId", Id::kKmsKeyId);
  out.keep_alive_period_in_seconds =
      read_integer(r, "KeepAlivePeriodInSeconds", {.min = 0, .max = 21600});
  out.instance_groups = read_struct_list<InstanceGroup>(r, "InstanceGroups", "InstanceGroup",
                                                        {0, 5}, kNo, read_instance_group);
  out.training_plan_arn = read_string(r, "TrainingPlanArn", Id::kTrainingPlanArn);
  out.instance_placement_config = read_struct<InstancePlacementConfig>(
      r, "InstancePlacementConfig", "InstancePlacementConfig", kNo, read_instance_placement_config);

  Context& context = r.context();
  if (has_groups && (r.has("InstanceType") || r.has("InstanceCount"))) {
    context.rule(r.path(),
                 "ResourceConfig must give either InstanceGroups or InstanceType and "
                 "InstanceCount, not both");
  }
  // The volume is required (as in the older model) unless every instance is a local one,
  // which has no volume to provision. Without any readable type this is not judged.
  std::vector<std::string_view> types;
  if (out.instance_type) types.push_back(*out.instance_type);
  for (const InstanceGroup& group : out.instance_groups) {
    if (!group.instance_type.empty()) types.push_back(group.instance_type);
  }
  const bool all_local = std::all_of(types.begin(), types.end(), is_local_instance_type);
  if (!types.empty() && !all_local && !r.has("VolumeSizeInGB")) {
    context.null_member(r.path_of("VolumeSizeInGB"));
  }
  std::set<std::string> group_names;
  for (const InstanceGroup& group : out.instance_groups) {
    if (!group.instance_group_name.empty() &&
        !group_names.insert(group.instance_group_name).second) {
      context.rule(r.path_of("InstanceGroups"), "Instance group names must be unique: '" +
                                                    group.instance_group_name +
                                                    "' is given more than once");
    }
  }
  return out;
}

VpcConfig read_vpc_config(ObjectReader& r) {
  VpcConfig out;
  out.security_group_ids =
      read_string_list(r, "SecurityGroupIds", {1, 5}, Id::kSecurityGroupId, kYes);
  out.subnets = read_string_list(r, "Subnets", {1, 16}, Id::kSubnetId, kYes);
  return out;
}

StoppingCondition read_stopping_condition(ObjectReader& r) {
  StoppingCondition out;
  out.max_runtime_in_seconds =
      read_integer(r, "MaxRuntimeInSeconds", {.min = 1, .max = kTwentyEightDays});
  out.max_wait_time_in_seconds = read_integer(r, "MaxWaitTimeInSeconds", {.min = 1});
  out.max_pending_time_in_seconds =
      read_integer(r, "MaxPendingTimeInSeconds", {.min = 7200, .max = kTwentyEightDays});
  if (out.max_runtime_in_seconds && out.max_wait_time_in_seconds &&
      *out.max_wait_time_in_seconds < *out.max_runtime_in_seconds) {
    r.context().rule(r.path_of("MaxWaitTimeInSeconds"),
                     "MaxWaitTimeInSeconds (" + std::to_string(*out.max_wait_time_in_seconds) +
                         ") must be greater than or equal to MaxRuntimeInSeconds (" +
                         std::to_string(*out.max_runtime_in_seconds) + ")");
  }
  return out;
}

Tag read_tag(ObjectReader& r) {
  Tag out;
  out.key = read_string(r, "Key", Id::kTagKey, kYes).value_or("");
  out.value = read_string(r, "Value", Id::kTagValue, kYes).value_or("");
  return out;
}

CheckpointConfig read_checkpoint_config(ObjectReader& r) {
  CheckpointConfig out;
  out.s3_uri = read_uri(r, "S3Uri", kYes).value_or("");
  out.local_path = read_string(r, "LocalPath", Id::kDirectoryPath);
  return out;
}

CollectionConfiguration read_collection_configuration(ObjectReader& r) {
  CollectionConfiguration out;
  out.collection_name = read_string(r, "CollectionName", Id::kCollectionName);
  out.collection_parameters =
      read_string_map(r, "CollectionParameters", {0, 20}, Id::kConfigKey, Id::kConfigValue);
  return out;
}

DebugHookConfig read_debug_hook_config(ObjectReader& r) {
  DebugHookConfig out;
  out.local_path = read_string(r, "LocalPath", Id::kDirectoryPath);
  out.s3_output_path = read_uri(r, "S3OutputPath", kYes).value_or("");
  out.hook_parameters =
      read_string_map(r, "HookParameters", {0, 20}, Id::kConfigKey, Id::kConfigValue);
  out.collection_configurations = read_struct_list<CollectionConfiguration>(
      r, "CollectionConfigurations", "CollectionConfiguration", {0, 20}, kNo,
      read_collection_configuration);
  return out;
}

RuleConfiguration read_rule_configuration(ObjectReader& r) {
  RuleConfiguration out;
  out.rule_configuration_name =
      read_string(r, "RuleConfigurationName", Id::kRuleConfigurationName, kYes).value_or("");
  out.local_path = read_string(r, "LocalPath", Id::kDirectoryPath);
  out.s3_output_path = read_uri(r, "S3OutputPath");
  out.rule_evaluator_image =
      read_string(r, "RuleEvaluatorImage", Id::kAlgorithmImage, kYes).value_or("");
  out.instance_type = read_string_enum(r, "InstanceType", processing_instance_types());
  out.volume_size_in_gb = read_integer(r, "VolumeSizeInGB", {.min = 0});
  out.rule_parameters =
      read_string_map(r, "RuleParameters", {0, 100}, Id::kConfigKey, Id::kConfigValue);
  return out;
}

TensorBoardOutputConfig read_tensor_board_output_config(ObjectReader& r) {
  TensorBoardOutputConfig out;
  out.local_path = read_string(r, "LocalPath", Id::kDirectoryPath);
  out.s3_output_path = read_uri(r, "S3OutputPath", kYes).value_or("");
  return out;
}

ExperimentConfig read_experiment_config(ObjectReader& r) {
  ExperimentConfig out;
  out.experiment_name = read_string(r, "ExperimentName", Id::kExperimentEntityName);
  out.trial_name = read_string(r, "TrialName", Id::kExperimentEntityName);
  out.trial_component_display_name =
      read_string(r, "TrialComponentDisplayName", Id::kExperimentEntityName);
  out.run_name = read_string(r, "RunName", Id::kExperimentEntityName);
  return out;
}

ProfilerConfig read_profiler_config(ObjectReader& r) {
  ProfilerConfig out;
  out.s3_output_path = read_uri(r, "S3OutputPath");
  out.profiling_interval_in_milliseconds = read_long(r, "ProfilingIntervalInMilliseconds", {});
  out.profiling_parameters =
      read_string_map(r, "ProfilingParameters", {0, 20}, Id::kConfigKey, Id::kConfigValue);
  out.disable_profiler = read_boolean(r, "DisableProfiler");
  return out;
}

RetryStrategy read_retry_strategy(ObjectReader& r) {
  return RetryStrategy{
      .maximum_retry_attempts =
          read_integer(r, "MaximumRetryAttempts", {.min = 1, .max = 30}, kYes).value_or(1)};
}

RemoteDebugConfig read_remote_debug_config(ObjectReader& r) {
  return RemoteDebugConfig{.enable_remote_debug = read_boolean(r, "EnableRemoteDebug")};
}

InfraCheckConfig read_infra_check_config(ObjectReader& r) {
  return InfraCheckConfig{.enable_infra_check = read_boolean(r, "EnableInfraCheck")};
}

SessionChainingConfig read_session_chaining_config(ObjectReader& r) {
  return SessionChainingConfig{.enable_session_tag_chaining =
                                   read_boolean(r, "EnableSessionTagChaining")};
}

ServerlessJobConfig read_serverless_job_config(ObjectReader& r) {
  ServerlessJobConfig out;
  out.base_model_arn =
      read_string(r, "BaseModelArn", Id::kServerlessJobBaseModelArn, kYes).value_or("");
  out.accept_eula = read_boolean(r, "AcceptEula");
  if (auto type = read_enum<ServerlessJobType>(r, "JobType", kYes)) out.job_type = *type;
  out.customization_technique = read_enum<CustomizationTechnique>(r, "CustomizationTechnique");
  out.peft = read_enum<Peft>(r, "Peft");
  out.evaluation_type = read_enum<EvaluationType>(r, "EvaluationType");
  out.evaluator_arn = read_string(r, "EvaluatorArn", Id::kEvaluatorArn);
  return out;
}

MlflowConfig read_mlflow_config(ObjectReader& r) {
  MlflowConfig out;
  out.mlflow_resource_arn =
      read_string(r, "MlflowResourceArn", Id::kMlFlowResourceArn, kYes).value_or("");
  out.mlflow_experiment_name = read_string(r, "MlflowExperimentName", Id::kMlflowExperimentName);
  out.mlflow_run_name = read_string(r, "MlflowRunName", Id::kMlflowRunName);
  return out;
}

ModelPackageConfig read_model_package_config(ObjectReader& r) {
  ModelPackageConfig out;
  out.model_package_group_arn =
      read_string(r, "ModelPackageGroupArn", Id::kModelPackageGroupArn, kYes).value_or("");
  out.source_model_package_arn = read_string(r, "SourceModelPackageArn", Id::kModelPackageArn);
  return out;
}

// Rules that span structures of the request.
void check_request_rules(ObjectReader& r, const TrainingJobSpec& spec) {
  Context& context = r.context();

  // Channel names name directories and SM_CHANNEL_* variables: each may appear once.
  std::vector<std::string> reported;
  for (size_t i = 0; i < spec.input_data_config.size(); ++i) {
    const std::string& name = spec.input_data_config[i].channel_name;
    if (name.empty() || std::find(reported.begin(), reported.end(), name) != reported.end()) {
      continue;
    }
    std::string positions;
    size_t count = 0;
    for (size_t j = 0; j < spec.input_data_config.size(); ++j) {
      if (spec.input_data_config[j].channel_name != name) continue;
      positions += (count == 0 ? "" : ", ") + std::to_string(j + 1);
      ++count;
    }
    if (count > 1) {
      reported.push_back(name);
      context.rule(r.path_of("InputDataConfig"),
                   "Channel names must be unique within InputDataConfig: '" + name +
                       "' is the name of channels " + positions);
    }
  }

  // Managed spot training needs a bound on waiting for capacity.
  if (spec.enable_managed_spot_training.value_or(false) && spec.stopping_condition &&
      !spec.stopping_condition->max_wait_time_in_seconds) {
    const Json* stopping = r.find("StoppingCondition");
    const bool given = stopping != nullptr && stopping->is_object() &&
                       stopping->contains("MaxWaitTimeInSeconds") &&
                       !(*stopping)["MaxWaitTimeInSeconds"].is_null();
    if (!given) {
      context.rule(r.path_of("StoppingCondition") + ".maxWaitTimeInSeconds",
                   "StoppingCondition.MaxWaitTimeInSeconds is required when "
                   "EnableManagedSpotTraining is true");
    }
  }

  // Channels restricted to instance groups must name groups of ResourceConfig.
  std::set<std::string> groups;
  if (spec.resource_config) {
    for (const InstanceGroup& group : spec.resource_config->instance_groups) {
      groups.insert(group.instance_group_name);
    }
  }
  for (size_t i = 0; i < spec.input_data_config.size(); ++i) {
    const auto& source = spec.input_data_config[i].data_source.s3_data_source;
    if (!source) continue;
    for (const std::string& group : source->instance_group_names) {
      if (groups.count(group) == 0) {
        context.rule(element_path(r.path_of("InputDataConfig"), i) +
                         ".dataSource.s3DataSource.instanceGroupNames",
                     "Instance group '" + group +
                         "' named by the channel is not one of ResourceConfig.InstanceGroups");
      }
    }
  }
}

}  // namespace

TrainingJobSpec read_training_job_request(ObjectReader& r) {
  TrainingJobSpec spec;
  // Without ServerlessJobConfig a job is a classic one, which the older model (and AWS in
  // practice) requires to say what runs, on what, and for how long.
  const Required classic = r.peek("ServerlessJobConfig") != nullptr ? kNo : kYes;

  spec.training_job_name =
      read_string(r, "TrainingJobName", Id::kTrainingJobName, kYes).value_or("");
  spec.hyper_parameters = read_string_map(r, "HyperParameters", {0, 100}, Id::kHyperParameterKey,
                                          Id::kHyperParameterValue);
  spec.algorithm_specification = read_struct<AlgorithmSpecification>(
      r, "AlgorithmSpecification", "AlgorithmSpecification", classic, read_algorithm_specification);
  spec.role_arn =
      read_string(r, "RoleArn", Id::kRoleArn, r.context().options().require_role_arn ? kYes : kNo);
  spec.input_data_config =
      read_struct_list<Channel>(r, "InputDataConfig", "Channel", {1, 20}, kNo, read_channel);
  spec.output_data_config = read_struct<OutputDataConfig>(r, "OutputDataConfig", "OutputDataConfig",
                                                          kYes, read_output_data_config)
                                .value_or(OutputDataConfig{});
  spec.resource_config = read_struct<ResourceConfig>(r, "ResourceConfig", "ResourceConfig", classic,
                                                     read_resource_config);
  spec.vpc_config = read_struct<VpcConfig>(r, "VpcConfig", "VpcConfig", kNo, read_vpc_config);
  spec.stopping_condition = read_struct<StoppingCondition>(
      r, "StoppingCondition", "StoppingCondition", classic, read_stopping_condition);
  spec.tags = read_struct_list<Tag>(r, "Tags", "Tag", {0, 50}, kNo, read_tag);
  spec.enable_network_isolation = read_boolean(r, "EnableNetworkIsolation");
  spec.enable_inter_container_traffic_encryption =
      read_boolean(r, "EnableInterContainerTrafficEncryption");
  spec.enable_managed_spot_training = read_boolean(r, "EnableManagedSpotTraining");
  spec.checkpoint_config = read_struct<CheckpointConfig>(r, "CheckpointConfig", "CheckpointConfig",
                                                         kNo, read_checkpoint_config);
  spec.debug_hook_config = read_struct<DebugHookConfig>(r, "DebugHookConfig", "DebugHookConfig",
                                                        kNo, read_debug_hook_config);
  spec.debug_rule_configurations =
      read_struct_list<RuleConfiguration>(r, "DebugRuleConfigurations", "DebugRuleConfiguration",
                                          {0, 20}, kNo, read_rule_configuration);
  spec.tensor_board_output_config =
      read_struct<TensorBoardOutputConfig>(r, "TensorBoardOutputConfig", "TensorBoardOutputConfig",
                                           kNo, read_tensor_board_output_config);
  spec.experiment_config = read_struct<ExperimentConfig>(r, "ExperimentConfig", "ExperimentConfig",
                                                         kNo, read_experiment_config);
  spec.profiler_config =
      read_struct<ProfilerConfig>(r, "ProfilerConfig", "ProfilerConfig", kNo, read_profiler_config);
  spec.profiler_rule_configurations = read_struct_list<RuleConfiguration>(
      r, "ProfilerRuleConfigurations", "ProfilerRuleConfiguration", {0, 20}, kNo,
      read_rule_configuration);
  spec.environment = read_string_map(r, "Environment", {0, 100}, Id::kTrainingEnvironmentKey,
                                     Id::kTrainingEnvironmentValue);
  spec.retry_strategy =
      read_struct<RetryStrategy>(r, "RetryStrategy", "RetryStrategy", kNo, read_retry_strategy);
  spec.remote_debug_config = read_struct<RemoteDebugConfig>(
      r, "RemoteDebugConfig", "RemoteDebugConfig", kNo, read_remote_debug_config);
  spec.infra_check_config = read_struct<InfraCheckConfig>(r, "InfraCheckConfig", "InfraCheckConfig",
                                                          kNo, read_infra_check_config);
  spec.session_chaining_config = read_struct<SessionChainingConfig>(
      r, "SessionChainingConfig", "SessionChainingConfig", kNo, read_session_chaining_config);
  spec.serverless_job_config = read_struct<ServerlessJobConfig>(
      r, "ServerlessJobConfig", "ServerlessJobConfig", kNo, read_serverless_job_config);
  spec.mlflow_config =
      read_struct<MlflowConfig>(r, "MlflowConfig", "MlflowConfig", kNo, read_mlflow_config);
  spec.model_package_config = read_struct<ModelPackageConfig>(
      r, "ModelPackageConfig", "ModelPackageConfig", kNo, read_model_package_config);

  check_request_rules(r, spec);
  return spec;
}

}  // namespace trainyard::jobs::detail
