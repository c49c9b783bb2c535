// Expected argv and SM_* values were produced by running the training toolkit's own
// mapping.to_cmd_args / to_env_vars (sagemaker-training-toolkit 5.1) on the same
// hyperparameters, and the JSON files are written out by hand from the contract.
#include "jobs/staging/container_config.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "staging_test_util.h"

namespace trainyard::jobs {
namespace {

using testing::read_file;
using testing::ScratchDirectory;
namespace fs = std::filesystem;

const StringMap kToolkitHyperparameters = {
    {"epochs", "5"},
    {"lr", "0.1"},
    {"name", "\"abc\""},
    {"flag", "true"},
    {"l", "[1,2]"},
    {"d", "{\"b\": 2, \"a\": \"x\"}"},
    {"sagemaker_program", "\"train.py\""},
    {"_tuning_objective_metric", "loss"},
    {"default_user_module_name", "x"},
    {"raw", "abc"},
    {"none", "null"},
    {"e", "1e-5"},
    {"B", "[\"x\", {\"k\": null}]"},
    {"\xc3\xa9", "1"},  // é: one character, so "-é"
};

Channel s3_channel(const std::string& name, const std::string& uri) {
  Channel channel;
  channel.channel_name = name;
  channel.data_source.s3_data_source = S3DataSource{.s3_uri = uri};
  return channel;
}

TrainingJobSpec two_host_spec() {
  TrainingJobSpec spec;
  spec.training_job_name = "my-job";
  spec.algorithm_specification = AlgorithmSpecification{};
  spec.algorithm_specification->training_image = "trainyard";
  spec.resource_config = ResourceConfig{.instance_type = "ml.g5.xlarge", .instance_count = 2};
  spec.input_data_config.push_back(s3_channel("train", "s3://bucket/train/"));
  spec.input_data_config.push_back(s3_channel("test", "s3://bucket/test/"));
  spec.input_data_config[0].content_type = "text/csv";
  return spec;
}

TEST(HyperparameterArgumentsTest, MatchesTheToolkit) {
  EXPECT_EQ(hyperparameter_arguments(kToolkitHyperparameters),
            (std::vector<std::string>{"-B",        "['x', {'k': None}]",
                                      "-d",        "a=x,b=2",
                                      "-e",        "1e-05",
                                      "--epochs",  "5",
                                      "--flag",    "True",
                                      "-l",        "[1, 2]",
                                      "--lr",      "0.1",
                                      "--name",    "abc",
                                      "--none",    "",
                                      "--raw",     "abc",
                                      "-\xc3\xa9", "1"}));
}

TEST(HyperparameterArgumentsTest, DropsEveryReservedName) {
  StringMap hyperparameters = {{"sagemaker_mpi_enabled", "true"},
                               {"sagemaker_anything", "1"},
                               {"_tuning_objective_metric", "loss"},
                               {"default_user_module_name", "m"},
                               {"sagemaker", "kept"}};  // no underscore: a user key
  EXPECT_EQ(hyperparameter_arguments(hyperparameters),
            (std::vector<std::string>{"--sagemaker", "kept"}));
  EXPECT_TRUE(hyperparameter_arguments({}).empty());
}

TEST(HostNameTest, CountsFromOne) {
  EXPECT_EQ(host_name(0), "algo-1");
  EXPECT_EQ(host_name(9), "algo-10");
}

TEST(ResourceConfigTest, DescribesAHomogeneousCluster) {
  nlohmann::json expected = nlohmann::json::parse(R"({
    "current_host": "algo-2",
    "current_instance_type": "ml.g5.xlarge",
    "current_group_name": "homogeneousCluster",
    "hosts": ["algo-1", "algo-2"],
    "instance_groups": [{"instance_group_name": "homogeneousCluster",
                         "instance_type": "ml.g5.xlarge",
                         "hosts": ["algo-1", "algo-2"]}],
    "network_interface_name": "eth0"})");
  EXPECT_EQ(nlohmann::json::parse(resource_config_json(two_host_spec(), 1, 2).dump()), expected);
}

TEST(ResourceConfigTest, SortsHostsAsStrings) {
  TrainingJobSpec spec = two_host_spec();
  spec.resource_config->instance_count = 11;
  nlohmann::ordered_json config = resource_config_json(spec, 0, 11);
  EXPECT_EQ(config["hosts"].get<std::vector<std::string>>(),
            (std::vector<std::string>{"algo-1", "algo-10", "algo-11", "algo-2", "algo-3", "algo-4",
                                      "algo-5", "algo-6", "algo-7", "algo-8", "algo-9"}));
}

TEST(ResourceConfigTest, InstanceGroupsNumberHostsThroughTheGroups) {
  TrainingJobSpec spec = two_host_spec();
  spec.resource_config = ResourceConfig{};
  spec.resource_config->instance_groups = {{"ml.p4d.24xlarge", 1, "gpus"},
                                           {"ml.c5.xlarge", 2, "cpus"}};
  nlohmann::ordered_json config = resource_config_json(spec, 2, 3);
  EXPECT_EQ(config["current_host"], "algo-3");
  EXPECT_EQ(config["current_group_name"], "cpus");
  EXPECT_EQ(config["current_instance_type"], "ml.c5.xlarge");
  EXPECT_EQ(config["instance_groups"][0]["hosts"], nlohmann::json({"algo-1"}));
  EXPECT_EQ(config["instance_groups"][1]["hosts"], nlohmann::json({"algo-2", "algo-3"}));
}

TEST(ResourceConfigTest, RefusesInconsistentHostCounts) {
  EXPECT_THROW(resource_config_json(two_host_spec(), 0, 3), ValueError);
  EXPECT_THROW(resource_config_json(two_host_spec(), 2, 2), ValueError);
  EXPECT_THROW(resource_config_json(two_host_spec(), -1, 2), ValueError);
}

TEST(InputDataConfigTest, WritesEachChannelsSettings) {
  TrainingJobSpec spec = two_host_spec();
  spec.input_data_config[0].input_mode = TrainingInputMode::kFastFile;
  spec.input_data_config[1].data_source.s3_data_source->s3_data_distribution_type =
      S3DataDistribution::kShardedByS3Key;
  spec.input_data_config[1].record_wrapper_type = RecordWrapper::kRecordIO;
  Channel efs;
  efs.channel_name = "shared";
  efs.data_source.file_system_data_source =
      FileSystemDataSource{"fs-1", FileSystemAccessMode::kRo, FileSystemType::kEfs, "/data"};
  spec.input_data_config.push_back(efs);
  nlohmann::json expected = nlohmann::json::parse(R"({
    "train": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
              "RecordWrapperType": "None", "ContentType": "text/csv"},
    "test": {"TrainingInputMode": "File", "S3DistributionType": "ShardedByS3Key",
             "RecordWrapperType": "RecordIO"},
    "shared": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
               "RecordWrapperType": "None"}})");
  EXPECT_EQ(nlohmann::json::parse(input_data_config_json(spec, 0, 2).dump()), expected);
}

