// A SageMaker API client for trainyard's own commands (`--endpoint URL`): AWS JSON 1.1 over
// HTTP or HTTPS, signed with SigV4 when credentials are given, errors raised with AWS's code.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "server/credentials.h"

namespace httplib {
class Client;
}

namespace trainyard::server {

// An error answer from the server: its AWS code ("ValidationException") and message.
class ApiError : public Error {
 public:
  ApiError(std::string code, const std::string& message)
      : Error(code + ": " + message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

struct ApiClientOptions {
  std::string endpoint;                  // "http://127.0.0.1:8080"
  std::optional<Credential> credential;  // empty: unsigned requests
  std::string region = "us-east-1";
  std::chrono::seconds timeout{60};
  // Reuse one connection across calls (HTTP keep-alive) instead of connecting per call; the
  // client is then for one thread at a time.
  bool keep_alive = false;

  // The endpoint with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION (or
  // AWS_REGION) from the environment, as the AWS CLI reads them.
  static ApiClientOptions from_environment(std::string endpoint);
};

class ApiClient {
 public:
  // Throws ValueError naming the endpoint when it is not http(s)://HOST[:PORT].
  explicit ApiClient(ApiClientOptions options);
  ~ApiClient();
  ApiClient(ApiClient&&) noexcept;
  ApiClient& operator=(ApiClient&&) noexcept;

  // Calls `operation` with `request`; returns the response body. Throws ApiError for an
  // error answer, IOError when the server cannot be reached.
  nlohmann::json call(std::string_view operation, const nlohmann::json& request) const;

 private:
  ApiClientOptions options_;
  std::string scheme_and_host_;  // what httplib connects to
  std::string host_header_;      // what is signed and sent as Host
  // With keep_alive: the connection calls share (httplib reconnects when the server closes it).
  std::unique_ptr<httplib::Client> kept_connection_;
};

}  // namespace trainyard::server
