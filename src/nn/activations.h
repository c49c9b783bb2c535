// Activation names as Keras spells them, mapped to backend kernels.
#pragma once

#include <string_view>

#include "backend/kernels.h"

namespace trainyard::nn {

// "relu", "sigmoid", "tanh", "softmax", "gelu", "silu" (or "swish"), "leaky_relu"
// (slope 0.2, the function default), "elu", "softplus", "linear" (or ""). Throws
// ValueError naming an unknown activation and listing the known ones.
backend::Activation parse_activation(std::string_view name);

}  // namespace trainyard::nn
