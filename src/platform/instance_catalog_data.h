// The text of data/instance-catalog.csv, compiled into the library by CMake.
#pragma once

#include <string_view>

namespace trainyard::platform::detail {

std::string_view builtin_instance_catalog_csv();

}  // namespace trainyard::platform::detail
