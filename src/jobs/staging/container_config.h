// What a training process finds when it starts on one host, as SageMaker's in-container
// contract (sagemaker-contract.md section 4) lays it out, with the job directory playing
// /opt/ml: the three files under input/config/, the environment variables (the platform's
// and the training toolkit's SM_* set), and the command-line arguments built from the
// hyperparameters.
//
// Hosts are named algo-1 .. algo-N (host index i is algo-(i+1)); the host list is sorted as
// strings, as AWS documents (so algo-10 comes before algo-2). Pure functions except
// write_container_config; all are thread-safe.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/job_directory.h"
#include "jobs/job_spec.h"

namespace trainyard::jobs {

// "algo-<host_index + 1>". REQUIRES: host_index >= 0.
std::string host_name(int host_index);

// resourceconfig.json for host `host_index` of `host_count`: current_host,
// current_instance_type, current_group_name ("homogeneousCluster" unless the job uses
// InstanceGroups), hosts (sorted), instance_groups and network_interface_name ("eth0").
// With InstanceGroups, hosts are numbered through the groups in order. Throws ValueError
// when host_index is not in [0, host_count) or host_count disagrees with the spec's
// InstanceCount (or the groups' sum).
nlohmann::ordered_json resource_config_json(const TrainingJobSpec& spec, int host_index,
                                            int host_count);

// inputdataconfig.json: per channel this host receives, TrainingInputMode (FastFile is
// written as "File"), S3DistributionType (FullyReplicated for EFS/FSx), RecordWrapperType
// and ContentType when given. With InstanceGroups, a channel naming InstanceGroupNames is
// given only to hosts of those groups.
nlohmann::ordered_json input_data_config_json(const TrainingJobSpec& spec, int host_index,
                                              int host_count);

// Writes input/config/hyperparameters.json (the HyperParameters map verbatim),
// resourceconfig.json and inputdataconfig.json, each atomically. The config directory must
// exist (JobDirectory::create). Throws ValueError as above, IOError when a write fails.
void write_container_config(const TrainingJobSpec& spec, int host_index, int host_count,
                            const JobDirectory& job_directory);

// The toolkit's argv tail for `hyperparameters` (section 4.4): each value JSON-decoded (the
// raw string kept when it is not JSON); keys starting with "sagemaker_" and the toolkit's
// reserved names (_tuning_objective_metric, default_user_module_name) dropped; sorted by key;
// "--key value", or "-k value" for a one-character key; values as Python's str() renders
// them (True, [1, 2], 1e-05), a dict as k1=v1,k2=v2 sorted by key, null as "".
std::vector<std::string> hyperparameter_arguments(const StringMap& hyperparameters);

// The process environment and arguments of one host.
struct ContainerEnvironment {
  std::map<std::string, std::string> variables;
  std::vector<std::string> arguments;  // hyperparameter_arguments(spec.hyper_parameters)
};

// The environment of host `host_index` of `host_count`:
//  - every entry of the request's Environment;
//  - TRAINING_JOB_NAME, TRAINING_JOB_ARN (`training_job_arn`), CURRENT_HOST, and
//    SAGEMAKER_BASE_DIR (the job directory's root, which the toolkit uses for /opt/ml);
//  - the training toolkit's SM_* variables (Environment.to_env_vars of toolkit 5.1), with
//    paths in the job directory: SM_MODEL_DIR, SM_CHANNELS, SM_CHANNEL_<NAME>, SM_HPS,
//    SM_HP_<NAME>, SM_USER_ARGS, SM_CURRENT_HOST, SM_HOSTS, SM_CURRENT_INSTANCE_TYPE,
//    SM_CURRENT_INSTANCE_GROUP(_HOSTS), SM_INSTANCE_GROUPS(_DICT), SM_IS_HETERO,
//    SM_DISTRIBUTION_INSTANCE_GROUPS, SM_NUM_GPUS (`gpu_count`), SM_NUM_CPUS (`cpu_count`),
//    SM_NUM_NEURONS (0), SM_INPUT_DIR, SM_INPUT_CONFIG_DIR, SM_OUTPUT_DIR,
//    SM_OUTPUT_DATA_DIR, SM_OUTPUT_INTERMEDIATE_DIR, SM_RESOURCE_CONFIG,
//    SM_INPUT_DATA_CONFIG, SM_USER_ENTRY_POINT, SM_MODULE_NAME, SM_MODULE_DIR,
//    SM_FRAMEWORK_MODULE, SM_FRAMEWORK_PARAMS, SM_TRAINING_ENV, SM_NETWORK_INTERFACE_NAME,
//    SM_LOG_LEVEL. Non-string values are compact JSON with sorted keys, as the toolkit
//    writes them.
// Where a request's Environment entry has the same name as one of these, trainyard's value
// wins, as the toolkit overwrites them in the container. A hyperparameter whose key holds
// '=' gets no SM_HP_ variable (no environment name can hold one). Names are upper-cased in
// ASCII only. Throws ValueError as resource_config_json does, or for negative counts.
// TF_CONFIG as SageMaker's TensorFlow toolkit sets it for MultiWorkerMirroredStrategy
// (hyperparameter sagemaker_multi_worker_mirrored_strategy_enabled): every host a worker at
// <host>:8890 in `hosts` order, environment "cloud", task {index of `current`, "worker"}.
std::string tf_config_json(const std::vector<std::string>& hosts, const std::string& current);

ContainerEnvironment container_environment(const TrainingJobSpec& spec, int host_index,
                                           int host_count, const JobDirectory& job_directory,
                                           int gpu_count, int cpu_count,
                                           std::string_view training_job_arn);

}  // namespace trainyard::jobs
