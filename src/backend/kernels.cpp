#include "backend/kernels.h"

namespace trainyard::backend {

std::string_view activation_name(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::kLinear:
      return "linear";
    case ActivationKind::kRelu:
      return "relu";
    case ActivationKind::kSigmoid:
      return "sigmoid";
    case ActivationKind::kTanh:
      return "tanh";
    case ActivationKind::kSoftmax:
      return "softmax";
    case ActivationKind::kGelu:
      return "gelu";
    case ActivationKind::kSilu:
      return "silu";
    case ActivationKind::kLeakyRelu:
      return "leaky_relu";
    case ActivationKind::kElu:
      return "elu";
    case ActivationKind::kSoftplus:
      return "softplus";
  }
  return "linear";
}

bool derivative_from_output(ActivationKind kind) {
  return kind == ActivationKind::kLinear || kind == ActivationKind::kRelu ||
         kind == ActivationKind::kSigmoid || kind == ActivationKind::kTanh;
}

}  // namespace trainyard::backend
