// The string shapes of CreateTrainingJobRequest with their length limits and patterns, as the
// botocore 1.43 model gives them, plus how AWS quotes each pattern in its messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "jobs/model_pattern.h"

namespace trainyard::jobs {

// One model string shape. Lengths count UTF-16 code units, as AWS's Java service does.
struct StringShape {
  std::string_view name;              // the model's shape name
  std::optional<int64_t> min_length;  // as the model states it (0 is stated for many)
  std::optional<int64_t> max_length;
  std::optional<ModelPattern> pattern;  // full match
  // The pattern as AWS's messages quote it. Servers quote their own (older) spelling, which
  // had ^...$ anchors on some shapes; where that spelling is known to differ from the
  // current pattern only by anchors, it is used, otherwise the current pattern.
  std::string quoted_pattern;
};

enum class StringShapeId {
  kTrainingJobName,
  kHyperParameterKey,
  kHyperParameterValue,
  kAlgorithmImage,
  kArnOrName,
  kMetricName,
  kMetricRegex,
  kTrainingContainerEntrypointString,
  kTrainingContainerArgument,
  kTrainingRepositoryCredentialsProviderArn,
  kRoleArn,
  kChannelName,
  kS3Uri,
  kAttributeName,
  kInstanceGroupName,
  kHubContentArn,
  kFileSystemId,
  kDirectoryPath,
  kHubDataSetArn,
  kContentType,
  kKmsKeyId,
  kTrainingPlanArn,
  kString256,
  kSecurityGroupId,
  kSubnetId,
  kTagKey,
  kTagValue,
  kConfigKey,
  kConfigValue,
  kCollectionName,
  kRuleConfigurationName,
  kExperimentEntityName,
  kTrainingEnvironmentKey,
  kTrainingEnvironmentValue,
  kServerlessJobBaseModelArn,
  kEvaluatorArn,
  kMlFlowResourceArn,
  kMlflowExperimentName,
  kMlflowRunName,
  kModelPackageGroupArn,
  kModelPackageArn,
  kCount,  // not a shape
};

// The shape `id`; built (and its pattern compiled) once, thread-safe.
const StringShape& string_shape(StringShapeId id);

}  // namespace trainyard::jobs