TEST(WriteContainerConfigTest, WritesTheThreeFiles) {
  ScratchDirectory scratch;
  JobDirectory job(scratch.path(), "my-job");
  job.create();
  TrainingJobSpec spec = two_host_spec();
  spec.hyper_parameters = {{"epochs", "5"}, {"name", "\"abc\""}};
  write_container_config(spec, 0, 2, job);
  EXPECT_EQ(nlohmann::json::parse(read_file(job.config() / "hyperparameters.json")),
            nlohmann::json({{"epochs", "5"}, {"name", "\"abc\""}}));
  EXPECT_EQ(nlohmann::json::parse(read_file(job.config() / "resourceconfig.json"))["current_host"],
            "algo-1");
  EXPECT_EQ(nlohmann::json::parse(read_file(job.config() / "inputdataconfig.json")).size(), 2u);
  EXPECT_EQ(testing::names_in(job.config()),
            (std::vector<std::string>{"hyperparameters.json", "inputdataconfig.json",
                                      "resourceconfig.json"}));
}

class ContainerEnvironmentTest : public ::testing::Test {
 protected:
  ScratchDirectory scratch_;
  JobDirectory job_{scratch_.path(), "my-job"};
  TrainingJobSpec spec_ = two_host_spec();

  std::map<std::string, std::string> variables(int host_index = 1) {
    return container_environment(spec_, host_index, 2, job_, 4, 8,
                                 "arn:aws:sagemaker:us-east-1:123456789012:training-job/my-job")
        .variables;
  }
};

