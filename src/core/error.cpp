#include "core/error.h"

namespace trainyard::detail {

void throw_internal_error(const char* condition, const char* file, int line,
                          const std::string& message) {
  throw InternalError(std::string(file) + ":" + std::to_string(line) + ": check failed (" +
                      condition + "): " + message);
}

}  // namespace trainyard::detail
