#include "server/sagemaker_requests.h"

#include <regex>

#include "jobs/job_spec_parse.h"

namespace trainyard::server {
namespace {

using Json = nlohmann::json;

// A request member that breaks a constraint, worded as AWS words one violation.
RequestError member_error(const std::string& text) {
  return RequestError(
      ApiResponse::error("ValidationException", "1 validation error detected: " + text));
}

std::string lower_camel(std::string_view member) {
  std::string text(member);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

RequestError violation(std::string_view member, const Json& value, const std::string& phrase) {
  std::string shown = value.is_null()     ? "null"
                      : value.is_string() ? "'" + value.get<std::string>() + "'"
                                          : "'" + value.dump() + "'";
  return member_error("Value " + shown + " at '" + lower_camel(member) +
                      "' failed to satisfy constraint: " + phrase);
}

RequestError wrong_type(std::string_view member, const Json& value, std::string_view wanted) {
  return member_error("Value '" + value.dump() + "' at '" + lower_camel(member) +
                      "' failed to satisfy constraint: Member must be " + std::string(wanted));
}

// The request body as a JSON object; an empty body counts as {}.
Json parse_object(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return Json::object();
  Json request = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) throw member_error("The request body is not valid JSON");
  if (!request.is_object()) throw member_error("The request body must be a JSON object");
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

std::string resource_arn(const Json& request) {
  std::optional<std::string> arn = string_member(request, "ResourceArn");
  if (!arn) throw violation("ResourceArn", nullptr, "Member must not be null");
  if (arn->size() > 256) {
    throw violation("ResourceArn", *arn, "Member must have length less than or equal to 256");
  }
  return *arn;
}

}  // namespace

RequestError::RequestError(ApiResponse response)
    : std::runtime_error(response.error_type), response_(std::move(response)) {}

jobs::TrainingJobSpec parse_create_training_job_request(std::string_view body) {
  jobs::ParseResult parsed = jobs::parse_create_training_job(
      body, {.reject_unknown_fields = false, .require_role_arn = true});
  if (!parsed) {
    const jobs::ValidationErrors& errors = parsed.errors();
    throw RequestError(ApiResponse::error(
        errors.is_malformed_json() ? "SerializationException" : "ValidationException",
        errors.message()));
  }
  return parsed.spec();
}

std::string parse_training_job_name_request(std::string_view body) {
  return training_job_name(parse_object(body));
}

jobs::ListQuery parse_list_training_jobs_request(std::string_view body) {
  return list_query(parse_object(body));
}

AddTagsRequest parse_add_tags_request(std::string_view body) {
  const Json request = parse_object(body);
  std::string arn = resource_arn(request);
  return {std::move(arn), tags_member(request)};
}

std::string parse_list_tags_request(std::string_view body) {
  const Json request = parse_object(body);
  std::string arn = resource_arn(request);
  if (auto it = request.find("MaxResults"); it != request.end() && !it->is_null()) {
    if (!it->is_number_integer()) throw wrong_type("MaxResults", *it, "an integer");
    if (it->get<int64_t>() < 50) {
      throw violation("MaxResults", *it, "Member must have value greater than or equal to 50");
    }
  }
  return arn;
}

DeleteTagsRequest parse_delete_tags_request(std::string_view body) {
  const Json request = parse_object(body);
  DeleteTagsRequest parsed{resource_arn(request), {}};
  const Json& list = required_array(request, "TagKeys", 1, 50);
  for (size_t i = 0; i < list.size(); ++i) {
    parsed.tag_keys.push_back(
        tag_text(list[i], "TagKeys." + std::to_string(i + 1) + ".member", 1, 128));
  }
  return parsed;
}

}  // namespace trainyard::server
