// TrainingJobSpec -> request JSON, member for member the inverse of job_spec_read.cpp.
#include "jobs/job_spec_parse.h"

namespace trainyard::jobs {
namespace {

using Json = nlohmann::json;

template <typename T>
void put(Json& out, const char* member, const std::optional<T>& value) {
  if (value) out[member] = *value;
}

template <typename E>
void put_enum(Json& out, const char* member, const std::optional<E>& value) {
  if (value) out[member] = std::string(to_string(*value));
}

void put_map(Json& out, const char* member, const StringMap& map) {
  if (!map.empty()) out[member] = map;
}

void put_strings(Json& out, const char* member, const std::vector<std::string>& list) {
  if (!list.empty()) out[member] = list;
}

template <typename T, typename ToJson>
void put_structs(Json& out, const char* member, const std::vector<T>& list, ToJson to_json_fn) {
  if (list.empty()) return;
  Json array = Json::array();
  for (const T& element : list) array.push_back(to_json_fn(element));
  out[member] = std::move(array);
}

template <typename T, typename ToJson>
void put_struct(Json& out, const char* member, const std::optional<T>& value, ToJson to_json_fn) {
  if (value) out[member] = to_json_fn(*value);
}

Json metric_definition_json(const MetricDefinition& metric) {
  return Json{{"Name", metric.name}, {"Regex", metric.regex}};
}

Json algorithm_specification_json(const AlgorithmSpecification& algorithm) {
  Json out = Json::object();
  put(out, "TrainingImage", algorithm.training_image);
  put(out, "AlgorithmName", algorithm.algorithm_name);
  out["TrainingInputMode"] = std::string(to_string(algorithm.training_input_mode));
  put_structs(out, "MetricDefinitions", algorithm.metric_definitions, metric_definition_json);
  put(out, "EnableSageMakerMetricsTimeSeries", algorithm.enable_sage_maker_metrics_time_series);
  put_strings(out, "ContainerEntrypoint", algorithm.container_entrypoint);
  put_strings(out, "ContainerArguments", algorithm.container_arguments);
  put_struct(out, "TrainingImageConfig", algorithm.training_image_config,
             [](const TrainingImageConfig& config) {
               Json json{{"TrainingRepositoryAccessMode",
                          std::string(to_string(config.training_repository_access_mode))}};
               put_struct(json, "TrainingRepositoryAuthConfig",
                          config.training_repository_auth_config,
                          [](const TrainingRepositoryAuthConfig& auth) {
                            return Json{{"TrainingRepositoryCredentialsProviderArn",
                                         auth.training_repository_credentials_provider_arn}};
                          });
               return json;
             });
  return out;
}

Json s3_data_source_json(const S3DataSource& source) {
  Json out{{"S3DataType", std::string(to_string(source.s3_data_type))}, {"S3Uri", source.s3_uri}};
  put_enum(out, "S3DataDistributionType", source.s3_data_distribution_type);
  put_strings(out, "AttributeNames", source.attribute_names);
  put_strings(out, "InstanceGroupNames", source.instance_group_names);
  put_struct(out, "ModelAccessConfig", source.model_access_config, [](const ModelAccessConfig& c) {
    return Json{{"AcceptEula", c.accept_eula}};
  });
  put_struct(out, "HubAccessConfig", source.hub_access_config, [](const HubAccessConfig& c) {
    return Json{{"HubContentArn", c.hub_content_arn}};
  });
  return out;
}

Json channel_json(const Channel& channel) {
  Json source = Json::object();
  put_struct(source, "S3DataSource", channel.data_source.s3_data_source, s3_data_source_json);
  put_struct(source, "FileSystemDataSource", channel.data_source.file_system_data_source,
             [](const FileSystemDataSource& fs) {
               return Json{
                   {"FileSystemId", fs.file_system_id},
                   {"FileSystemAccessMode", std::string(to_string(fs.file_system_access_mode))},
                   {"FileSystemType", std::string(to_string(fs.file_system_type))},
                   {"DirectoryPath", fs.directory_path}};
             });
  put_struct(source, "DatasetSource", channel.data_source.dataset_source,
             [](const DatasetSource& d) {
               return Json{{"DatasetArn", d.dataset_arn}};
             });
  Json out{{"ChannelName", channel.channel_name}, {"DataSource", std::move(source)}};
  put(out, "ContentType", channel.content_type);
  put_enum(out, "CompressionType", channel.compression_type);
  put_enum(out, "RecordWrapperType", channel.record_wrapper_type);
  put_enum(out, "InputMode", channel.input_mode);
  put_struct(out, "ShuffleConfig", channel.shuffle_config, [](const ShuffleConfig& c) {
    return Json{{"Seed", c.seed}};
  });
  return out;
}

Json resource_config_json(const ResourceConfig& resources) {
  Json out = Json::object();
  put(out, "InstanceType", resources.instance_type);
  put(out, "InstanceCount", resources.instance_count);
  put(out, "VolumeSizeInGB", resources.volume_size_in_gb);
  put(out, "VolumeKmsKeyId", resources.volume_kms_key_id);
  put(out, "KeepAlivePeriodInSeconds", resources.keep_alive_period_in_seconds);
  put_structs(out, "InstanceGroups", resources.instance_groups, [](const InstanceGroup& group) {
    return Json{{"InstanceType", group.instance_type},
                {"InstanceCount", group.instance_count},
                {"InstanceGroupName", group.instance_group_name}};
  });
  put(out, "TrainingPlanArn", resources.training_plan_arn);
  put_struct(out, "InstancePlacementConfig", resources.instance_placement_config,
             [](const InstancePlacementConfig& placement) {
               Json json = Json::object();
               put(json, "EnableMultipleJobs", placement.enable_multiple_jobs);
               put_structs(json, "PlacementSpecifications", placement.placement_specifications,
                           [](const PlacementSpecification& spec) {
                             Json item{{"InstanceCount", spec.instance_count}};
                             put(item, "UltraServerId", spec.ultra_server_id);
                             return item;
                           });
               return json;
             });
  return out;
}

Json rule_configuration_json(const RuleConfiguration& rule) {
  Json out{{"RuleConfigurationName", rule.rule_configuration_name},
           {"RuleEvaluatorImage", rule.rule_evaluator_image}};
  put(out, "LocalPath", rule.local_path);
  put(out, "S3OutputPath", rule.s3_output_path);
  put(out, "InstanceType", rule.instance_type);
  put(out, "VolumeSizeInGB", rule.volume_size_in_gb);
  put_map(out, "RuleParameters", rule.rule_parameters);
  return out;
}

Json debug_hook_config_json(const DebugHookConfig& hook) {
  Json out{{"S3OutputPath", hook.s3_output_path}};
  put(out, "LocalPath", hook.local_path);
  put_map(out, "HookParameters", hook.hook_parameters);
  put_structs(out, "CollectionConfigurations", hook.collection_configurations,
              [](const CollectionConfiguration& collection) {
                Json json = Json::object();
                put(json, "CollectionName", collection.collection_name);
                put_map(json, "CollectionParameters", collection.collection_parameters);
                return json;
              });
  return out;
}

Json serverless_job_config_json(const ServerlessJobConfig& serverless) {
  Json out{{"BaseModelArn", serverless.base_model_arn},
           {"JobType", std::string(to_string(serverless.job_type))}};
  put(out, "AcceptEula", serverless.accept_eula);
  put_enum(out, "CustomizationTechnique", serverless.customization_technique);
  put_enum(out, "Peft", serverless.peft);
  put_enum(out, "EvaluationType", serverless.evaluation_type);
  put(out, "EvaluatorArn", serverless.evaluator_arn);
  return out;
}

}  // namespace

nlohmann::json to_json(const TrainingJobSpec& spec) {
  Json out{{"TrainingJobName", spec.training_job_name}};
  put_map(out, "HyperParameters", spec.hyper_parameters);
  put_struct(out, "AlgorithmSpecification", spec.algorithm_specification,
             algorithm_specification_json);
  put(out, "RoleArn", spec.role_arn);
  put_structs(out, "InputDataConfig", spec.input_data_config, channel_json);
  {
    Json output{{"S3OutputPath", spec.output_data_config.s3_output_path}};
    put(output, "KmsKeyId", spec.output_data_config.kms_key_id);
    put_enum(output, "CompressionType", spec.output_data_config.compression_type);
    out["OutputDataConfig"] = std::move(output);
  }
  put_struct(out, "ResourceConfig", spec.resource_config, resource_config_json);
  put_struct(out, "VpcConfig", spec.vpc_config, [](const VpcConfig& vpc) {
    return Json{{"SecurityGroupIds", vpc.security_group_ids}, {"Subnets", vpc.subnets}};
  });
  put_struct(out, "StoppingCondition", spec.stopping_condition, [](const StoppingCondition& stop) {
    Json json = Json::object();
    put(json, "MaxRuntimeInSeconds", stop.max_runtime_in_seconds);
    put(json, "MaxWaitTimeInSeconds", stop.max_wait_time_in_seconds);
    put(json, "MaxPendingTimeInSeconds", stop.max_pending_time_in_seconds);
    return json;
  });
  put_structs(out, "Tags", spec.tags, [](const Tag& tag) {
    return Json{{"Key", tag.key}, {"Value", tag.value}};
  });
  put(out, "EnableNetworkIsolation", spec.enable_network_isolation);
  put(out, "EnableInterContainerTrafficEncryption", spec.enable_inter_container_traffic_encryption);
  put(out, "EnableManagedSpotTraining", spec.enable_managed_spot_training);
  put_struct(out, "CheckpointConfig", spec.checkpoint_config, [](const CheckpointConfig& c) {
    Json json{{"S3Uri", c.s3_uri}};
    put(json, "LocalPath", c.local_path);
    return json;
  });
  put_struct(out, "DebugHookConfig", spec.debug_hook_config, debug_hook_config_json);
  put_structs(out, "DebugRuleConfigurations", spec.debug_rule_configurations,
              rule_configuration_json);
  put_struct(out, "TensorBoardOutputConfig", spec.tensor_board_output_config,
             [](const TensorBoardOutputConfig& c) {
               Json json{{"S3OutputPath", c.s3_output_path}};
               put(json, "LocalPath", c.local_path);
               return json;
             });
  put_struct(out, "ExperimentConfig", spec.experiment_config, [](const ExperimentConfig& c) {
    Json json = Json::object();
    put(json, "ExperimentName", c.experiment_name);
    put(json, "TrialName", c.trial_name);
    put(json, "TrialComponentDisplayName", c.trial_component_display_name);
    put(json, "RunName", c.run_name);
    return json;
  });
  put_struct(out, "ProfilerConfig", spec.profiler_config, [](const ProfilerConfig& c) {
    Json json = Json::object();
    put(json, "S3OutputPath", c.s3_output_path);
    put(json, "ProfilingIntervalInMilliseconds", c.profiling_interval_in_milliseconds);
    put_map(json, "ProfilingParameters", c.profiling_parameters);
    put(json, "DisableProfiler", c.disable_profiler);
    return json;
  });
  put_structs(out, "ProfilerRuleConfigurations", spec.profiler_rule_configurations,
              rule_configuration_json);
  put_map(out, "Environment", spec.environment);
  put_struct(out, "RetryStrategy", spec.retry_strategy, [](const RetryStrategy& c) {
    return Json{{"MaximumRetryAttempts", c.maximum_retry_attempts}};
  });
  put_struct(out, "RemoteDebugConfig", spec.remote_debug_config, [](const RemoteDebugConfig& c) {
    Json json = Json::object();
    put(json, "EnableRemoteDebug", c.enable_remote_debug);
    return json;
  });
  put_struct(out, "InfraCheckConfig", spec.infra_check_config, [](const InfraCheckConfig& c) {
    Json json = Json::object();
    put(json, "EnableInfraCheck", c.enable_infra_check);
    return json;
  });
  put_struct(out, "SessionChainingConfig", spec.session_chaining_config,
             [](const SessionChainingConfig& c) {
               Json json = Json::object();
               put(json, "EnableSessionTagChaining", c.enable_session_tag_chaining);
               return json;
             });
  put_struct(out, "ServerlessJobConfig", spec.serverless_job_config, serverless_job_config_json);
  put_struct(out, "MlflowConfig", spec.mlflow_config, [](const MlflowConfig& c) {
    Json json{{"MlflowResourceArn", c.mlflow_resource_arn}};
    put(json, "MlflowExperimentName", c.mlflow_experiment_name);
    put(json, "MlflowRunName", c.mlflow_run_name);
    return json;
  });
  put_struct(out, "ModelPackageConfig", spec.model_package_config, [](const ModelPackageConfig& c) {
    Json json{{"ModelPackageGroupArn", c.model_package_group_arn}};
    put(json, "SourceModelPackageArn", c.source_model_package_arn);
    return json;
  });
  return out;
}

}  // namespace trainyard::jobs
