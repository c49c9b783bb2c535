#include "server/sagemaker_api.h"

#include <filesystem>
#include <regex>

#include "jobs/job_spec_parse.h"
#include "jobs/service/describe.h"
#include "jobs/store/store_errors.h"

namespace trainyard::server {
namespace {

using Json = nlohmann::json;

// A request member that breaks a constraint, worded as AWS words one violation.
class MemberError {
 public:
  MemberError(std::string text) : text_(std::move(text)) {}  // NOLINT: a message
  ApiResponse response() const {
    return ApiResponse::error("ValidationException", "1 validation error detected: " + text_);
  }

 private:
  std::string text_;
};

std::string lower_camel(std::string_view member) {
  std::string text(member);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

MemberError violation(std::string_view member, const Json& value, const std::string& phrase) {
  std::string shown = value.is_null()     ? "null"
                      : value.is_string() ? "'" + value.get<std::string>() + "'"
                                          : "'" + value.dump() + "'";
  return MemberError("Value " + shown + " at '" + lower_camel(member) +
                     "' failed to satisfy constraint: " + phrase);
}

MemberError wrong_type(std::string_view member, const Json& value, std::string_view wanted) {
  return MemberError("Value '" + value.dump() + "' at '" + lower_camel(member) +
                     "' failed to satisfy constraint: Member must be " + std::string(wanted));
}

// The request body as a JSON object; an empty body counts as {}.
Json parse_object(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return Json::object();
  Json request = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) throw MemberError("The request body is not valid JSON");
  if (!request.is_object()) throw MemberError("The request body must be a JSON object");
  return request;
}

std::string training_job_name(const Json& request) {
  static const std::regex kPattern("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$");
  auto it = request.find("TrainingJobName");
  if (it == request.end() || it->is_null()) {
    throw violation("TrainingJobName", nullptr, "Member must not be null");
  }
  if (!it->is_string()) throw wrong_type("TrainingJobName", *it, "a string");
  std::string name = it->get<std::string>();
  if (name.size() > 63) {
    throw violation("TrainingJobName", *it, "Member must have length less than or equal to 63");
  }
  if (!std::regex_match(name, kPattern)) {
    throw violation("TrainingJobName", *it,
                    "Member must satisfy regular expression pattern: "
                    "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
  }
  return name;
}

std::optional<double> timestamp_member(const Json& request, std::string_view member) {
  auto it = request.find(member);
  if (it == request.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) throw wrong_type(member, *it, "a timestamp in epoch seconds");
  return it->get<double>();
}

std::optional<std::string> string_member(const Json& request, std::string_view member) {
  auto it = request.find(member);
  if (it == request.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw wrong_type(member, *it, "a string");
  return it->get<std::string>();
}

template <typename Enum>
Enum enum_member(const Json& request, std::string_view member,
                 std::initializer_list<std::pair<std::string_view, Enum>> values, Enum fallback) {
  std::optional<std::string> text = string_member(request, member);
  if (!text) return fallback;
  std::string allowed;
  for (const auto& [name, value] : values) {
    if (*text == name) return value;
    allowed += (allowed.empty() ? "" : ", ") + std::string(name);
  }
  throw violation(member, *text, "Member must satisfy enum value set: [" + allowed + "]");
}

jobs::ListQuery list_query(const Json& request) {
  jobs::ListQuery query;
  if (auto status = string_member(request, "StatusEquals")) {
    query.status_equals = jobs::parse_training_job_status(*status);
    if (!query.status_equals) {
      throw violation("StatusEquals", *status,
                      "Member must satisfy enum value set: [InProgress, Completed, Failed, "
                      "Stopping, Stopped]");
    }
  }
  if (auto name = string_member(request, "NameContains")) {
    static const std::regex kPattern("^[a-zA-Z0-9\\-]+$");
    if (name->size() > 63) {
      throw violation("NameContains", *name, "Member must have length less than or equal to 63");
    }
    if (!name->empty() && !std::regex_match(*name, kPattern)) {
      throw violation("NameContains", *name,
                      "Member must satisfy regular expression pattern: [a-zA-Z0-9\\-]+");
    }
    if (!name->empty()) query.name_contains = *name;
  }
  query.creation_time_after = timestamp_member(request, "CreationTimeAfter");
  query.creation_time_before = timestamp_member(request, "CreationTimeBefore");
  query.last_modified_time_after = timestamp_member(request, "LastModifiedTimeAfter");
  query.last_modified_time_before = timestamp_member(request, "LastModifiedTimeBefore");
  query.sort_by = enum_member(request, "SortBy",
                              {{"Name", jobs::ListSortBy::kName},
                               {"CreationTime", jobs::ListSortBy::kCreationTime},
                               {"Status", jobs::ListSortBy::kStatus}},
                              jobs::ListSortBy::kCreationTime);
  query.sort_order = enum_member(request, "SortOrder",
                                 {{"Ascending", jobs::ListSortOrder::kAscending},
                                  {"Descending", jobs::ListSortOrder::kDescending}},
                                 jobs::ListSortOrder::kAscending);
  if (auto it = request.find("MaxResults"); it != request.end() && !it->is_null()) {
    if (!it->is_number_integer()) throw wrong_type("MaxResults", *it, "an integer");
    const int64_t value = it->get<int64_t>();
    if (value < 1) {
      throw violation("MaxResults", *it, "Member must have value greater than or equal to 1");
    }
    if (value > jobs::kMaxListMaxResults) {
      throw violation("MaxResults", *it, "Member must have value less than or equal to 100");
    }
    query.max_results = static_cast<int>(value);
  }
  if (auto token = string_member(request, "NextToken"); token && !token->empty()) {
    if (token->size() > 8192) {
      throw violation("NextToken", *token, "Member must have length less than or equal to 8192");
    }
    query.next_token = *token;
  }
  return query;
}

const Json& required_array(const Json& request, std::string_view member, size_t min, size_t max) {
  auto it = request.find(member);
  if (it == request.end() || it->is_null())
    throw violation(member, nullptr, "Member must not be null");
  if (!it->is_array()) throw wrong_type(member, *it, "a list");
  if (it->size() < min) {
    throw violation(member, *it,
                    "Member must have length greater than or equal to " + std::to_string(min));
  }
  if (it->size() > max) {
    throw violation(member, *it,
                    "Member must have length less than or equal to " + std::to_string(max));
  }
  return *it;
}

std::string tag_text(const Json& value, const std::string& path, size_t min, size_t max) {
  if (value.is_null()) throw violation(path, nullptr, "Member must not be null");
  if (!value.is_string()) throw wrong_type(path, value, "a string");
  const std::string text = value.get<std::string>();
  if (text.size() < min) {
    throw violation(path, value,
                    "Member must have length greater than or equal to " + std::to_string(min));
  }
  if (text.size() > max) {
    throw violation(path, value,
                    "Member must have length less than or equal to " + std::to_string(max));
  }
  return text;
}

std::vector<jobs::Tag> tags_member(const Json& request) {
  std::vector<jobs::Tag> tags;
  const Json& list = required_array(request, "Tags", 0, 50);
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = "Tags." + std::to_string(i + 1) + ".member";
    if (!list[i].is_object()) throw wrong_type(path, list[i], "a Tag structure");
    tags.push_back({tag_text(list[i].value("Key", Json()), path + ".key", 1, 128),
                    tag_text(list[i].value("Value", Json("")), path + ".value", 0, 256)});
  }
  return tags;
}

nlohmann::ordered_json tags_json(const std::vector<jobs::Tag>& tags) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const jobs::Tag& tag : tags) list.push_back({{"Key", tag.key}, {"Value", tag.value}});
  return list;
}

}  // namespace

