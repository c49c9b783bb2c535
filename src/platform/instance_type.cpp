#include "platform/instance_type.h"

namespace trainyard::platform {

std::string instance_family(std::string_view name) {
  constexpr std::string_view kPrefix = "ml.";
  if (!name.starts_with(kPrefix)) return std::string(name);
  std::string_view rest = name.substr(kPrefix.size());
  auto dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0) return std::string(name);
  return std::string(rest.substr(0, dot));
}

}  // namespace trainyard::platform
