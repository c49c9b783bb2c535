#include "jobs/staging/container_config.h"

#include <algorithm>
#include <optional>

#include "core/error.h"
#include "jobs/staging/python_values.h"
#include "jobs/staging/safe_files.h"
#include "jobs/utf8.h"

namespace trainyard::jobs {
namespace {

using Json = nlohmann::ordered_json;
using Entries = std::vector<std::pair<std::string, PythonValue>>;

constexpr std::string_view kHomogeneousGroup = "homogeneousCluster";
constexpr int kDefaultLogLevel = 20;  // Python's logging.INFO

// The toolkit's SAGEMAKER_HYPERPARAMETERS: removed from the user's set and not passed on as
// framework parameters either.
bool is_toolkit_parameter(std::string_view key) {
  for (std::string_view name :
       {"sagemaker_program", "sagemaker_submit_directory", "sagemaker_enable_cloudwatch_metrics",
        "sagemaker_region", "sagemaker_container_log_level", "sagemaker_job_name",
        "default_user_module_name", "_tuning_objective_metric", "sagemaker_s3_output"}) {
    if (key == name) return true;
  }
  return false;
}

bool is_user_hyperparameter(std::string_view key) {
  return !key.starts_with("sagemaker_") && !is_toolkit_parameter(key);
}

std::string ascii_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

struct HostGroup {
  std::string name;
  std::string instance_type;
  std::vector<std::string> hosts;  // sorted as strings
};

// The cluster as resourceconfig.json describes it, and which group holds `host_index`.
struct Cluster {
  std::vector<HostGroup> groups;
  std::vector<std::string> hosts;  // every host, sorted as strings
  size_t current_group = 0;
  std::string current_host;
};

Cluster describe_cluster(const TrainingJobSpec& spec, int host_index, int host_count) {
  if (host_count < 1 || host_index < 0 || host_index >= host_count) {
    throw ValueError("host index " + std::to_string(host_index) + " is not in [0, " +
                     std::to_string(host_count) + ") for job " + spec.training_job_name);
  }
  struct Declared {
    std::string name;
    std::string instance_type;
    int count;
  };
  std::vector<Declared> declared;
  const ResourceConfig* resources = spec.resource_config ? &*spec.resource_config : nullptr;
  if (resources != nullptr && !resources->instance_groups.empty()) {
    for (const InstanceGroup& group : resources->instance_groups) {
      declared.push_back({group.instance_group_name, group.instance_type, group.instance_count});
    }
  } else {
    std::string type = resources != nullptr ? resources->instance_type.value_or("local") : "local";
    int count = resources != nullptr ? resources->instance_count.value_or(host_count) : host_count;
    declared.push_back({std::string(kHomogeneousGroup), type, count});
  }
  int total = 0;
  for (const Declared& group : declared) total += group.count;
  if (total != host_count) {
    throw ValueError("job " + spec.training_job_name + " has " + std::to_string(total) +
                     " instances, but its configuration was asked for " +
                     std::to_string(host_count) + " hosts");
  }
  Cluster cluster;
  cluster.current_host = host_name(host_index);
  int next = 0;
  for (size_t g = 0; g < declared.size(); ++g) {
    HostGroup group{declared[g].name, declared[g].instance_type, {}};
    for (int i = 0; i < declared[g].count; ++i, ++next) {
      if (next == host_index) cluster.current_group = g;
      group.hosts.push_back(host_name(next));
      cluster.hosts.push_back(host_name(next));
    }
    std::sort(group.hosts.begin(), group.hosts.end());
    cluster.groups.push_back(std::move(group));
  }
  std::sort(cluster.hosts.begin(), cluster.hosts.end());
  return cluster;
}

bool channel_reaches_group(const Channel& channel, const std::string& group) {
  if (!channel.data_source.s3_data_source) return true;
  const auto& names = channel.data_source.s3_data_source->instance_group_names;
  return names.empty() || std::find(names.begin(), names.end(), group) != names.end();
}

Json build_resource_config(const Cluster& cluster) {
  const HostGroup& current = cluster.groups[cluster.current_group];
  Json groups = Json::array();
  for (const HostGroup& group : cluster.groups) {
    groups.push_back({{"instance_group_name", group.name},
                      {"instance_type", group.instance_type},
                      {"hosts", group.hosts}});
  }
  return Json{{"current_host", cluster.current_host},
              {"current_instance_type", current.instance_type},
              {"current_group_name", current.name},
              {"hosts", cluster.hosts},
              {"instance_groups", groups},
              {"network_interface_name", "eth0"}};
}

Json build_input_data_config(const TrainingJobSpec& spec, const Cluster& cluster) {
  Json config = Json::object();
  const std::string& group = cluster.groups[cluster.current_group].name;
  for (const Channel& channel : spec.input_data_config) {
    if (!channel_reaches_group(channel, group)) continue;
    TrainingInputMode mode = effective_input_mode(spec, channel);
    if (mode == TrainingInputMode::kFastFile) mode = TrainingInputMode::kFile;
    S3DataDistribution distribution = S3DataDistribution::kFullyReplicated;
    if (channel.data_source.s3_data_source) {
      distribution = channel.data_source.s3_data_source->s3_data_distribution_type.value_or(
          S3DataDistribution::kFullyReplicated);
    }
    Json entry{{"TrainingInputMode", to_string(mode)},
               {"S3DistributionType", to_string(distribution)},
               {"RecordWrapperType",
                to_string(channel.record_wrapper_type.value_or(RecordWrapper::kNone))}};
    if (channel.content_type) entry["ContentType"] = *channel.content_type;
    config[channel.channel_name] = std::move(entry);
  }
  return config;
}

std::string dump_json(const Json& json, const std::string& what) {
  try {
    return json.dump(2) + "\n";
  } catch (const nlohmann::json::exception& error) {
    throw ValueError("cannot write " + what + ": " + error.what());
  }
}

std::string argument_value(const PythonValue& value) {
  if (value.kind == PythonValue::Kind::kNone) return "";
  if (value.kind != PythonValue::Kind::kDict) return python_str(value);
  std::vector<const std::pair<std::string, PythonValue>*> sorted;
  for (const auto& entry : value.entries) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  std::string out;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0) out += ",";
    out += sorted[i]->first + "=" + python_str(sorted[i]->second);
  }
  return out;
}