ApiResponse ApiResponse::error(std::string code, const std::string& message, int status) {
  ApiResponse response;
  response.status = status;
  response.body = {{"__type", code}, {"message", message}, {"Message", message}};
  response.error_type = std::move(code);
  return response;
}

SageMakerApi::SageMakerApi(jobs::JobService& service,
                           std::function<void(const std::string&)> start_job)
    : service_(service), start_job_(std::move(start_job)) {}

ApiResponse SageMakerApi::call(std::string_view operation, std::string_view body) {
  try {
    if (operation == "CreateTrainingJob") return create_training_job(body);
    if (operation == "DescribeTrainingJob") return describe_training_job(parse_object(body));
    if (operation == "ListTrainingJobs") return list_training_jobs(parse_object(body));
    if (operation == "StopTrainingJob") return stop_training_job(parse_object(body));
    if (operation == "DeleteTrainingJob") return delete_training_job(parse_object(body));
    if (operation == "AddTags") return add_tags(parse_object(body));
    if (operation == "ListTags") return list_tags(parse_object(body));
    if (operation == "DeleteTags") return delete_tags(parse_object(body));
    return ApiResponse::error("UnknownOperationException",
                              "trainyard does not serve the operation '" + std::string(operation) +
                                  "'; it serves CreateTrainingJob, DescribeTrainingJob, "
                                  "ListTrainingJobs, StopTrainingJob, DeleteTrainingJob, AddTags, "
                                  "ListTags and DeleteTags");
  } catch (const MemberError& error) {
    return error.response();
  } catch (const std::exception& error) {
    // Not the client's doing: 500, which SDKs retry.
    return ApiResponse::error("InternalFailure", error.what(), 500);
  }
}