TEST_F(ContainerEnvironmentTest, PlatformVariablesAndPaths) {
  spec_.environment = {{"MY_SETTING", "on"}, {"SM_NUM_GPUS", "99"}};
  auto env = variables();
  const std::string root = job_.root().string();
  EXPECT_EQ(env["TRAINING_JOB_NAME"], "my-job");
  EXPECT_EQ(env["TRAINING_JOB_ARN"],
            "arn:aws:sagemaker:us-east-1:123456789012:training-job/my-job");
  EXPECT_EQ(env["MY_SETTING"], "on");
  EXPECT_EQ(env["SM_NUM_GPUS"], "4");  // the toolkit's value wins over the request's
  EXPECT_EQ(env["SM_NUM_CPUS"], "8");
  EXPECT_EQ(env["SM_NUM_NEURONS"], "0");
  EXPECT_EQ(env["SAGEMAKER_BASE_DIR"], root);
  EXPECT_EQ(env["SM_MODEL_DIR"], root + "/model");
  EXPECT_EQ(env["SM_INPUT_DIR"], root + "/input");
  EXPECT_EQ(env["SM_INPUT_CONFIG_DIR"], root + "/input/config");
  EXPECT_EQ(env["SM_OUTPUT_DIR"], root + "/output");
  EXPECT_EQ(env["SM_OUTPUT_DATA_DIR"], root + "/output/data");
  EXPECT_EQ(env["SM_OUTPUT_INTERMEDIATE_DIR"], root + "/output/intermediate");
  EXPECT_EQ(env["SM_MODULE_DIR"], root + "/code");
  EXPECT_EQ(env["SM_CHANNELS"], "[\"test\",\"train\"]");
  EXPECT_EQ(env["SM_CHANNEL_TRAIN"], root + "/input/data/train");
  EXPECT_EQ(env["SM_CHANNEL_TEST"], root + "/input/data/test");
  EXPECT_EQ(env["SM_CURRENT_HOST"], "algo-2");
  EXPECT_EQ(env["CURRENT_HOST"], "algo-2");
  EXPECT_EQ(env["SM_HOSTS"], "[\"algo-1\",\"algo-2\"]");
  EXPECT_EQ(env["SM_CURRENT_INSTANCE_TYPE"], "ml.g5.xlarge");
  EXPECT_EQ(env["SM_CURRENT_INSTANCE_GROUP"], "homogeneousCluster");
  EXPECT_EQ(env["SM_NETWORK_INTERFACE_NAME"], "eth0");
  EXPECT_EQ(env["SM_LOG_LEVEL"], "20");
  EXPECT_EQ(env["SM_IS_HETERO"], "false");
  EXPECT_EQ(env["SM_DISTRIBUTION_INSTANCE_GROUPS"], "[]");
  EXPECT_EQ(env["SM_FRAMEWORK_MODULE"], "");
  EXPECT_EQ(env["SM_FRAMEWORK_PARAMS"], "{}");
  EXPECT_EQ(env["SM_USER_ENTRY_POINT"], "");
  EXPECT_EQ(env["SM_MODULE_NAME"], "None");  // str(None), as the toolkit renders no program
  EXPECT_EQ(env["SM_RESOURCE_CONFIG"],
            "{\"current_group_name\":\"homogeneousCluster\",\"current_host\":\"algo-2\","
            "\"current_instance_type\":\"ml.g5.xlarge\",\"hosts\":[\"algo-1\",\"algo-2\"],"
            "\"instance_groups\":[{\"hosts\":[\"algo-1\",\"algo-2\"],\"instance_group_name\":"
            "\"homogeneousCluster\",\"instance_type\":\"ml.g5.xlarge\"}],"
            "\"network_interface_name\":\"eth0\"}");
  EXPECT_EQ(env["SM_INPUT_DATA_CONFIG"],
            "{\"test\":{\"RecordWrapperType\":\"None\",\"S3DistributionType\":"
            "\"FullyReplicated\",\"TrainingInputMode\":\"File\"},\"train\":{\"ContentType\":"
            "\"text/csv\",\"RecordWrapperType\":\"None\",\"S3DistributionType\":"
            "\"FullyReplicated\",\"TrainingInputMode\":\"File\"}}");
}

