#include "jobs/service/describe.h"

#include "jobs/job_spec_parse.h"

namespace trainyard::jobs {
namespace {

// The request members DescribeTrainingJob echoes (everything but Tags, which ListTags
// serves, and the name, which comes first).
void echo_request(const JobRecord& record, nlohmann::ordered_json& response) {
  nlohmann::json request = to_json(record.spec);
  for (const char* member : {"HyperParameters",
                             "AlgorithmSpecification",
                             "RoleArn",
                             "InputDataConfig",
                             "OutputDataConfig",
                             "ResourceConfig",
                             "VpcConfig",
                             "StoppingCondition",
                             "EnableNetworkIsolation",
                             "EnableInterContainerTrafficEncryption",
                             "EnableManagedSpotTraining",
                             "CheckpointConfig",
                             "DebugHookConfig",
                             "ExperimentConfig",
                             "DebugRuleConfigurations",
                             "TensorBoardOutputConfig",
                             "ProfilerConfig",
                             "ProfilerRuleConfigurations",
                             "Environment",
                             "RetryStrategy",
                             "RemoteDebugConfig",
                             "InfraCheckConfig",
                             "ServerlessJobConfig",
                             "MlflowConfig",
                             "ModelPackageConfig"}) {
    if (request.contains(member)) response[member] = request[member];
  }
}

nlohmann::ordered_json transitions_json(const JobRecord& record) {
  nlohmann::ordered_json transitions = nlohmann::ordered_json::array();
  for (const StatusTransition& transition : record.transitions) {
    nlohmann::ordered_json entry;
    entry["Status"] = std::string(to_string(transition.status));
    entry["StartTime"] = transition.start_time;
    if (transition.end_time) entry["EndTime"] = *transition.end_time;
    entry["StatusMessage"] = transition.status_message;
    transitions.push_back(entry);
  }
  return transitions;
}

}  // namespace

nlohmann::ordered_json describe_training_job(const JobRecord& record) {
  nlohmann::ordered_json response;
  response["TrainingJobName"] = record.name;
  response["TrainingJobArn"] = record.arn;
  // ModelArtifacts is required in the response shape; it names where the model will be.
  response["ModelArtifacts"] = {{"S3ModelArtifacts", record.model_artifacts.value_or("")}};
  response["TrainingJobStatus"] = std::string(to_string(record.status));
  response["SecondaryStatus"] = std::string(to_string(record.secondary_status));
  if (record.failure_reason) response["FailureReason"] = *record.failure_reason;
  echo_request(record, response);
  response["CreationTime"] = record.creation_time;
  if (record.training_start_time) response["TrainingStartTime"] = *record.training_start_time;
  if (record.training_end_time) response["TrainingEndTime"] = *record.training_end_time;
  response["LastModifiedTime"] = record.last_modified_time;
  response["SecondaryStatusTransitions"] = transitions_json(record);
  if (!record.final_metrics.empty()) {
    nlohmann::ordered_json metrics = nlohmann::ordered_json::array();
    for (const FinalMetric& metric : record.final_metrics) {
      metrics.push_back(
          {{"MetricName", metric.name}, {"Value", metric.value}, {"Timestamp", metric.timestamp}});
    }
    response["FinalMetricDataList"] = metrics;
  }
  if (record.training_time_in_seconds) {
    response["TrainingTimeInSeconds"] = *record.training_time_in_seconds;
  }
  if (record.billable_time_in_seconds) {
    response["BillableTimeInSeconds"] = *record.billable_time_in_seconds;
  }
  return response;
}

nlohmann::ordered_json training_job_summary(const JobRecord& record) {
  nlohmann::ordered_json summary;
  summary["TrainingJobName"] = record.name;
  summary["TrainingJobArn"] = record.arn;
  summary["CreationTime"] = record.creation_time;
  if (is_terminal(record.status) && record.training_end_time) {
    summary["TrainingEndTime"] = *record.training_end_time;
  }
  summary["LastModifiedTime"] = record.last_modified_time;
  summary["TrainingJobStatus"] = std::string(to_string(record.status));
  summary["SecondaryStatus"] = std::string(to_string(record.secondary_status));
  return summary;
}

}  // namespace trainyard::jobs
