#include "core/device.h"

#include <charconv>

#include "core/error.h"

namespace trainyard {

Device::Device(std::string_view spec) {
  std::string_view kind = spec;
  std::string_view number;
  if (auto colon = spec.find(':'); colon != std::string_view::npos) {
    kind = spec.substr(0, colon);
    number = spec.substr(colon + 1);
  }
  if (kind == "cpu" || kind == "CPU") {
    type = DeviceType::kCpu;
  } else if (kind == "cuda" || kind == "gpu" || kind == "GPU") {
    type = DeviceType::kCuda;
  } else {
    throw ValueError("unknown device '" + std::string(spec) +
                     "' (expected cpu, cpu:N, cuda or cuda:N)");
  }
  index = 0;
  if (!number.empty()) {
    auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), index);
    if (error != std::errc() || end != number.data() + number.size() || index < 0) {
      throw ValueError("device index in '" + std::string(spec) + "' is not a non-negative integer");
    }
  }
}

std::string Device::to_string() const {
  return std::string(type == DeviceType::kCpu ? "cpu:" : "cuda:") + std::to_string(index);
}

}  // namespace trainyard
