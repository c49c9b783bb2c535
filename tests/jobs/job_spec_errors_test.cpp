// How problems are reported: all at once and counted, in a stable order; JSON type errors,
// unknown and duplicate members, malformed JSON with its position.
#include <gtest/gtest.h>

#include "job_spec_test_util.h"

namespace trainyard::jobs {
namespace {

using nlohmann::json;
using testing::aws_item;
using testing::errors_of;
using testing::messages;
using testing::seed_request;
using testing::single_message;

TEST(JobSpecErrorsTest, SeveralViolationsAreReportedTogetherInModelOrder) {
  json request = seed_request();
  request["Zeta"] = 1;  // unknown members come last, after the known ones
  request["StoppingCondition"]["MaxRuntimeInSeconds"] = 0;
  request["ResourceConfig"]["InstanceCount"] = 0;
  request["InputDataConfig"][0]["ChannelName"] = "";
  request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = "ftp://host/data";
  request["TrainingJobName"] = "bad_name";
  request["Alpha"] = 2;

  const std::vector<std::string> expected = {
      aws_item("bad_name", "trainingJobName",
               "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"),
      aws_item("", "inputDataConfig.1.member.channelName",
               "Member must have length greater than or equal to 1"),
      aws_item("", "inputDataConfig.1.member.channelName",
               "Member must satisfy regular expression pattern: [A-Za-z0-9\\.\\-_]+"),
      aws_item("ftp://host/data", "inputDataConfig.1.member.dataSource.s3DataSource.s3Uri",
               "Member must satisfy regular expression pattern: ^(https|s3)://([^/]+)/?(.*)$"),
      aws_item("0", "resourceConfig.instanceCount",
               "Member must have value greater than or equal to 1"),
      aws_item("0", "stoppingCondition.maxRuntimeInSeconds",
               "Member must have value greater than or equal to 1"),
  };
  const ValidationErrors errors = errors_of(request);
  ASSERT_EQ(errors.size(), expected.size() + 2) << errors.message();
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(errors.violations()[i].message, expected[i]);
  EXPECT_EQ(errors.violations()[6].path, "alpha");
  EXPECT_EQ(errors.violations()[7].path, "zeta");

  std::string joined = "8 validation errors detected: ";
  for (size_t i = 0; i < errors.size(); ++i) {
    joined += (i == 0 ? "" : "; ") + errors.violations()[i].message;
  }
  EXPECT_EQ(errors.message(), joined);
  // The same document always reports the same list.
  EXPECT_EQ(messages(errors_of(request)), messages(errors));
}

TEST(JobSpecErrorsTest, OneViolationIsSingular) {
  json request = seed_request();
  request["ResourceConfig"]["VolumeSizeInGB"] = 0;
  EXPECT_EQ(errors_of(request).message(),
            "1 validation error detected: Value '0' at 'resourceConfig.volumeSizeInGB' failed to "
            "satisfy constraint: Member must have value greater than or equal to 1");
}

TEST(JobSpecErrorsTest, WrongJsonTypesNameTheMemberAndTheExpectedType) {
  json request = seed_request();
  request["TrainingJobName"] = 42;
  request["HyperParameters"] = {{"epochs", 10}};
  request["ResourceConfig"]["InstanceCount"] = "1";
  request["ResourceConfig"]["VolumeSizeInGB"] = 1.5;
  request["StoppingCondition"] = json::array();
  request["EnableNetworkIsolation"] = "true";
  const std::string suffix = "' failed to satisfy constraint: Member must be ";
  EXPECT_EQ(messages(errors_of(request)),
            (std::vector<std::string>{
                "Value '42' at 'trainingJobName" + suffix + "a string, not an integer",
                "Value '10' at 'hyperParameters.epochs" + suffix + "a string, not an integer",
                "Value '1' at 'resourceConfig.instanceCount" + suffix + "an integer, not a string",
                "Value '1.5' at 'resourceConfig.volumeSizeInGB" + suffix +
                    "an integer, not a floating-point number",
                "Value '[]' at 'stoppingCondition" + suffix + "an object, not an array",
                "Value 'true' at 'enableNetworkIsolation" + suffix + "a boolean, not a string"}));
  const ValidationErrors errors = errors_of(request);
  for (const Violation& v : errors.violations()) {
    EXPECT_EQ(v.kind, Violation::Kind::kType) << v.message;
  }
}

TEST(JobSpecErrorsTest, IntegersOutsideThe32BitRangeAreTypeErrors) {
  json request = seed_request();
  request["StoppingCondition"]["MaxRuntimeInSeconds"] = 3000000000LL;
  EXPECT_EQ(single_message(request),
            "Value '3000000000' at 'stoppingCondition.maxRuntimeInSeconds' failed to satisfy "
            "constraint: Member must be an integer from -2147483648 to 2147483647");
  request = seed_request();
  request["InputDataConfig"][0]["ShuffleConfig"] = {{"Seed", 18446744073709551615ULL}};
  EXPECT_EQ(errors_of(request).violations().at(0).path,
            "inputDataConfig.1.member.shuffleConfig.seed");
}

TEST(JobSpecErrorsTest, ListElementsOfTheWrongType) {
  json request = seed_request();
  request["InputDataConfig"].push_back("training");
  request["InputDataConfig"].push_back(nullptr);
  EXPECT_EQ(messages(errors_of(request)),
            (std::vector<std::string>{
                "Value 'training' at 'inputDataConfig.2.member' failed to satisfy constraint: "
                "Member must be an object, not a string",
                "Value null at 'inputDataConfig.3.member' failed to satisfy constraint: Member "
                "must not be null"}));
}

TEST(JobSpecErrorsTest, UnknownMembersNameTheirPathAndSuggestASpelling) {
  json request = seed_request();
  request["ResourceConfig"]["InstanceTyp"] = "ml.p2.xlarge";
  request["ResourceConfig"].erase("InstanceType");
  const ValidationErrors errors = errors_of(request);
  ASSERT_EQ(errors.size(), 2u) << errors.message();
  EXPECT_EQ(errors.violations()[0].message,
            "Value null at 'resourceConfig.instanceType' failed to satisfy constraint: Member must "
            "not be null");
  EXPECT_EQ(errors.violations()[1].kind, Violation::Kind::kUnknownMember);
  EXPECT_EQ(errors.violations()[1].path, "resourceConfig.instanceTyp");
  EXPECT_EQ(errors.violations()[1].message,
            "Unknown member 'InstanceTyp' in 'resourceConfig': ResourceConfig has no such member "
            "(did you mean 'InstanceType'?)");
}

TEST(JobSpecErrorsTest, UnknownMembersFarFromAnyNameListTheMembers) {
  json request = seed_request();
  request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["Bucket"] = "b";
  const ValidationErrors errors = errors_of(request);
  ASSERT_EQ(errors.size(), 1u) << errors.message();
  EXPECT_EQ(errors.violations()[0].path, "inputDataConfig.1.member.dataSource.s3DataSource.bucket");
  EXPECT_EQ(errors.violations()[0].message,
            "Unknown member 'Bucket' in 'inputDataConfig.1.member.dataSource.s3DataSource': "
            "S3DataSource has no such member; its members are S3DataType, S3Uri, "
            "S3DataDistributionType, AttributeNames, InstanceGroupNames, ModelAccessConfig, "
            "HubAccessConfig");
}

TEST(JobSpecErrorsTest, UnknownTopLevelMember) {
  json request = seed_request();
  request["TrainingJobNmae"] = "x";
  EXPECT_EQ(single_message(request),
            "Unknown member 'TrainingJobNmae' in the request: CreateTrainingJobRequest has no such "
            "member (did you mean 'TrainingJobName'?)");
}

TEST(JobSpecErrorsTest, MemberListsFollowTheModelOrder) {
  json request = seed_request();
  request["Zzz"] = 1;
  const std::string message = single_message(request);
  EXPECT_NE(message.find("; its members are TrainingJobName, HyperParameters, "
                         "AlgorithmSpecification, RoleArn, "),
            std::string::npos)
      << message;
  EXPECT_NE(message.find(", MlflowConfig, ModelPackageConfig"), std::string::npos) << message;
}

TEST(JobSpecErrorsTest, DuplicateMembersAreReportedWhereTheyOccur) {
  const std::string text = testing::testdata_text("seed_job.json");
  // Give the channel's name twice and the job's name twice.
  std::string doubled = text;
  doubled.replace(doubled.find("\"ChannelName\": \"training\""), 0, "\"ChannelName\": \"other\", ");
  doubled.replace(doubled.find("\"TrainingJobName\""), 0, "\"TrainingJobName\": \"first\",\n  ");
  const ValidationErrors errors = errors_of(doubled);
  ASSERT_EQ(errors.size(), 2u) << errors.message();
  EXPECT_EQ(errors.violations()[0].kind, Violation::Kind::kDuplicateMember);
  EXPECT_EQ(errors.violations()[0].message,
            "Duplicate member 'TrainingJobName' in the request: a JSON object may give each member "
            "only once");
  EXPECT_EQ(errors.violations()[1].path, "inputDataConfig.1.member.channelName");
  EXPECT_EQ(errors.violations()[1].message,
            "Duplicate member 'ChannelName' in 'inputDataConfig.1.member': a JSON object may give "
            "each member only once");
}

TEST(JobSpecErrorsTest, MalformedJsonGivesLineAndColumn) {
  const std::string text = "{\"TrainingJobName\": \"x\",\n  \"RoleArn\": }\n";
  const ValidationErrors errors = errors_of(text);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors.is_malformed_json());
  const std::string message = errors.message();
  EXPECT_EQ(message.rfind("Malformed JSON at line 2, column 14: ", 0), 0u) << message;
}

TEST(JobSpecErrorsTest, MalformedJsonColumnsCountCharactersNotBytes) {
  // "é" is two bytes but one character: the stray x is the eleventh character of line 1.
  const std::string text = "{\"k\": \"\xC3\xA9\" x}";
  const std::string message = errors_of(text).message();
  EXPECT_EQ(message.rfind("Malformed JSON at line 1, column 11: ", 0), 0u) << message;
}

TEST(JobSpecErrorsTest, OtherUnreadableInputs) {
  for (const std::string& text :
       {std::string(), std::string("{"), std::string("{\"a\": 1} trailing"),
        std::string("{\"a\": \"\xFF\"}"), std::string("nul")}) {
    const ValidationErrors errors = errors_of(text);
    ASSERT_EQ(errors.size(), 1u) << text;
    EXPECT_TRUE(errors.is_malformed_json()) << text;
    EXPECT_EQ(errors.message().rfind("Malformed JSON at line 1, column ", 0), 0u)
        << errors.message();
  }
}

TEST(JobSpecErrorsTest, SyntaxErrorsQuoteInputBytesSafely) {
  // nlohmann quotes the bytes it last read; a stray invalid byte must not reach the message
  // raw, or the error response itself would not be valid UTF-8.
  const std::string message = errors_of(std::string("{\"a\": \"\xFF\"}")).message();
  EXPECT_NE(message.find("\\xFF"), std::string::npos) << message;
  for (char c : message) {
    EXPECT_TRUE(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F)
        << message;
  }
}

TEST(JobSpecErrorsTest, RequestMustBeAnObject) {
  const ValidationErrors errors = errors_of(std::string("[1, 2]"));
  EXPECT_EQ(errors.message(),
            "1 validation error detected: The request must be a JSON object, not an array");
}

TEST(JobSpecErrorsTest, DeepNestingIsRefused) {
  const std::string text =
      "{\"Deep\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  const ValidationErrors errors = errors_of(text);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.message(), "Malformed request: JSON nested deeper than 64 levels");
}

TEST(JobSpecErrorsTest, AlreadyParsedRequestsAreValidatedToo) {
  json request = seed_request();
  request["TrainingJobName"] = "bad_name";
  ParseResult result = validate_create_training_job(request);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.errors().has_path("trainingJobName"));
  EXPECT_TRUE(validate_create_training_job(seed_request()).ok());
}

}  // namespace
}  // namespace trainyard::jobs