PythonValue string_list(const std::vector<std::string>& strings) {
  std::vector<PythonValue> items;
  for (const std::string& text : strings) items.push_back(PythonValue::from_string(text));
  return PythonValue::list(std::move(items));
}

const PythonValue* find_entry(const PythonValue& dict, std::string_view key) {
  for (const auto& entry : dict.entries) {
    if (entry.first == key) return &entry.second;
  }
  return nullptr;
}

// Python's `name in container` for a list of strings or (substring) a string.
bool python_contains(const PythonValue& container, const std::string& name) {
  if (container.kind == PythonValue::Kind::kString) {
    return container.text.find(name) != std::string::npos;
  }
  for (const PythonValue& item : container.items) {
    if (item.kind == PythonValue::Kind::kString && item.text == name) return true;
  }
  for (const auto& entry : container.entries) {
    if (entry.first == name) return true;
  }
  return false;
}

std::optional<std::string> lookup(const StringMap& map, const std::string& key) {
  auto it = map.find(key);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

}  // namespace

std::string host_name(int host_index) {
  return "algo-" + std::to_string(host_index + 1);
}

nlohmann::ordered_json resource_config_json(const TrainingJobSpec& spec, int host_index,
                                            int host_count) {
  return build_resource_config(describe_cluster(spec, host_index, host_count));
}

nlohmann::ordered_json input_data_config_json(const TrainingJobSpec& spec, int host_index,
                                              int host_count) {
  return build_input_data_config(spec, describe_cluster(spec, host_index, host_count));
}

void write_container_config(const TrainingJobSpec& spec, int host_index, int host_count,
                            const JobDirectory& job_directory) {
  const Cluster cluster = describe_cluster(spec, host_index, host_count);
  Json hyperparameters = Json::object();
  for (const auto& [key, value] : spec.hyper_parameters) hyperparameters[key] = value;
  const std::filesystem::path config = job_directory.config();
  detail::write_file_atomically(config / "hyperparameters.json",
                                dump_json(hyperparameters, "hyperparameters.json"));
  detail::write_file_atomically(config / "resourceconfig.json",
                                dump_json(build_resource_config(cluster), "resourceconfig.json"));
  detail::write_file_atomically(
      config / "inputdataconfig.json",
      dump_json(build_input_data_config(spec, cluster), "inputdataconfig.json"));
}

