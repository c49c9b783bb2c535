// One case per constraint of the model (and of trainyard's rules): a valid request with one
// member broken must give exactly the violation AWS would word for it.
#include <gtest/gtest.h>

#include <algorithm>

#include "job_spec_test_util.h"

namespace trainyard::jobs {
namespace {

using nlohmann::json;
using testing::aws_item;
using testing::errors_of;
using testing::messages;
using testing::seed_request;
using testing::single_message;

const std::string kNameQuoted = "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}";
const std::string kS3Quoted = "^(https|s3)://([^/]+)/?(.*)$";

std::string pattern(const std::string& quoted) {
  return "Member must satisfy regular expression pattern: " + quoted;
}
std::string max_length(int n) {
  return "Member must have length less than or equal to " + std::to_string(n);
}
std::string min_length(int n) {
  return "Member must have length greater than or equal to " + std::to_string(n);
}
std::string max_value(int n) {
  return "Member must have value less than or equal to " + std::to_string(n);
}
std::string min_value(int n) {
  return "Member must have value greater than or equal to " + std::to_string(n);
}
std::string null_item(const std::string& path) {
  return "Value null at '" + path + "' failed to satisfy constraint: Member must not be null";
}

json with_channel_source(json source) {
  json request = seed_request();
  request["InputDataConfig"][0]["DataSource"]["S3DataSource"] = std::move(source);
  return request;
}

// --- TrainingJobName ---------------------------------------------------------------------

TEST(JobSpecConstraintsTest, NameWithUnderscoreFailsThePattern) {
  json request = seed_request();
  request["TrainingJobName"] = "my_job";
  EXPECT_EQ(errors_of(request).message(),
            "1 validation error detected: Value 'my_job' at 'trainingJobName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
}

TEST(JobSpecConstraintsTest, NameMayNotStartOrEndWithAHyphen) {
  for (const std::string name : {"-job", "job-", "a--"}) {
    json request = seed_request();
    request["TrainingJobName"] = name;
    EXPECT_EQ(single_message(request), aws_item(name, "trainingJobName", pattern(kNameQuoted)));
  }
}

TEST(JobSpecConstraintsTest, NameLongerThan63FailsLengthAndPattern) {
  json request = seed_request();
  const std::string name(64, 'a');
  request["TrainingJobName"] = name;
  EXPECT_EQ(messages(errors_of(request)),
            (std::vector<std::string>{aws_item(name, "trainingJobName", max_length(63)),
                                      aws_item(name, "trainingJobName", pattern(kNameQuoted))}));
}

TEST(JobSpecConstraintsTest, EmptyNameFailsMinimumLengthAndPattern) {
  json request = seed_request();
  request["TrainingJobName"] = "";
  EXPECT_EQ(messages(errors_of(request)),
            (std::vector<std::string>{aws_item("", "trainingJobName", min_length(1)),
                                      aws_item("", "trainingJobName", pattern(kNameQuoted))}));
}

TEST(JobSpecConstraintsTest, MissingNameIsNull) {
  json request = seed_request();
  request.erase("TrainingJobName");
  EXPECT_EQ(single_message(request), null_item("trainingJobName"));
}

// --- HyperParameters ---------------------------------------------------------------------

TEST(JobSpecConstraintsTest, AtMost100HyperParameters) {
  json request = seed_request();
  json map = json::object();
  for (int i = 0; i < 101; ++i) map[testing::numbered("p", i)] = "1";
  request["HyperParameters"] = map;
  const std::string message = single_message(request);
  EXPECT_EQ(message.rfind("Value '{p0=1, p1=1, p10=1, ", 0), 0u) << message;
  EXPECT_NE(message.find("' at 'hyperParameters' failed to satisfy constraint: " + max_length(100)),
            std::string::npos)
      << message;
}

TEST(JobSpecConstraintsTest, HyperParameterValueOver2500Characters) {
  json request = seed_request();
  const std::string value(2501, 'x');
  request["HyperParameters"] = {{"classes", value}};
  EXPECT_EQ(single_message(request),
            aws_item("{classes=" + value + "}", "hyperParameters",
                     "Map value must satisfy constraint: [" + max_length(2500) + ", " +
                         min_length(0) + ", " + pattern(".*") + "]"));
}

TEST(JobSpecConstraintsTest, HyperParameterKeyOver256Characters) {
  json request = seed_request();
  const std::string key(257, 'k');
  request["HyperParameters"] = {{key, "1"}};
  EXPECT_EQ(single_message(request),
            aws_item("{" + key + "=1}", "hyperParameters",
                     "Map keys must satisfy constraint: [" + max_length(256) + ", " +
                         min_length(0) + ", " + pattern(".*") + "]"));
}

TEST(JobSpecConstraintsTest, HyperParameterValueWithANewlineFailsDotStar) {
  // Java's '.' does not match line terminators, so ".*" refuses a multi-line value.
  json request = seed_request();
  request["HyperParameters"] = {{"script", "line one\nline two"}};
  const std::string message = single_message(request);
  EXPECT_NE(message.find("Map value must satisfy constraint"), std::string::npos) << message;
}

// --- AlgorithmSpecification --------------------------------------------------------------

TEST(JobSpecConstraintsTest, TrainingInputModeIsRequiredAndAnEnum) {
  json request = seed_request();
  request["AlgorithmSpecification"].erase("TrainingInputMode");
  EXPECT_EQ(single_message(request), null_item("algorithmSpecification.trainingInputMode"));
  request["AlgorithmSpecification"]["TrainingInputMode"] = "Stream";
  EXPECT_EQ(single_message(request),
            aws_item("Stream", "algorithmSpecification.trainingInputMode",
                     "Member must satisfy enum value set: [Pipe, File, FastFile]"));
}

TEST(JobSpecConstraintsTest, ExactlyOneOfTrainingImageAndAlgorithmName) {
  json request = seed_request();
  request["AlgorithmSpecification"]["AlgorithmName"] = "my-algorithm";
  EXPECT_EQ(single_message(request),
            "AlgorithmSpecification must give exactly one of TrainingImage and AlgorithmName; it "
            "gives both");
  request["AlgorithmSpecification"].erase("AlgorithmName");
  request["AlgorithmSpecification"].erase("TrainingImage");
  EXPECT_EQ(single_message(request),
            "AlgorithmSpecification must give exactly one of TrainingImage and AlgorithmName; it "
            "gives neither");
}

TEST(JobSpecConstraintsTest, AlgorithmNameMayNotEndWithAHyphen) {
  json request = seed_request();
  request["AlgorithmSpecification"].erase("TrainingImage");
  request["AlgorithmSpecification"]["AlgorithmName"] = "my-algorithm-";
  EXPECT_EQ(single_message(request),
            aws_item("my-algorithm-", "algorithmSpecification.algorithmName",
                     pattern("(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z\\-]*\\/)?"
                             "([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)$")));
  request["AlgorithmSpecification"]["AlgorithmName"] =
      "arn:aws:sagemaker:us-east-1:123456789012:algorithm/my-algorithm";
  EXPECT_TRUE(parse_create_training_job(request.dump()).ok());
}

TEST(JobSpecConstraintsTest, TrainingImageAtMost255Characters) {
  json request = seed_request();
  const std::string image(256, 'i');
  request["AlgorithmSpecification"]["TrainingImage"] = image;
  EXPECT_EQ(single_message(request),
            aws_item(image, "algorithmSpecification.trainingImage", max_length(255)));
}

TEST(JobSpecConstraintsTest, AtMost40MetricDefinitions) {
  json request = seed_request();
  json metrics = json::array();
  for (int i = 0; i < 41; ++i)
    metrics.push_back({{"Name", testing::numbered("m", i)}, {"Regex", "x"}});
  request["AlgorithmSpecification"]["MetricDefinitions"] = metrics;
  const std::string message = single_message(request);
  EXPECT_NE(message.find("' at 'algorithmSpecification.metricDefinitions' failed to satisfy "
                         "constraint: " +
                         max_length(40)),
            std::string::npos)
      << message;
}

TEST(JobSpecConstraintsTest, MetricNameAndRegexLimits) {
  json request = seed_request();
  const std::string regex(501, 'r');
  request["AlgorithmSpecification"]["MetricDefinitions"] = {{{"Name", ""}, {"Regex", regex}}};
  const std::string base = "algorithmSpecification.metricDefinitions.1.member";
  EXPECT_EQ(messages(errors_of(request)),
            (std::vector<std::string>{aws_item("", base + ".name", min_length(1)),
                                      aws_item("", base + ".name", pattern(".+")),
                                      aws_item(regex, base + ".regex", max_length(500))}));
}

TEST(JobSpecConstraintsTest, ContainerEntrypointHoldsOneTo100Strings) {
  json request = seed_request();
  request["AlgorithmSpecification"]["ContainerEntrypoint"] = json::array();
  EXPECT_EQ(single_message(request),
            aws_item("[]", "algorithmSpecification.containerEntrypoint", min_length(1)));
  request["AlgorithmSpecification"]["ContainerEntrypoint"] =
      json::array({"python", std::string(257, 'a')});
  EXPECT_EQ(single_message(request),
            aws_item(std::string(257, 'a'), "algorithmSpecification.containerEntrypoint.2.member",
                     max_length(256)));
}

// --- RoleArn -----------------------------------------------------------------------------

TEST(JobSpecConstraintsTest, RoleArnPatternAndLength) {
  json request = seed_request();
  request["RoleArn"] = "arn:aws:iam::12345:role/x";
  EXPECT_EQ(single_message(request),
            aws_item("arn:aws:iam::12345:role/x", "roleArn",
                     pattern("^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$")));
  request["RoleArn"] = "SageMakerRole";
  EXPECT_EQ(errors_of(request).size(), 2u);  // shorter than 20 and not an ARN
}

// --- InputDataConfig ---------------------------------------------------------------------

TEST(JobSpecConstraintsTest, OneTo20Channels) {
  json request = seed_request();
  request["InputDataConfig"] = json::array();
  EXPECT_EQ(single_message(request), aws_item("[]", "inputDataConfig", min_length(1)));
  json channels = json::array();
  for (int i = 0; i < 21; ++i) {
    json channel = seed_request()["InputDataConfig"][0];
    channel["ChannelName"] = testing::numbered("c", i);
    channels.push_back(channel);
  }
  request["InputDataConfig"] = channels;
  const std::string message = single_message(request);
  EXPECT_NE(message.find("' at 'inputDataConfig' failed to satisfy constraint: " + max_length(20)),
            std::string::npos)
      << message;
}

TEST(JobSpecConstraintsTest, ChannelNamePatternAndLength) {
  json request = seed_request();
  request["InputDataConfig"][0]["ChannelName"] = "my channel";
  EXPECT_EQ(single_message(request), aws_item("my channel", "inputDataConfig.1.member.channelName",
                                              pattern("[A-Za-z0-9\\.\\-_]+")));
  const std::string long_name(65, 'c');
  request["InputDataConfig"][0]["ChannelName"] = long_name;
  EXPECT_EQ(single_message(request),
            aws_item(long_name, "inputDataConfig.1.member.channelName", max_length(64)));
}

TEST(JobSpecConstraintsTest, ChannelNamesMustBeUnique) {
  json request = seed_request();
  json channel = request["InputDataConfig"][0];
  request["InputDataConfig"].push_back(channel);
  channel["ChannelName"] = "validation";
  request["InputDataConfig"].push_back(channel);
  channel["ChannelName"] = "training";
  request["InputDataConfig"].push_back(channel);
  const ValidationErrors errors = errors_of(request);
  ASSERT_EQ(errors.size(), 1u) << errors.message();
  EXPECT_EQ(errors.violations()[0].path, "inputDataConfig");
  EXPECT_EQ(errors.violations()[0].message,
            "Channel names must be unique within InputDataConfig: 'training' is the name of "
            "channels 1, 2, 4");
}

TEST(JobSpecConstraintsTest, DataSourceGivesExactlyOneSource) {
  json request = seed_request();
  request["InputDataConfig"][0]["DataSource"] = json::object();
  EXPECT_EQ(single_message(request),
            "DataSource must give exactly one of S3DataSource, FileSystemDataSource and "
            "DatasetSource; it gives 0");
  request = seed_request();
  request["InputDataConfig"][0]["DataSource"]["DatasetSource"] = {
      {"DatasetArn",
       "arn:aws:sagemaker:us-west-2:123456789012:hub-content/my-hub/DataSet/my-dataset"}};
  const ValidationErrors errors = errors_of(request);
  ASSERT_EQ(errors.size(), 1u) << errors.message();
  EXPECT_EQ(errors.violations()[0].path, "inputDataConfig.1.member.dataSource");
}

TEST(JobSpecConstraintsTest, S3DataTypeAndDistributionAreEnums) {
  json source = seed_request()["InputDataConfig"][0]["DataSource"]["S3DataSource"];
  source["S3DataType"] = "S3Folder";
  EXPECT_EQ(single_message(with_channel_source(source)),
            aws_item("S3Folder", "inputDataConfig.1.member.dataSource.s3DataSource.s3DataType",
                     "Member must satisfy enum value set: [ManifestFile, S3Prefix, "
                     "AugmentedManifestFile, Converse]"));
  source["S3DataType"] = "S3Prefix";
  source["S3DataDistributionType"] = "Sharded";
  EXPECT_EQ(
      single_message(with_channel_source(source)),
      aws_item("Sharded", "inputDataConfig.1.member.dataSource.s3DataSource.s3DataDistributionType",
               "Member must satisfy enum value set: [FullyReplicated, ShardedByS3Key]"));
}

TEST(JobSpecConstraintsTest, ChannelCompressionRecordWrapperAndInputModeAreEnums) {
  json request = seed_request();
  request["InputDataConfig"][0]["CompressionType"] = "gzip";  // enums are case-sensitive
  request["InputDataConfig"][0]["RecordWrapperType"] = "Protobuf";
  request["InputDataConfig"][0]["InputMode"] = "Streaming";
  EXPECT_EQ(messages(errors_of(request)),
            (std::vector<std::string>{
                aws_item("gzip", "inputDataConfig.1.member.compressionType",
                         "Member must satisfy enum value set: [None, Gzip]"),
                aws_item("Protobuf", "inputDataConfig.1.member.recordWrapperType",
                         "Member must satisfy enum value set: [None, RecordIO]"),
                aws_item("Streaming", "inputDataConfig.1.member.inputMode",
                         "Member must satisfy enum value set: [Pipe, File, FastFile]")}));
}

TEST(JobSpecConstraintsTest, S3UriForms) {
  const std::string path = "inputDataConfig.1.member.dataSource.s3DataSource.s3Uri";
  json source = seed_request()["InputDataConfig"][0]["DataSource"]["S3DataSource"];
  for (const std::string good :
       {"s3://bucket", "s3://bucket/", "s3://bucket/a/b.csv", "https://bucket.s3.amazonaws.com/x",
        "file:///data/train", "file:///"}) {
    source["S3Uri"] = good;
    EXPECT_TRUE(parse_create_training_job(with_channel_source(source).dump()).ok()) << good;
  }
  for (const std::string bad :
       {"gs://bucket/x", "s3:///no-bucket", "S3://bucket", "bucket/key", "s3://bucket/a\nb", ""}) {
    source["S3Uri"] = bad;
    EXPECT_EQ(single_message(with_channel_source(source)), aws_item(bad, path, pattern(kS3Quoted)))
        << bad;
  }
  source["S3Uri"] = "s3://bucket/" + std::string(1013, 'k');  // 1025 characters
  EXPECT_EQ(single_message(with_channel_source(source)),
            aws_item("s3://bucket/" + std::string(1013, 'k'), path, max_length(1024)));
}

TEST(JobSpecConstraintsTest, FileUrisMustHoldAnAbsolutePath) {
  const std::string path = "inputDataConfig.1.member.dataSource.s3DataSource.s3Uri";
  const std::string phrase =
      "Member must be a file:// URI holding an absolute path without control characters "
      "(file:///path/to/data)";
  json source = seed_request()["InputDataConfig"][0]["DataSource"]["S3DataSource"];
  for (const std::string bad : {"file://data/train", "file://", "file:///data/\ttrain"}) {
    source["S3Uri"] = bad;
    EXPECT_EQ(single_message(with_channel_source(source)), aws_item(bad, path, phrase)) << bad;
  }
  // Where the caller does not allow local files, file:// is just not an S3 URI.
  source["S3Uri"] = "file:///data/train";
  EXPECT_EQ(single_message(with_channel_source(source), ParseOptions{.allow_file_uris = false}),
            aws_item("file:///data/train", path, pattern(kS3Quoted)));
}

TEST(JobSpecConstraintsTest, AtMost16AttributeNames) {
  json source = seed_request()["InputDataConfig"][0]["DataSource"]["S3DataSource"];
  source["AttributeNames"] = json::array();
  for (int i = 0; i < 17; ++i) source["AttributeNames"].push_back(testing::numbered("a", i));
  const std::string message = single_message(with_channel_source(source));
  EXPECT_NE(
      message.find("s3DataSource.attributeNames' failed to satisfy constraint: " + max_length(16)),
      std::string::npos)
      << message;
}

TEST(JobSpecConstraintsTest, FileSystemIdPatternAndLength) {
  json request = seed_request();
  request["InputDataConfig"][0]["DataSource"] = {{"FileSystemDataSource",
                                                  {{"FileSystemId", "fs-123"},
                                                   {"FileSystemAccessMode", "rw"},
                                                   {"FileSystemType", "EFS"},
                                                   {"DirectoryPath", "/data"}}}};
  const std::string path = "inputDataConfig.1.member.dataSource.fileSystemDataSource.fileSystemId";
  EXPECT_EQ(messages(errors_of(request)),
            (std::vector<std::string>{aws_item("fs-123", path, min_length(11)),
                                      aws_item("fs-123", path, pattern("^(fs-[0-9a-f]{8,})$"))}));
}

TEST(JobSpecConstraintsTest, InstanceGroupNamesMustNameGroups) {
  json source = seed_request()["InputDataConfig"][0]["DataSource"]["S3DataSource"];
  source["InstanceGroupNames"] = {"gpu"};
  EXPECT_EQ(
      single_message(with_channel_source(source)),
      "Instance group 'gpu' named by the channel is not one of ResourceConfig.InstanceGroups");
}

// --- OutputDataConfig --------------------------------------------------------------------

TEST(JobSpecConstraintsTest, OutputDataConfigAndItsPathAreRequired) {
  json request = seed_request();
  request.erase("OutputDataConfig");
  EXPECT_EQ(single_message(request), null_item("outputDataConfig"));
  request["OutputDataConfig"] = json::object();
  EXPECT_EQ(single_message(request), null_item("outputDataConfig.s3OutputPath"));
}

TEST(JobSpecConstraintsTest, OutputCompressionAndKmsKey) {
  json request = seed_request();
  request["OutputDataConfig"]["CompressionType"] = "Gzip";  // the output enum is upper-case
  request["OutputDataConfig"]["KmsKeyId"] = "my key";
  EXPECT_EQ(messages(errors_of(request)),
            (std::vector<std::string>{
                aws_item("my key", "outputDataConfig.kmsKeyId", pattern("[a-zA-Z0-9:/_-]*")),
                aws_item("Gzip", "outputDataConfig.compressionType",
                         "Member must satisfy enum value set: [GZIP, NONE]")}));
}

// --- ResourceConfig ----------------------------------------------------------------------

TEST(JobSpecConstraintsTest, InstanceTypeIsTheTrainingEnumPlusLocalTypes) {
  json request = seed_request();
  request["ResourceConfig"]["InstanceType"] = "ml.p2.mega";
  const std::string message = single_message(request);
  const std::string head = aws_item("ml.p2.mega", "resourceConfig.instanceType",
                                    "Member must satisfy enum value set: [ml.m4.xlarge, ");
  EXPECT_EQ(message.rfind(head, 0), 0u) << message;
  EXPECT_NE(message.find(", ml.p5.48xlarge, "), std::string::npos);
  EXPECT_EQ(message.substr(message.size() - 19), ", local, local_gpu]");
  // 147 values: 145 from the model, then the two local types.
  EXPECT_EQ(std::count(message.begin(), message.end(), ','), 146);
}

TEST(JobSpecConstraintsTest, InstanceCountAtLeastOne) {
  json request = seed_request();
  request["ResourceConfig"]["InstanceCount"] = 0;
  EXPECT_EQ(single_message(request), aws_item("0", "resourceConfig.instanceCount", min_value(1)));
  request["ResourceConfig"].erase("InstanceCount");
  EXPECT_EQ(single_message(request), null_item("resourceConfig.instanceCount"));
}

TEST(JobSpecConstraintsTest, VolumeSizeAtLeastOneAndRequiredForCloudTypes) {
  json request = seed_request();
  request["ResourceConfig"]["VolumeSizeInGB"] = 0;
  EXPECT_EQ(single_message(request), aws_item("0", "resourceConfig.volumeSizeInGB", min_value(1)));
  request["ResourceConfig"].erase("VolumeSizeInGB");
  EXPECT_EQ(single_message(request), null_item("resourceConfig.volumeSizeInGB"));
}

TEST(JobSpecConstraintsTest, KeepAlivePeriodFrom0To21600) {
  json request = seed_request();
  request["ResourceConfig"]["KeepAlivePeriodInSeconds"] = 21601;
  EXPECT_EQ(single_message(request),
            aws_item("21601", "resourceConfig.keepAlivePeriodInSeconds", max_value(21600)));
  request["ResourceConfig"]["KeepAlivePeriodInSeconds"] = -1;
  EXPECT_EQ(single_message(request),
            aws_item("-1", "resourceConfig.keepAlivePeriodInSeconds", min_value(0)));
}

TEST(JobSpecConstraintsTest, InstanceGroupsAtMostFiveAndNotWithInstanceType) {
  json request = seed_request();
  json groups = json::array();
  for (int i = 0; i < 6; ++i) {
    groups.push_back({{"InstanceType", "ml.g5.xlarge"},
                      {"InstanceCount", 1},
                      {"InstanceGroupName", testing::numbered("g", i)}});
  }
  request["ResourceConfig"]["InstanceGroups"] = groups;
  const ValidationErrors errors = errors_of(request);
  ASSERT_EQ(errors.size(), 2u) << errors.message();
  EXPECT_EQ(errors.violations()[0].path, "resourceConfig.instanceGroups");
  EXPECT_NE(errors.violations()[0].message.find(max_length(5)), std::string::npos);
  EXPECT_EQ(errors.violations()[1].message,
            "ResourceConfig must give either InstanceGroups or InstanceType and InstanceCount, "
            "not both");
}

TEST(JobSpecConstraintsTest, InstanceGroupNamesAreUnique) {
  json request = seed_request();
  request["ResourceConfig"] = {
      {"VolumeSizeInGB", 30},
      {"InstanceGroups",
       {{{"InstanceType", "ml.g5.xlarge"}, {"InstanceCount", 1}, {"InstanceGroupName", "a"}},
        {{"InstanceType", "ml.c5.xlarge"}, {"InstanceCount", 1}, {"InstanceGroupName", "a"}}}}};
  EXPECT_EQ(single_message(request),
            "Instance group names must be unique: 'a' is given more than once");
}

// --- VpcConfig ---------------------------------------------------------------------------

TEST(JobSpecConstraintsTest, VpcConfigListsAndIds) {
  json request = seed_request();
  request["VpcConfig"] = {{"SecurityGroupIds", json::array()}, {"Subnets", {"subnet_1"}}};
  EXPECT_EQ(messages(errors_of(request)),
            (std::vector<std::string>{
                aws_item("[]", "vpcConfig.securityGroupIds", min_length(1)),
                aws_item("subnet_1", "vpcConfig.subnets.1.member", pattern("[-0-9a-zA-Z]+"))}));
  request["VpcConfig"] = {{"SecurityGroupIds", {"sg-1", "sg-2", "sg-3", "sg-4", "sg-5", "sg-6"}}};
  EXPECT_EQ(messages(errors_of(request)),
            (std::vector<std::string>{aws_item("[sg-1, sg-2, sg-3, sg-4, sg-5, sg-6]",
                                               "vpcConfig.securityGroupIds", max_length(5)),
                                      null_item("vpcConfig.subnets")}));
}

// --- StoppingCondition -------------------------------------------------------------------

TEST(JobSpecConstraintsTest, MaxRuntimeFromOneSecondTo28Days) {
  json request = seed_request();
  request["StoppingCondition"]["MaxRuntimeInSeconds"] = 0;
  EXPECT_EQ(single_message(request),
            aws_item("0", "stoppingCondition.maxRuntimeInSeconds", min_value(1)));
  request["StoppingCondition"]["MaxRuntimeInSeconds"] = 2419201;
  EXPECT_EQ(single_message(request),
            aws_item("2419201", "stoppingCondition.maxRuntimeInSeconds", max_value(2419200)));
}

TEST(JobSpecConstraintsTest, MaxPendingTimeFromTwoHours) {
  json request = seed_request();
  request["StoppingCondition"]["MaxPendingTimeInSeconds"] = 7199;
  EXPECT_EQ(single_message(request),
            aws_item("7199", "stoppingCondition.maxPendingTimeInSeconds", min_value(7200)));
}

TEST(JobSpecConstraintsTest, SpotTrainingNeedsMaxWaitAtLeastMaxRuntime) {
  json request = seed_request();
  request["EnableManagedSpotTraining"] = true;
  EXPECT_EQ(single_message(request),
            "StoppingCondition.MaxWaitTimeInSeconds is required when EnableManagedSpotTraining is "
            "true");
  request["StoppingCondition"]["MaxWaitTimeInSeconds"] = 3600;
  EXPECT_EQ(single_message(request),
            "MaxWaitTimeInSeconds (3600) must be greater than or equal to MaxRuntimeInSeconds "
            "(86400)");
  request["StoppingCondition"]["MaxWaitTimeInSeconds"] = 86400;
  EXPECT_TRUE(parse_create_training_job(request.dump()).ok());
}

// --- Tags, Environment, retries, experiments, checkpoints, rules -------------------------

TEST(JobSpecConstraintsTest, AtMost50Tags) {
  json request = seed_request();
  request["Tags"] = json::array();
  for (int i = 0; i < 51; ++i)
    request["Tags"].push_back({{"Key", testing::numbered("k", i)}, {"Value", ""}});
  const std::string message = single_message(request);
  EXPECT_NE(message.find("' at 'tags' failed to satisfy constraint: " + max_length(50)),
            std::string::npos)
      << message;
}

TEST(JobSpecConstraintsTest, TagKeyLengthAndUnicodePattern) {
  const std::string tag_pattern = pattern("^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$");
  json request = seed_request();
  request["Tags"] = {{{"Key", ""}, {"Value", "v"}}};
  EXPECT_EQ(single_message(request), aws_item("", "tags.1.member.key", min_length(1)));
  request["Tags"] = {{{"Key", "team#1"}, {"Value", "v"}}};
  EXPECT_EQ(single_message(request), aws_item("team#1", "tags.1.member.key", tag_pattern));
  request["Tags"] = {{{"Key", "rocket"}, {"Value", "go \xF0\x9F\x9A\x80"}}};  // U+1F680 is So
  EXPECT_EQ(single_message(request),
            aws_item("go \xF0\x9F\x9A\x80", "tags.1.member.value", tag_pattern));
  request["Tags"] = {
      {{"Key", "\xC3\xA9quipe \xD9\xA3"}, {"Value", "\xE3\x80\x80"}}};  // é, ٣, U+3000
  EXPECT_TRUE(parse_create_training_job(request.dump()).ok());
}

TEST(JobSpecConstraintsTest, EnvironmentSizeKeysAndValues) {
  json request = seed_request();
  json environment = json::object();
  for (int i = 0; i < 101; ++i) environment[testing::numbered("V", i)] = "1";
  request["Environment"] = environment;
  EXPECT_NE(single_message(request).find("' at 'environment' failed to satisfy constraint: " +
                                         max_length(100)),
            std::string::npos);
  request["Environment"] = {{"1BAD", "x"}};
  EXPECT_EQ(single_message(request),
            aws_item("{1BAD=x}", "environment",
                     "Map keys must satisfy constraint: [" + max_length(512) + ", " +
                         min_length(0) + ", " + pattern("[a-zA-Z_][a-zA-Z0-9_]*") + "]"));
  request["Environment"] = {{"GOOD", std::string(513, 'v')}};
  EXPECT_EQ(single_message(request),
            aws_item("{GOOD=" + std::string(513, 'v') + "}", "environment",
                     "Map value must satisfy constraint: [" + max_length(512) + ", " +
                         min_length(0) + ", " + pattern("[\\S\\s]*") + "]"));
}

TEST(JobSpecConstraintsTest, RetryAttemptsFrom1To30) {
  json request = seed_request();
  request["RetryStrategy"] = {{"MaximumRetryAttempts", 31}};
  EXPECT_EQ(single_message(request),
            aws_item("31", "retryStrategy.maximumRetryAttempts", max_value(30)));
  request["RetryStrategy"] = {{"MaximumRetryAttempts", 0}};
  EXPECT_EQ(single_message(request),
            aws_item("0", "retryStrategy.maximumRetryAttempts", min_value(1)));
  request["RetryStrategy"] = json::object();
  EXPECT_EQ(single_message(request), null_item("retryStrategy.maximumRetryAttempts"));
}

TEST(JobSpecConstraintsTest, ExperimentNamesFollowTheNamePattern) {
  json request = seed_request();
  request["ExperimentConfig"] = {{"ExperimentName", "my_experiment"}};
  EXPECT_EQ(single_message(request), aws_item("my_experiment", "experimentConfig.experimentName",
                                              pattern("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}")));
}

TEST(JobSpecConstraintsTest, CheckpointConfig) {
  json request = seed_request();
  request["CheckpointConfig"] = {{"LocalPath", std::string(4097, 'p')}};
  EXPECT_EQ(messages(errors_of(request)),
            (std::vector<std::string>{
                null_item("checkpointConfig.s3Uri"),
                aws_item(std::string(4097, 'p'), "checkpointConfig.localPath", max_length(4096))}));
}

TEST(JobSpecConstraintsTest, RuleInstanceTypeIsTheProcessingEnum) {
  json request = seed_request();
  request["DebugRuleConfigurations"] = {{{"RuleConfigurationName", "r"},
                                         {"RuleEvaluatorImage", "image"},
                                         {"InstanceType", "ml.p5.48xlarge"}}};
  const std::string message = single_message(request);
  EXPECT_EQ(
      message.rfind(aws_item("ml.p5.48xlarge", "debugRuleConfigurations.1.member.instanceType",
                             "Member must satisfy enum value set: [ml.t3.medium, "),
                    0),
      0u)
      << message;
}

TEST(JobSpecConstraintsTest, ClassicJobsNeedAlgorithmResourcesAndStoppingCondition) {
  json request = seed_request();
  request.erase("AlgorithmSpecification");
  request.erase("ResourceConfig");
  request.erase("StoppingCondition");
  EXPECT_EQ(
      messages(errors_of(request)),
      (std::vector<std::string>{null_item("algorithmSpecification"), null_item("resourceConfig"),
                                null_item("stoppingCondition")}));
}

}  // namespace
}  // namespace trainyard::jobs
