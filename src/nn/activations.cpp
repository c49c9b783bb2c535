#include "nn/activations.h"

#include <string>

#include "core/error.h"

namespace trainyard::nn {

backend::Activation parse_activation(std::string_view name) {
  using backend::ActivationKind;
  if (name.empty() || name == "linear") return {ActivationKind::kLinear};
  if (name == "relu") return {ActivationKind::kRelu};
  if (name == "sigmoid") return {ActivationKind::kSigmoid};
  if (name == "tanh") return {ActivationKind::kTanh};
  if (name == "softmax") return {ActivationKind::kSoftmax};
  if (name == "gelu") return {ActivationKind::kGelu};
  if (name == "silu" || name == "swish") return {ActivationKind::kSilu};
  if (name == "leaky_relu") return {ActivationKind::kLeakyRelu, 0.2};
  if (name == "elu") return {ActivationKind::kElu, 1.0};
  if (name == "softplus") return {ActivationKind::kSoftplus};
  throw ValueError("unknown activation '" + std::string(name) +
                   "' (known: linear, relu, sigmoid, tanh, softmax, gelu, silu, swish, "
                   "leaky_relu, elu, softplus)");
}

backend::Activation fused_activation(const backend::Activation& activation) {
  return backend::derivative_from_output(activation.kind) ? activation : backend::Activation{};
}

backend::Activation remaining_activation(const backend::Activation& activation) {
  return backend::derivative_from_output(activation.kind) ? backend::Activation{} : activation;
}

}  // namespace trainyard::nn
