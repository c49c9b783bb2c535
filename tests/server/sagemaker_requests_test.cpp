#include "server/sagemaker_requests.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace trainyard::server {
namespace {

// The answer a body gets, which must be a 400 client error.
template <typename Parse>
ApiResponse refusal(Parse&& parse) {
  try {
    parse();
  } catch (const RequestError& error) {
    return error.response();
  }
  ADD_FAILURE() << "the request was accepted";
  return {};
}

std::string message_of(const ApiResponse& response) {
  return response.body.value("message", "");
}

TEST(SageMakerRequestsTest, ListTrainingJobsReadsEveryFilter) {
  const jobs::ListQuery query = parse_list_training_jobs_request(
      R"({"StatusEquals":"Completed","NameContains":"seed-","CreationTimeAfter":1700000000,
          "CreationTimeBefore":1800000000.5,"LastModifiedTimeAfter":1,"LastModifiedTimeBefore":2,
          "SortBy":"Name","SortOrder":"Descending","MaxResults":100,"NextToken":"abc"})");
  EXPECT_EQ(query.status_equals, jobs::TrainingJobStatus::kCompleted);
  EXPECT_EQ(query.name_contains, "seed-");
  EXPECT_EQ(query.creation_time_after, 1700000000.0);
  EXPECT_EQ(query.creation_time_before, 1800000000.5);
  EXPECT_EQ(query.last_modified_time_after, 1.0);
  EXPECT_EQ(query.last_modified_time_before, 2.0);
  EXPECT_EQ(query.sort_by, jobs::ListSortBy::kName);
  EXPECT_EQ(query.sort_order, jobs::ListSortOrder::kDescending);
  EXPECT_EQ(query.max_results, 100);
  EXPECT_EQ(query.next_token, "abc");
}

TEST(SageMakerRequestsTest, AnEmptyBodyIsAnEmptyRequest) {
  const jobs::ListQuery query = parse_list_training_jobs_request("");
  EXPECT_EQ(query.max_results, jobs::kDefaultListMaxResults);
  EXPECT_FALSE(query.status_equals.has_value());
}

TEST(SageMakerRequestsTest, WrongTypesAndRangesAreValidationErrorsNamingTheMember) {
  const ApiResponse wrong_type =
      refusal([] { parse_list_training_jobs_request(R"({"MaxResults":"10"})"); });
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_EQ(wrong_type.error_type, "ValidationException");
  EXPECT_EQ(wrong_type.body["__type"], "ValidationException");
  EXPECT_NE(message_of(wrong_type).find("'maxResults'"), std::string::npos);

  const ApiResponse too_many =
      refusal([] { parse_list_training_jobs_request(R"({"MaxResults":101})"); });
  EXPECT_EQ(message_of(too_many),
            "1 validation error detected: Value '101' at 'maxResults' failed to satisfy "
            "constraint: Member must have value less than or equal to 100");

  const ApiResponse bad_name =
      refusal([] { parse_training_job_name_request(R"({"TrainingJobName":"-x"})"); });
  EXPECT_NE(message_of(bad_name).find("'trainingJobName'"), std::string::npos);
}

TEST(SageMakerRequestsTest, BodiesThatAreNotJsonObjectsAreRefused) {
  EXPECT_EQ(refusal([] { parse_training_job_name_request("{\"TrainingJobName\":"); }).status, 400);
  EXPECT_EQ(message_of(refusal([] { parse_list_tags_request("[1]"); })),
            "1 validation error detected: The request body must be a JSON object");
  // CreateTrainingJob reports malformed JSON as the SDKs expect it.
  EXPECT_EQ(refusal([] { parse_create_training_job_request("{\"TrainingJobName\":"); }).error_type,
            "SerializationException");
}

TEST(SageMakerRequestsTest, CreateTrainingJobParsesTheSeedRequest) {
  const char* source_dir = std::getenv("TRAINYARD_SOURCE_DIR");  // set by ctest
  ASSERT_NE(source_dir, nullptr);
  std::ifstream file(std::string(source_dir) + "/examples/boto3/create_training_job.json");
  ASSERT_TRUE(file) << "cannot read the seed request under " << source_dir;
  std::stringstream text;
  text << file.rdbuf();
  const jobs::TrainingJobSpec spec = parse_create_training_job_request(text.str());
  EXPECT_EQ(spec.training_job_name, "seed-gpu-training-job");
  // RoleArn is required over the API, as AWS requires it.
  nlohmann::json without_role = nlohmann::json::parse(text.str());
  without_role.erase("RoleArn");
  EXPECT_EQ(refusal([&] { parse_create_training_job_request(without_role.dump()); }).error_type,
            "ValidationException");
}

TEST(SageMakerRequestsTest, TagRequestsCarryTheArnAndTheirItems) {
  const AddTagsRequest add = parse_add_tags_request(
      R"({"ResourceArn":"arn:x","Tags":[{"Key":"team","Value":"vision"},{"Key":"k"}]})");
  EXPECT_EQ(add.resource_arn, "arn:x");
  ASSERT_EQ(add.tags.size(), 2u);
  EXPECT_EQ(add.tags[0].key, "team");
  EXPECT_EQ(add.tags[0].value, "vision");
  EXPECT_EQ(add.tags[1].value, "");

  const DeleteTagsRequest remove =
      parse_delete_tags_request(R"({"ResourceArn":"arn:x","TagKeys":["a","b"]})");
  EXPECT_EQ(remove.tag_keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_NE(message_of(refusal([] {
              parse_delete_tags_request(R"({"ResourceArn":"arn:x","TagKeys":[]})");
            })).find("'tagKeys'"),
            std::string::npos);
  EXPECT_NE(
      message_of(refusal([] { parse_add_tags_request(R"({"Tags":[]})"); })).find("'resourceArn'"),
      std::string::npos);
  EXPECT_EQ(parse_list_tags_request(R"({"ResourceArn":"arn:x","MaxResults":50})"), "arn:x");
  EXPECT_NE(message_of(refusal([] {
              parse_list_tags_request(R"({"ResourceArn":"arn:x","MaxResults":49})");
            })).find("'maxResults'"),
            std::string::npos);
}

}  // namespace
}  // namespace trainyard::server
