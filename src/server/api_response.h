// One answer of the SageMaker API in the AWS JSON 1.1 protocol's terms: an HTTP status, a JSON
// body and, for errors, the x-amzn-ErrorType (sagemaker-contract.md sections 1.3 and 1.4).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace trainyard::server {

struct ApiResponse {
  int status = 200;
  nlohmann::ordered_json body = nlohmann::ordered_json::object();
  std::string error_type;  // x-amzn-ErrorType; empty on success

  // An AWS JSON error: {"__type": code, "message": ..., "Message": ...}; 400 unless a
  // server fault.
  static ApiResponse error(std::string code, const std::string& message, int status = 400);
};

}  // namespace trainyard::server
