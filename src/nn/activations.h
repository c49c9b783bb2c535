// Activation names as Keras spells them, mapped to backend kernels.
#pragma once

#include <string_view>

#include "backend/kernels.h"

namespace trainyard::nn {

// "relu", "sigmoid", "tanh", "softmax", "gelu", "silu" (or "swish"), "leaky_relu"
// (slope 0.2, the function default), "elu", "softplus", "linear" (or ""). Throws
// ValueError naming an unknown activation and listing the known ones.
backend::Activation parse_activation(std::string_view name);

// The part of a layer's activation its matrix-product op (Dense's Affine, Conv2D) applies
// itself: the whole of it when its derivative follows from its output (ReLU, sigmoid, tanh),
// which saves passes over the output and a buffer for the values before it; otherwise none.
backend::Activation fused_activation(const backend::Activation& activation);
// The activation left for a separate op after the product: the complement of the above.
backend::Activation remaining_activation(const backend::Activation& activation);

}  // namespace trainyard::nn
