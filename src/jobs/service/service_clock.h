// Wall-clock time as the job store records it: Unix epoch seconds with a fraction.
#pragma once

#include <chrono>

namespace trainyard::jobs {

inline double epoch_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace trainyard::jobs
