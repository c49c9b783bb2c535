// The SageMaker training-job operations over JobService, in the AWS JSON 1.1 protocol's terms:
// an operation name and a JSON body in, an HTTP status, a JSON body and an error type out
// (sagemaker-contract.md sections 1.3, 1.4 and 2): Create, Describe, List, Stop and Delete
// training jobs, and AddTags, ListTags and DeleteTags on their ARNs. Transport and authentication
// live in api_server; this class never sees a socket, so every answer is testable directly.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "jobs/service/job_service.h"
#include "server/api_response.h"
#include "server/sagemaker_requests.h"

namespace trainyard::server {

class SageMakerApi {
 public:
  // `start_job` runs a created job (a detached supervisor in the server); jobs created here
  // are stored first, so a crash between the two leaves a job that reconcile() starts.
  SageMakerApi(jobs::JobService& service, std::function<void(const std::string&)> start_job);

  // Runs `operation` ("CreateTrainingJob", the part after "SageMaker.") on `body`. Never
  // throws for anything a client sent; a bug surfaces as a 500 InternalFailure.
  ApiResponse call(std::string_view operation, std::string_view body);

 private:
  ApiResponse create_training_job(std::string_view body);
  ApiResponse describe_training_job(const std::string& name);
  ApiResponse list_training_jobs(const jobs::ListQuery& query);
  ApiResponse stop_training_job(const std::string& name);
  ApiResponse delete_training_job(const std::string& name);
  ApiResponse add_tags(const AddTagsRequest& request);
  ApiResponse list_tags(const std::string& resource_arn);
  ApiResponse delete_tags(const DeleteTagsRequest& request);
  // The job a ResourceArn names; throws a RequestError (ValidationException) when it names
  // none here.
  std::string job_of_arn(const std::string& arn) const;

  jobs::JobService& service_;
  std::function<void(const std::string&)> start_job_;
};

}  // namespace trainyard::server
