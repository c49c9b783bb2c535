// Shape-rule helpers shared by the op files.
#pragma once

#include <span>
#include <string>

#include "core/error.h"
#include "graph/op.h"

namespace trainyard::graph::ops {

inline std::string describe_specs(std::span<const TensorSpec> specs) {
  std::string text;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (i > 0) text += ", ";
    text += specs[i].shape.to_string() + " " + std::string(dtype_name(specs[i].dtype));
  }
  return text;
}

inline void require_input_count(const std::string& op, std::span<const TensorSpec> inputs,
                                size_t minimum, size_t maximum) {
  if (inputs.size() < minimum || inputs.size() > maximum) {
    throw ShapeError(op + ": expected " + std::to_string(minimum) +
                     (minimum == maximum ? "" : " to " + std::to_string(maximum)) +
                     " inputs, got " + std::to_string(inputs.size()));
  }
}

inline void require_float(const std::string& op, const TensorSpec& spec) {
  if (!is_floating(spec.dtype)) {
    throw ShapeError(op + ": expected a floating-point tensor, got " +
                     std::string(dtype_name(spec.dtype)));
  }
}

}  // namespace trainyard::graph::ops
