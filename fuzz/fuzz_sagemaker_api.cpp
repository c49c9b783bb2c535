// Fuzzes the SageMaker API's request parsing with hostile bodies: the first byte picks the
// operation (as X-Amz-Target would), the rest is the JSON body. Each parser must return a
// request or throw RequestError whose answer is a client error, 400 with a __type, that
// serializes; any other exception is a 5xx the server would send for bad input, and aborts.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "server/sagemaker_requests.h"

namespace {

using namespace trainyard::server;

void check_client_error(const ApiResponse& response) {
  const bool typed = response.body.contains("__type") && response.body["__type"].is_string() &&
                     !response.body["__type"].get<std::string>().empty() &&
                     response.body["__type"] == response.error_type;
  if (response.status != 400 || !typed) {
    std::fprintf(stderr, "bad input answered %d without a client error type: %s\n", response.status,
                 response.body.dump().c_str());
    std::abort();
  }
  (void)response.body.dump();  // throws on text the server could not send
}

void parse(unsigned char selector, std::string_view body) {
  switch (selector % 6) {
    case 0:
      (void)parse_create_training_job_request(body);
      break;
    case 1:
      (void)parse_training_job_name_request(body);
      break;
    case 2:
      (void)parse_list_training_jobs_request(body);
      break;
    case 3:
      (void)parse_add_tags_request(body);
      break;
    case 4:
      (void)parse_list_tags_request(body);
      break;
    default:
      (void)parse_delete_tags_request(body);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    parse(data[0], body);
  } catch (const RequestError& error) {
    check_client_error(error.response());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "a client's body threw %s: the server would answer 500\n", error.what());
    std::abort();
  }
  return 0;
}
