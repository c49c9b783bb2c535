#include "server/sagemaker_api.h"

#include <filesystem>

#include "jobs/service/describe.h"
#include "jobs/store/store_errors.h"
#include "server/sagemaker_requests.h"

namespace trainyard::server {
namespace {

nlohmann::ordered_json tags_json(const std::vector<jobs::Tag>& tags) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const jobs::Tag& tag : tags) list.push_back({{"Key", tag.key}, {"Value", tag.value}});
  return list;
}

}  // namespace

SageMakerApi::SageMakerApi(jobs::JobService& service,
                           std::function<void(const std::string&)> start_job)
    : service_(service), start_job_(std::move(start_job)) {}

ApiResponse SageMakerApi::call(std::string_view operation, std::string_view body) {
  try {
    if (operation == "CreateTrainingJob") return create_training_job(body);
    if (operation == "DescribeTrainingJob") {
      return describe_training_job(parse_training_job_name_request(body));
    }
    if (operation == "ListTrainingJobs") {
      return list_training_jobs(parse_list_training_jobs_request(body));
    }
    if (operation == "StopTrainingJob") {
      return stop_training_job(parse_training_job_name_request(body));
    }
    if (operation == "DeleteTrainingJob") {
      return delete_training_job(parse_training_job_name_request(body));
    }
    if (operation == "AddTags") return add_tags(parse_add_tags_request(body));
    if (operation == "ListTags") return list_tags(parse_list_tags_request(body));
    if (operation == "DeleteTags") return delete_tags(parse_delete_tags_request(body));
    return ApiResponse::error("UnknownOperationException",
                              "trainyard does not serve the operation '" + std::string(operation) +
                                  "'; it serves CreateTrainingJob, DescribeTrainingJob, "
                                  "ListTrainingJobs, StopTrainingJob, DeleteTrainingJob, AddTags, "
                                  "ListTags and DeleteTags");
  } catch (const RequestError& error) {
    return error.response();
  } catch (const std::exception& error) {
    // Not the client's doing: 500, which SDKs retry.
    return ApiResponse::error("InternalFailure", error.what(), 500);
  }
}

ApiResponse SageMakerApi::create_training_job(std::string_view body) {
  const jobs::TrainingJobSpec spec = parse_create_training_job_request(body);
  jobs::JobRecord record;
  try {
    record = service_.submit(spec);
  } catch (const jobs::ResourceInUse&) {
    std::optional<jobs::JobRecord> existing = service_.store().get(spec.training_job_name);
    return ApiResponse::error(
        "ResourceInUse",
        "Training job names must be unique within an AWS account and region, and a training "
        "job with this name already exists (" +
            (existing ? existing->arn : spec.training_job_name) + ")");
  } catch (const jobs::MemoryPreflightRefused& refused) {
    return ApiResponse::error("ValidationException", refused.what());
  } catch (const jobs::PlacementRefused& refused) {
    // What AWS answers for an instance type the account cannot get.
    return ApiResponse::error("ResourceLimitExceeded", refused.what());
  }
  start_job_(record.name);
  ApiResponse response;
  response.body = {{"TrainingJobArn", record.arn}};
  return response;
}

ApiResponse SageMakerApi::describe_training_job(const std::string& name) {
  std::optional<jobs::JobRecord> record = service_.store().get(name);
  // The real service's answer for an unknown job, which the SDK's waiter treats as final.
  if (!record) return ApiResponse::error("ValidationException", "Requested resource not found.");
  ApiResponse response;
  response.body = jobs::describe_training_job(*record);
  return response;
}

ApiResponse SageMakerApi::list_training_jobs(const jobs::ListQuery& query) {
  jobs::ListPage page;
  try {
    page = service_.store().list(query);
  } catch (const ValueError& error) {
    return ApiResponse::error("ValidationException", error.what());
  }
  nlohmann::ordered_json summaries = nlohmann::ordered_json::array();
  for (const jobs::JobSummary& summary : page.jobs) {
    if (std::optional<jobs::JobRecord> record = service_.store().get(summary.name)) {
      summaries.push_back(jobs::training_job_summary(*record));
    }
  }
  ApiResponse response;
  response.body = {{"TrainingJobSummaries", summaries}};
  if (page.next_token) response.body["NextToken"] = *page.next_token;
  return response;
}

ApiResponse SageMakerApi::stop_training_job(const std::string& name) {
  try {
    service_.stop(name);
  } catch (const jobs::ResourceNotFound&) {
    return ApiResponse::error("ResourceNotFound", "Training job " + name + " does not exist.");
  } catch (const jobs::InvalidJobState&) {
    std::optional<jobs::JobRecord> record = service_.store().get(name);
    return ApiResponse::error(
        "ValidationException",
        "The request was rejected because the training job is in status " +
            std::string(record ? jobs::to_string(record->status) : "unknown") + ".");
  }
  return ApiResponse{};
}

ApiResponse SageMakerApi::delete_training_job(const std::string& name) {
  try {
    service_.store().remove(name);
  } catch (const jobs::ResourceNotFound&) {
    return ApiResponse::error("ResourceNotFound", "Training job " + name + " does not exist.");
  } catch (const jobs::ResourceInUse&) {
    std::optional<jobs::JobRecord> record = service_.store().get(name);
    return ApiResponse::error(
        "ResourceInUse", "Training job " + name + " is " +
                             std::string(record ? jobs::to_string(record->status) : "running") +
                             "; only a job that has ended can be deleted.");
  }
  // The name is free again: its old files must not meet a new job of the same name.
  std::error_code ignored;
  std::filesystem::remove_all(service_.directory(name).root(), ignored);
  return ApiResponse{};
}

std::string SageMakerApi::job_of_arn(const std::string& arn) const {
  constexpr std::string_view kMarker = ":training-job/";
  size_t at = arn.rfind(kMarker);
  if (at != std::string::npos) {
    std::string name = arn.substr(at + kMarker.size());
    std::optional<jobs::JobRecord> record = service_.store().get(name);
    if (record && record->arn == arn) return record->name;
  }
  throw RequestError(ApiResponse::error(
      "ValidationException", "1 validation error detected: Resource does not exist: " + arn));
}

ApiResponse SageMakerApi::add_tags(const AddTagsRequest& request) {
  const std::string name = job_of_arn(request.resource_arn);
  const std::vector<jobs::Tag>& tags = request.tags;
  try {
    service_.store().add_tags(name, tags);
  } catch (const ValueError& error) {
    return ApiResponse::error("ValidationException", error.what());
  }
  ApiResponse response;
  response.body = {{"Tags", tags_json(tags)}};
  return response;
}

ApiResponse SageMakerApi::list_tags(const std::string& resource_arn) {
  const std::string name = job_of_arn(resource_arn);
  // A job carries at most 50 tags, so one page always holds them all.
  ApiResponse response;
  response.body = {{"Tags", tags_json(service_.store().list_tags(name))}};
  return response;
}

ApiResponse SageMakerApi::delete_tags(const DeleteTagsRequest& request) {
  const std::string name = job_of_arn(request.resource_arn);
  service_.store().delete_tags(name, request.tag_keys);
  return ApiResponse{};
}

}  // namespace trainyard::server