TEST_F(ContainerEnvironmentTest, HyperparameterVariablesMatchTheToolkit) {
  spec_.hyper_parameters = kToolkitHyperparameters;
  ContainerEnvironment environment = container_environment(spec_, 0, 2, job_, 0, 2, "arn");
  auto& env = environment.variables;
  EXPECT_EQ(env["SM_HPS"],
            "{\"B\":[\"x\",{\"k\":null}],\"d\":{\"a\":\"x\",\"b\":2},\"e\":1e-05,\"epochs\":5,"
            "\"flag\":true,\"l\":[1,2],\"lr\":0.1,\"name\":\"abc\",\"none\":null,\"raw\":\"abc\","
            "\"\\u00e9\":1}");
  EXPECT_EQ(env["SM_USER_ARGS"],
            "[\"-B\",\"['x', {'k': None}]\",\"-d\",\"a=x,b=2\",\"-e\",\"1e-05\",\"--epochs\",\"5\","
            "\"--flag\",\"True\",\"-l\",\"[1, 2]\",\"--lr\",\"0.1\",\"--name\",\"abc\",\"--none\","
            "\"\",\"--raw\",\"abc\",\"-\\u00e9\",\"1\"]");
  EXPECT_EQ(env["SM_HP_D"], "{\"a\":\"x\",\"b\":2}");
  EXPECT_EQ(env["SM_HP_NAME"], "abc");
  EXPECT_EQ(env["SM_HP_NONE"], "");
  EXPECT_EQ(env["SM_HP_EPOCHS"], "5");
  EXPECT_EQ(env["SM_HP_FLAG"], "true");
  EXPECT_EQ(env["SM_HP_E"], "1e-05");
  EXPECT_EQ(env.count("SM_HP_SAGEMAKER_PROGRAM"), 0u);
  EXPECT_EQ(env.count("SM_HP__TUNING_OBJECTIVE_METRIC"), 0u);
  EXPECT_EQ(env["SM_USER_ENTRY_POINT"], "train.py");
  EXPECT_EQ(env["SM_MODULE_NAME"], "train");
  EXPECT_EQ(environment.arguments, hyperparameter_arguments(kToolkitHyperparameters));
}

TEST_F(ContainerEnvironmentTest, HyphensAreKeptAndEqualsSignsGetNoVariable) {
  spec_.hyper_parameters = {{"learning-rate", "0.001"}, {"a=b", "1"}};
  auto env = variables();
  EXPECT_EQ(env["SM_HP_LEARNING-RATE"], "0.001");
  for (const auto& [name, value] : env) EXPECT_EQ(name.find('='), std::string::npos) << name;
}

