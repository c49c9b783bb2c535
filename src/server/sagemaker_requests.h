// The request bodies of the SageMaker operations, parsed and validated without the job
// service: each function takes the raw JSON body and returns what the operation needs, or
// throws RequestError carrying the client error AWS answers (400, ValidationException or
// SerializationException, naming the member). SageMakerApi parses through exactly these, so
// fuzzing them (fuzz/fuzz_sagemaker_api.cpp) covers what a client's bytes can reach.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/job_spec.h"
#include "jobs/store/list_query.h"
#include "server/api_response.h"

namespace trainyard::server {

// A request a client got wrong; response() is the 400 to send back.
class RequestError : public std::runtime_error {
 public:
  explicit RequestError(ApiResponse response);
  const ApiResponse& response() const { return response_; }

 private:
  ApiResponse response_;
};

// CreateTrainingJob: the job to submit (unknown members dropped, RoleArn required).
jobs::TrainingJobSpec parse_create_training_job_request(std::string_view body);

// DescribeTrainingJob, StopTrainingJob and DeleteTrainingJob: the TrainingJobName.
std::string parse_training_job_name_request(std::string_view body);

// ListTrainingJobs: every filter, the sort, MaxResults (1..100) and NextToken.
jobs::ListQuery parse_list_training_jobs_request(std::string_view body);

struct AddTagsRequest {
  std::string resource_arn;
  std::vector<jobs::Tag> tags;
};
AddTagsRequest parse_add_tags_request(std::string_view body);

// ListTags: the ResourceArn (MaxResults, when given, is validated; one page holds all tags).
std::string parse_list_tags_request(std::string_view body);

struct DeleteTagsRequest {
  std::string resource_arn;
  std::vector<std::string> tag_keys;
};
DeleteTagsRequest parse_delete_tags_request(std::string_view body);

}  // namespace trainyard::server