ApiResponse SageMakerApi::create_training_job(std::string_view body) {
  jobs::ParseResult parsed = jobs::parse_create_training_job(
      body, {.reject_unknown_fields = false, .require_role_arn = true});
  if (!parsed) {
    const jobs::ValidationErrors& errors = parsed.errors();
    return ApiResponse::error(
        errors.is_malformed_json() ? "SerializationException" : "ValidationException",
        errors.message());
  }
  jobs::JobRecord record;
  try {
    record = service_.submit(parsed.spec());
  } catch (const jobs::ResourceInUse&) {
    std::optional<jobs::JobRecord> existing = service_.store().get(parsed.spec().training_job_name);
    return ApiResponse::error(
        "ResourceInUse",
        "Training job names must be unique within an AWS account and region, and a training "
        "job with this name already exists (" +
            (existing ? existing->arn : parsed.spec().training_job_name) + ")");
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

ApiResponse SageMakerApi::describe_training_job(const nlohmann::json& request) {
  std::optional<jobs::JobRecord> record = service_.store().get(training_job_name(request));
  // The real service's answer for an unknown job, which the SDK's waiter treats as final.
  if (!record) return ApiResponse::error("ValidationException", "Requested resource not found.");
  ApiResponse response;
  response.body = jobs::describe_training_job(*record);
  return response;
}

ApiResponse SageMakerApi::list_training_jobs(const nlohmann::json& request) {
  jobs::ListQuery query = list_query(request);
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

ApiResponse SageMakerApi::stop_training_job(const nlohmann::json& request) {
  const std::string name = training_job_name(request);
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

ApiResponse SageMakerApi::delete_training_job(const nlohmann::json& request) {
  const std::string name = training_job_name(request);
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

std::string SageMakerApi::job_of_arn(const nlohmann::json& request) const {
  std::optional<std::string> arn = string_member(request, "ResourceArn");
  if (!arn) throw violation("ResourceArn", nullptr, "Member must not be null");
  if (arn->size() > 256) {
    throw violation("ResourceArn", *arn, "Member must have length less than or equal to 256");
  }
  constexpr std::string_view kMarker = ":training-job/";
  size_t at = arn->rfind(kMarker);
  if (at != std::string::npos) {
    std::string name = arn->substr(at + kMarker.size());
    std::optional<jobs::JobRecord> record = service_.store().get(name);
    if (record && record->arn == *arn) return record->name;
  }
  throw MemberError("Resource does not exist: " + *arn);
}

ApiResponse SageMakerApi::add_tags(const nlohmann::json& request) {
  const std::string name = job_of_arn(request);
  std::vector<jobs::Tag> tags = tags_member(request);
  try {
    service_.store().add_tags(name, tags);
  } catch (const ValueError& error) {
    return ApiResponse::error("ValidationException", error.what());
  }
  ApiResponse response;
  response.body = {{"Tags", tags_json(tags)}};
  return response;
}

ApiResponse SageMakerApi::list_tags(const nlohmann::json& request) {
  const std::string name = job_of_arn(request);
  if (auto it = request.find("MaxResults"); it != request.end() && !it->is_null()) {
    if (!it->is_number_integer()) throw wrong_type("MaxResults", *it, "an integer");
    if (it->get<int64_t>() < 50) {
      throw violation("MaxResults", *it, "Member must have value greater than or equal to 50");
    }
  }
  // A job carries at most 50 tags, so one page always holds them all.
  ApiResponse response;
  response.body = {{"Tags", tags_json(service_.store().list_tags(name))}};
  return response;
}

ApiResponse SageMakerApi::delete_tags(const nlohmann::json& request) {
  const std::string name = job_of_arn(request);
  const Json& list = required_array(request, "TagKeys", 1, 50);
  std::vector<std::string> keys;
  for (size_t i = 0; i < list.size(); ++i) {
    keys.push_back(tag_text(list[i], "TagKeys." + std::to_string(i + 1) + ".member", 1, 128));
  }
  service_.store().delete_tags(name, keys);
  return ApiResponse{};
}

}  // namespace trainyard::server