TEST_F(ContainerEnvironmentTest, FrameworkParametersAndDistribution) {
  spec_.hyper_parameters = {{"sagemaker_mpi_enabled", "true"},
                            {"sagemaker_container_log_level", "10"},
                            {"sagemaker_submit_directory", "\"s3://bucket/src.tar.gz\""}};
  auto env = variables(1);
  EXPECT_EQ(env["SM_FRAMEWORK_PARAMS"], "{\"sagemaker_mpi_enabled\":true}");
  EXPECT_EQ(env["SM_LOG_LEVEL"], "10");
  EXPECT_EQ(env["SM_MODULE_DIR"], "s3://bucket/src.tar.gz");
  EXPECT_EQ(env["SM_DISTRIBUTION_INSTANCE_GROUPS"], "[\"homogeneousCluster\"]");
  EXPECT_EQ(env["SM_HPS"], "{}");
  nlohmann::json training_env = nlohmann::json::parse(env["SM_TRAINING_ENV"]);
  EXPECT_EQ(training_env["master_hostname"], "algo-1");
  EXPECT_EQ(training_env["is_master"], false);
  EXPECT_EQ(training_env["distribution_hosts"], nlohmann::json({"algo-1", "algo-2"}));
  EXPECT_EQ(training_env["job_name"], "my-job");
  EXPECT_EQ(training_env["current_host"], "algo-2");
  EXPECT_EQ(training_env["num_gpus"], 4);
  EXPECT_EQ(training_env["channel_input_dirs"]["train"], env["SM_CHANNEL_TRAIN"]);
  EXPECT_EQ(training_env["resource_config"], nlohmann::json::parse(env["SM_RESOURCE_CONFIG"]));
  EXPECT_EQ(training_env["additional_framework_parameters"],
            nlohmann::json({{"sagemaker_mpi_enabled", true}}));
  EXPECT_TRUE(training_env["is_modelparallel_enabled"].is_null());
}

// The TensorFlow toolkit's TF_CONFIG for MultiWorkerMirroredStrategy, per host, and none
// without the flag.
TEST_F(ContainerEnvironmentTest, MultiWorkerMirroredStrategyGetsTfConfig) {
  EXPECT_EQ(variables(1).count("TF_CONFIG"), 0u);
  spec_.hyper_parameters = {{"sagemaker_multi_worker_mirrored_strategy_enabled", "true"}};
  EXPECT_EQ(variables(1)["TF_CONFIG"],
            R"({"cluster":{"worker":["algo-1:8890","algo-2:8890"]},"environment":"cloud",)"
            R"("task":{"index":1,"type":"worker"}})");
  EXPECT_EQ(nlohmann::json::parse(variables(0)["TF_CONFIG"])["task"]["index"], 0);
  spec_.hyper_parameters = {{"sagemaker_multi_worker_mirrored_strategy_enabled", "false"}};
  EXPECT_EQ(variables(1).count("TF_CONFIG"), 0u);
}

TEST_F(ContainerEnvironmentTest, ProgramFromTheEnvironmentWins) {
  spec_.hyper_parameters = {{"sagemaker_program", "\"train.py\""}};
  spec_.environment = {{"SAGEMAKER_PROGRAM", "entry.py"},
                       {"SAGEMAKER_TRAINING_MODULE", "pkg.training:main"}};
  auto env = variables();
  EXPECT_EQ(env["SM_USER_ENTRY_POINT"], "entry.py");
  EXPECT_EQ(env["SM_MODULE_NAME"], "entry");
  EXPECT_EQ(env["SM_FRAMEWORK_MODULE"], "pkg.training:main");
}

TEST_F(ContainerEnvironmentTest, RefusesNegativeCounts) {
  EXPECT_THROW(container_environment(spec_, 0, 2, job_, -1, 8, "arn"), ValueError);
  EXPECT_THROW(container_environment(spec_, 0, 2, job_, 1, -8, "arn"), ValueError);
}

}  // namespace
}  // namespace trainyard::jobs
