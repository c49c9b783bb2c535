// Size2: a pair (height, width) written as one number or two, as Keras takes kernel_size,
// strides, pool_size and dilation_rate: Conv2D(32, 3) or Conv2D(32, {3, 5}).
#pragma once

#include <cstdint>
#include <string>

namespace trainyard::nn {

struct Size2 {
  int64_t height = 1;
  int64_t width = 1;

  Size2() = default;
  Size2(int64_t both) : height(both), width(both) {}  // NOLINT(google-explicit-constructor)
  Size2(int64_t height_value, int64_t width_value) : height(height_value), width(width_value) {}
  bool operator==(const Size2&) const = default;
  std::string to_string() const {
    return "(" + std::to_string(height) + ", " + std::to_string(width) + ")";
  }
};

}  // namespace trainyard::nn