std::vector<std::string> hyperparameter_arguments(const StringMap& hyperparameters) {
  std::vector<std::string> arguments;
  for (const auto& [key, text] : hyperparameters) {  // std::map: sorted by key, as sorted()
    if (!is_user_hyperparameter(key)) continue;
    if (key.empty()) {
      arguments.emplace_back();
    } else {
      arguments.push_back((detail::count_code_points(key) > 1 ? "--" : "-") + key);
    }
    arguments.push_back(argument_value(decode_hyperparameter(text)));
  }
  return arguments;
}

std::string tf_config_json(const std::vector<std::string>& hosts, const std::string& current) {
  Json workers = Json::array();
  int index = 0;
  for (size_t i = 0; i < hosts.size(); ++i) {
    workers.push_back(hosts[i] + ":8890");
    if (hosts[i] == current) index = static_cast<int>(i);
  }
  Json config = {{"cluster", {{"worker", workers}}},
                 {"environment", "cloud"},
                 {"task", {{"index", index}, {"type", "worker"}}}};
  return config.dump();
}

ContainerEnvironment container_environment(const TrainingJobSpec& spec, int host_index,
                                           int host_count, const JobDirectory& job_directory,
                                           int gpu_count, int cpu_count,
                                           std::string_view training_job_arn) {
  if (gpu_count < 0 || cpu_count < 0) {
    throw ValueError("GPU and CPU counts must not be negative (got " + std::to_string(gpu_count) +
                     " and " + std::to_string(cpu_count) + ")");
  }
  const Cluster cluster = describe_cluster(spec, host_index, host_count);
  const PythonValue resource_config = python_value_from_json(build_resource_config(cluster));
  const Json input_json = build_input_data_config(spec, cluster);
  const PythonValue input_data_config = python_value_from_json(input_json);
  const StringMap& environment = spec.environment;

  // Hyperparameters as the toolkit splits them.
  Entries user_hps;
  Entries sagemaker_hps;
  Entries framework_params;
  for (const auto& [key, text] : spec.hyper_parameters) {
    PythonValue value = decode_hyperparameter(text);
    if (is_user_hyperparameter(key)) {
      user_hps.emplace_back(key, std::move(value));
    } else {
      if (!is_toolkit_parameter(key)) framework_params.emplace_back(key, value);
      sagemaker_hps.emplace_back(key, std::move(value));
    }
  }
  const PythonValue sagemaker = PythonValue::dict(sagemaker_hps);
  const PythonValue framework = PythonValue::dict(framework_params);
  const PythonValue* program = find_entry(sagemaker, "sagemaker_program");

  PythonValue user_entry_point = PythonValue::none();
  std::optional<std::string> program_env = lookup(environment, "SAGEMAKER_PROGRAM");
  if (program_env && !program_env->empty()) {
    user_entry_point = PythonValue::from_string(*program_env);
  } else if (program != nullptr) {
    user_entry_point = *program;
  }
  std::string module_name =
      program_env ? *program_env : (program != nullptr ? python_str(*program) : "None");
  if (module_name.ends_with(".py")) module_name.resize(module_name.size() - 3);

  const std::string code_dir = job_directory.code().string();
  const PythonValue* submit = find_entry(sagemaker, "sagemaker_submit_directory");
  const std::string module_dir = submit != nullptr ? python_str(*submit) : code_dir;
  const PythonValue* level = find_entry(sagemaker, "sagemaker_container_log_level");
  const PythonValue log_level = level != nullptr ? *level : PythonValue::from_int(kDefaultLogLevel);
  std::optional<std::string> framework_module_env =
      lookup(environment, "SAGEMAKER_TRAINING_MODULE");
  const PythonValue framework_module =
      framework_module_env ? PythonValue::from_string(*framework_module_env) : PythonValue::none();

  // Instance groups and the distribution hosts (toolkit Environment.__init__).
  const HostGroup& current_group = cluster.groups[cluster.current_group];
  std::vector<std::string> group_names;
  Entries groups_dict;
  const PythonValue* resource_groups = find_entry(resource_config, "instance_groups");
  for (size_t g = 0; g < cluster.groups.size(); ++g) {
    group_names.push_back(cluster.groups[g].name);
    groups_dict.emplace_back(cluster.groups[g].name, resource_groups->items[g]);
  }
  PythonValue distribution_groups = PythonValue::list({});
  if (const PythonValue* given = find_entry(framework, "sagemaker_distribution_instance_groups")) {
    distribution_groups = *given;
  } else {
    for (std::string_view flag :
         {"sagemaker_mpi_enabled", "sagemaker_parameter_server_enabled",
          "sagemaker_distributed_dataparallel_enabled", "sagemaker_pytorch_ddp_enabled",
          "sagemaker_pytorch_xla_multi_worker_enabled",
          "sagemaker_multi_worker_mirrored_strategy_enabled"}) {
      const PythonValue* value = find_entry(framework, flag);
      if (value != nullptr && python_truthy(*value)) {
        distribution_groups = string_list({current_group.name});
        break;
      }
    }
  }
  std::vector<std::string> distribution_hosts;
  for (const HostGroup& group : cluster.groups) {
    if (python_contains(distribution_groups, group.name)) {
      distribution_hosts.insert(distribution_hosts.end(), group.hosts.begin(), group.hosts.end());
    }
  }
  const std::string master =
      distribution_hosts.empty() ? cluster.hosts.front() : distribution_hosts.front();
  PythonValue model_parallel = PythonValue::none();
  if (std::optional<std::string> mp = lookup(environment, "SM_HP_MP_PARAMETERS")) {
    model_parallel =
        mp->empty() ? PythonValue::from_string("") : PythonValue::from_bool(*mp != "{}");
  }

  Entries channel_dirs;
  std::vector<std::string> channel_names;
  for (auto it = input_json.begin(); it != input_json.end(); ++it) {
    channel_dirs.emplace_back(it.key(),
                              PythonValue::from_string(job_directory.channel(it.key()).string()));
    channel_names.push_back(it.key());
  }
  std::sort(channel_names.begin(), channel_names.end());

  const std::vector<std::string> arguments = hyperparameter_arguments(spec.hyper_parameters);
  const auto path_value = [](const std::filesystem::path& path) {
    return PythonValue::from_string(path.string());
  };
  const std::filesystem::path intermediate = job_directory.output() / "intermediate";

  // Environment's properties: what SM_TRAINING_ENV holds.
  const PythonValue training_env = PythonValue::dict({
      {"additional_framework_parameters", framework},
      {"channel_input_dirs", PythonValue::dict(channel_dirs)},
      {"current_host", PythonValue::from_string(cluster.current_host)},
      {"current_instance_group", PythonValue::from_string(current_group.name)},
      {"current_instance_group_hosts", string_list(current_group.hosts)},
      {"current_instance_type", PythonValue::from_string(current_group.instance_type)},
      {"distribution_hosts", string_list(distribution_hosts)},
      {"distribution_instance_groups", distribution_groups},
      {"framework_module", framework_module},
      {"hosts", string_list(cluster.hosts)},
      {"hyperparameters", PythonValue::dict(user_hps)},
      {"input_config_dir", path_value(job_directory.config())},
      {"input_data_config", input_data_config},
      {"input_dir", path_value(job_directory.input())},
      {"instance_groups", string_list(group_names)},
      {"instance_groups_dict", PythonValue::dict(groups_dict)},
      {"is_hetero", PythonValue::from_bool(cluster.groups.size() > 1)},
      {"is_master", PythonValue::from_bool(cluster.current_host == master)},
      {"is_modelparallel_enabled", model_parallel},
      {"is_smddpmprun_installed", PythonValue::from_bool(false)},
      {"is_smddprun_installed", PythonValue::from_bool(false)},
      {"job_name", PythonValue::from_string(spec.training_job_name)},
      {"log_level", log_level},
      {"master_hostname", PythonValue::from_string(master)},
      {"model_dir", path_value(job_directory.model())},
      {"module_dir", PythonValue::from_string(module_dir)},
      {"module_name", PythonValue::from_string(module_name)},
      {"network_interface_name", PythonValue::from_string("eth0")},
      {"num_cpus", PythonValue::from_int(cpu_count)},
      {"num_gpus", PythonValue::from_int(gpu_count)},
      {"num_neurons", PythonValue::from_int(0)},
      {"output_data_dir", path_value(job_directory.output_data())},
      {"output_dir", path_value(job_directory.output())},
      {"output_intermediate_dir", path_value(intermediate)},
      {"resource_config", resource_config},
      {"topology", PythonValue::list({})},
      {"user_entry_point", user_entry_point},
  });

  // Environment.to_env_vars: every key becomes SM_<KEY>.
  Entries toolkit = {
      {"hosts", string_list(cluster.hosts)},
      {"network_interface_name", PythonValue::from_string("eth0")},
      {"hps", PythonValue::dict(user_hps)},
      {"user_entry_point", user_entry_point},
      {"framework_params", framework},
      {"resource_config", resource_config},
      {"input_data_config", input_data_config},
      {"output_data_dir", path_value(job_directory.output_data())},
      {"channels", string_list(channel_names)},
      {"current_host", PythonValue::from_string(cluster.current_host)},
      {"current_instance_type", PythonValue::from_string(current_group.instance_type)},
      {"current_instance_group", PythonValue::from_string(current_group.name)},
      {"current_instance_group_hosts", string_list(current_group.hosts)},
      {"instance_groups", string_list(group_names)},
      {"instance_groups_dict", PythonValue::dict(groups_dict)},
      {"distribution_instance_groups", distribution_groups},
      {"is_hetero", PythonValue::from_bool(cluster.groups.size() > 1)},
      {"module_name", PythonValue::from_string(module_name)},
      {"log_level", log_level},
      {"framework_module", framework_module},
      {"input_dir", path_value(job_directory.input())},
      {"input_config_dir", path_value(job_directory.config())},
      {"output_dir", path_value(job_directory.output())},
      {"num_cpus", PythonValue::from_int(cpu_count)},
      {"num_gpus", PythonValue::from_int(gpu_count)},
      {"num_neurons", PythonValue::from_int(0)},
      {"model_dir", path_value(job_directory.model())},
      {"module_dir", PythonValue::from_string(module_dir)},
      {"training_env", training_env},
      {"user_args", string_list(arguments)},
      {"output_intermediate_dir", path_value(intermediate)},
  };
  for (const auto& [name, path] : channel_dirs) toolkit.emplace_back("channel_" + name, path);
  for (const auto& [key, value] : user_hps) {
    if (key.find('=') == std::string::npos) toolkit.emplace_back("hp_" + key, value);
  }

  ContainerEnvironment result;
  result.variables = environment;
  for (const auto& [key, value] : toolkit) {
    std::string text;
    if (value.kind == PythonValue::Kind::kString) {
      text = value.text;
    } else if (value.kind != PythonValue::Kind::kNone) {
      text = python_json_dumps(value);
    }
    result.variables["SM_" + ascii_upper(key)] = std::move(text);
  }
  result.variables["TRAINING_JOB_NAME"] = spec.training_job_name;
  result.variables["TRAINING_JOB_ARN"] = std::string(training_job_arn);
  result.variables["CURRENT_HOST"] = cluster.current_host;
  result.variables["SAGEMAKER_BASE_DIR"] = job_directory.root().string();
  // The TensorFlow toolkit's MultiWorkerMirroredStrategy contract: every host a worker at port
  // 8890, in host order, this host's index as its task.
  const PythonValue* multi_worker =
      find_entry(sagemaker, "sagemaker_multi_worker_mirrored_strategy_enabled");
  if (multi_worker != nullptr && python_truthy(*multi_worker)) {
    result.variables["TF_CONFIG"] = tf_config_json(cluster.hosts, cluster.current_host);
  }
  result.arguments = arguments;
  return result;
}

}  // namespace trainyard::jobs
