#include "jobs/model_shapes.h"

#include <vector>

#include "core/error.h"

namespace trainyard::jobs {
namespace {

struct Row {
  StringShapeId id;
  std::string_view name;
  std::optional<int64_t> min_length;
  std::optional<int64_t> max_length;
  std::string_view pattern;         // empty: the shape has none
  std::string_view quoted_pattern;  // empty: quote `pattern` as is
};

// From botocore 1.43.11's service-2.json (the shapes CreateTrainingJobRequest reaches). The
// quoted spellings are those of the 1.34 model, whose patterns still carried anchors.
constexpr std::string_view kJobNamePattern = "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}";
constexpr std::string_view kHubContentPrefix =
    "(arn:[a-z0-9-\\.]{1,63}:sagemaker:\\w+(?:-\\w+)+:(\\d{12}|aws):hub-content\\/)"
    "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}";
constexpr std::string_view kTagPattern = "([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)";

std::vector<StringShape> build_table() {
  using Id = StringShapeId;
  static const std::string hub_data_set_arn =
      std::string(kHubContentPrefix) +
      "\\/DataSet\\/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}(\\/\\d{1,4}.\\d{1,4}.\\d{1,4})?";
  static const std::string base_model_arn =
      std::string(kHubContentPrefix) +
      "\\/Model\\/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}(\\/\\d{1,4}.\\d{1,4}.\\d{1,4})?";
  const Row rows[] = {
      {Id::kTrainingJobName, "TrainingJobName", 1, 63, kJobNamePattern,
       "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"},
      {Id::kHyperParameterKey, "HyperParameterKey", 0, 256, ".*", ""},
      {Id::kHyperParameterValue, "HyperParameterValue", 0, 2500, ".*", ""},
      {Id::kAlgorithmImage, "AlgorithmImage", 0, 255, ".*", ""},
      {Id::kArnOrName, "ArnOrName", 1, 170,
       "(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z\\-]*\\/)?"
       "([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)",
       "(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z\\-]*\\/)?"
       "([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)$"},
      {Id::kMetricName, "MetricName", 1, 255, ".+", ""},
      {Id::kMetricRegex, "MetricRegex", 1, 500, ".+", ""},
      {Id::kTrainingContainerEntrypointString, "TrainingContainerEntrypointString", 0, 256, ".*",
       ""},
      {Id::kTrainingContainerArgument, "TrainingContainerArgument", 0, 256, ".*", ""},
      {Id::kTrainingRepositoryCredentialsProviderArn, "TrainingRepositoryCredentialsProviderArn", 1,
       2048, "arn:[\\p{Alnum}\\-]+:lambda:[\\p{Alnum}\\-]+:[0-9]{12}:function:.*", ""},
      {Id::kRoleArn, "RoleArn", 20, 2048,
       "arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
       "^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$"},
      {Id::kChannelName, "ChannelName", 1, 64, "[A-Za-z0-9\\.\\-_]+", ""},
      {Id::kS3Uri, "S3Uri", 0, 1024, "(https|s3)://([^/]+)/?(.*)", "^(https|s3)://([^/]+)/?(.*)$"},
      {Id::kAttributeName, "AttributeName", 1, 256, ".+", ""},
      {Id::kInstanceGroupName, "InstanceGroupName", 1, 64, ".+", ""},
      {Id::kHubContentArn, "HubContentArn", 0, 255, ".*", ""},
      {Id::kFileSystemId, "FileSystemId", 11, 21, "(fs-[0-9a-f]{8,})", "^(fs-[0-9a-f]{8,})$"},
      {Id::kDirectoryPath, "DirectoryPath", 0, 4096, ".*", ""},
      {Id::kHubDataSetArn, "HubDataSetArn", 0, 2048, hub_data_set_arn, ""},
      {Id::kContentType, "ContentType", 0, 256, ".*", ""},
      {Id::kKmsKeyId, "KmsKeyId", 0, 2048, "[a-zA-Z0-9:/_-]*", ""},
      {Id::kTrainingPlanArn, "TrainingPlanArn", 50, 2048,
       "arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:training-plan/.*", ""},
      {Id::kString256, "String256", 0, 256, "", ""},
      {Id::kSecurityGroupId, "SecurityGroupId", 0, 32, "[-0-9a-zA-Z]+", ""},
      {Id::kSubnetId, "SubnetId", 0, 32, "[-0-9a-zA-Z]+", ""},
      {Id::kTagKey, "TagKey", 1, 128, kTagPattern, "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$"},
      {Id::kTagValue, "TagValue", 0, 256, kTagPattern, "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$"},
      {Id::kConfigKey, "ConfigKey", 1, 256, ".*", ""},
      {Id::kConfigValue, "ConfigValue", 0, 256, ".*", ""},
      {Id::kCollectionName, "CollectionName", 1, 256, ".*", ""},
      {Id::kRuleConfigurationName, "RuleConfigurationName", 1, 256, ".*", ""},
      {Id::kExperimentEntityName, "ExperimentEntityName", 1, 120,
       "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}", "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}"},
      {Id::kTrainingEnvironmentKey, "TrainingEnvironmentKey", 0, 512, "[a-zA-Z_][a-zA-Z0-9_]*", ""},
      {Id::kTrainingEnvironmentValue, "TrainingEnvironmentValue", 0, 512, "[\\S\\s]*", ""},
      {Id::kServerlessJobBaseModelArn, "ServerlessJobBaseModelArn", 1, 2048, base_model_arn, ""},
      {Id::kEvaluatorArn, "EvaluatorArn", std::nullopt, std::nullopt, ".*", ""},
      {Id::kMlFlowResourceArn, "MlFlowResourceArn", 0, 2048,
       "arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:mlflow-[a-zA-Z-]*/.*", ""},
      {Id::kMlflowExperimentName, "MlflowExperimentName", 1, 256, ".*", ""},
      {Id::kMlflowRunName, "MlflowRunName", 1, 256, ".*", ""},
      {Id::kModelPackageGroupArn, "ModelPackageGroupArn", 1, 2048,
       "arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]{9,16}:[0-9]{12}:model-package-group/[\\S]{1,2048}",
       ""},
      {Id::kModelPackageArn, "ModelPackageArn", 1, 2048,
       "arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]{9,16}:[0-9]{12}:model-package/[\\S]{1,2048}", ""},
  };
  std::vector<StringShape> table(static_cast<size_t>(StringShapeId::kCount));
  std::vector<bool> seen(table.size(), false);
  for (const Row& row : rows) {
    const auto index = static_cast<size_t>(row.id);
    TY_CHECK(!seen[index], "string shape listed twice: " + std::string(row.name));
    seen[index] = true;
    StringShape& shape = table[index];
    shape.name = row.name;
    shape.min_length = row.min_length;
    shape.max_length = row.max_length;
    if (!row.pattern.empty()) {
      shape.pattern.emplace(row.pattern);
      shape.quoted_pattern = row.quoted_pattern.empty() ? row.pattern : row.quoted_pattern;
    }
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    TY_CHECK(seen[i], "string shape missing from the table: id " + std::to_string(i));
  }
  return table;
}

}  // namespace

const StringShape& string_shape(StringShapeId id) {
  static const std::vector<StringShape> table = build_table();
  return table.at(static_cast<size_t>(id));
}

}  // namespace trainyard::jobs
