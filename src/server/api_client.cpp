#include "server/api_client.h"

#include <httplib.h>

#include <cstdlib>
#include <ctime>
#include <optional>

#include "server/sigv4.h"

namespace trainyard::server {
namespace {

std::string utc_now_amz_date() {
  std::time_t now = std::time(nullptr);
  std::tm parts{};
  gmtime_r(&now, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &parts);
  return text;
}

const char* environment(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

}  // namespace

ApiClientOptions ApiClientOptions::from_environment(std::string endpoint) {
  ApiClientOptions options;
  options.endpoint = std::move(endpoint);
  const char* key = environment("AWS_ACCESS_KEY_ID");
  const char* secret = environment("AWS_SECRET_ACCESS_KEY");
  if (key != nullptr && secret != nullptr) options.credential = Credential{key, secret};
  if (const char* region = environment("AWS_DEFAULT_REGION")) {
    options.region = region;
  } else if (const char* fallback = environment("AWS_REGION")) {
    options.region = fallback;
  }
  return options;
}

ApiClient::ApiClient(ApiClientOptions options) : options_(std::move(options)) {
  std::string_view url = options_.endpoint;
  while (url.ends_with('/')) url.remove_suffix(1);
  const bool https = url.starts_with("https://");
  if (!https && !url.starts_with("http://")) {
    throw ValueError("--endpoint must be http://HOST[:PORT] or https://HOST[:PORT], got '" +
                     options_.endpoint + "'");
  }
  std::string_view host = url.substr(https ? 8 : 7);
  if (host.empty() || host.find('/') != std::string_view::npos) {
    throw ValueError("--endpoint must be http://HOST[:PORT] or https://HOST[:PORT], got '" +
                     options_.endpoint + "'");
  }
  scheme_and_host_ = std::string(url);
  host_header_ = std::string(host);
  if (options_.keep_alive) {
    kept_connection_ = std::make_unique<httplib::Client>(scheme_and_host_);
    kept_connection_->set_keep_alive(true);
    kept_connection_->set_tcp_nodelay(true);  // headers and body go out as separate writes
    kept_connection_->set_connection_timeout(options_.timeout);
    kept_connection_->set_read_timeout(options_.timeout);
  }
}

ApiClient::~ApiClient() = default;
ApiClient::ApiClient(ApiClient&&) noexcept = default;
ApiClient& ApiClient::operator=(ApiClient&&) noexcept = default;

nlohmann::json ApiClient::call(std::string_view operation, const nlohmann::json& request) const {
  HttpRequestView signed_request;
  signed_request.body = request.dump();
  const std::string target = "SageMaker." + std::string(operation);
  const std::string amz_date = utc_now_amz_date();
  signed_request.headers = {{"content-type", "application/x-amz-json-1.1"},
                            {"host", host_header_},
                            {"x-amz-date", amz_date},
                            {"x-amz-target", target}};
  httplib::Headers headers = {
      {"Host", host_header_}, {"X-Amz-Date", amz_date}, {"X-Amz-Target", target}};
  if (options_.credential) {
    SigV4Authorization scope{
        .access_key_id = options_.credential->access_key_id,
        .date = amz_date.substr(0, 8),
        .region = options_.region,
        .service = "sagemaker",
        .signed_headers = {"content-type", "host", "x-amz-date", "x-amz-target"}};
    const std::string signature =
        sigv4_signature(signed_request, scope, amz_date, options_.credential->secret_access_key);
    headers.emplace("Authorization", "AWS4-HMAC-SHA256 Credential=" + scope.access_key_id + "/" +
                                         scope.date + "/" + scope.region +
                                         "/sagemaker/aws4_request, SignedHeaders=content-type;"
                                         "host;x-amz-date;x-amz-target, Signature=" +
                                         signature);
  }
  std::optional<httplib::Client> one_call_connection;
  if (!kept_connection_) {
    one_call_connection.emplace(scheme_and_host_);
    one_call_connection->set_connection_timeout(options_.timeout);
    one_call_connection->set_read_timeout(options_.timeout);
  }
  httplib::Client& client = kept_connection_ ? *kept_connection_ : *one_call_connection;
  httplib::Result result =
      client.Post("/", headers, signed_request.body, "application/x-amz-json-1.1");
  if (!result) {
    throw IOError("cannot reach the trainyard server at " + options_.endpoint + ": " +
                  httplib::to_string(result.error()));
  }
  nlohmann::json body = nlohmann::json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  if (result->status >= 300) {
    if (body.is_object() && body.contains("__type")) {
      throw ApiError(body.value("__type", "Error"),
                     body.value("message", body.value("Message", std::string())));
    }
    throw ApiError("HTTP" + std::to_string(result->status), result->body.substr(0, 200));
  }
  if (body.is_discarded() || !body.is_object()) {
    throw IOError("the server at " + options_.endpoint + " answered " + std::string(operation) +
                  " with something that is not a JSON object");
  }
  return body;
}

}  // namespace trainyard::server
