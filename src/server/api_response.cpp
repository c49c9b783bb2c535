#include "server/api_response.h"

namespace trainyard::server {

ApiResponse ApiResponse::error(std::string code, const std::string& message, int status) {
  ApiResponse response;
  response.status = status;
  response.body = {{"__type", code}, {"message", message}, {"Message", message}};
  response.error_type = std::move(code);
  return response;
}

}  // namespace trainyard::server
