// The optional entries' default implementations, built from the required entries, so a
// backend without fused kernels still runs every op.
#include "backend/backend.h"

#include <string>

#include "core/error.h"

namespace trainyard::backend {

void Backend::conv2d_bias_activation_forward(const Window2d& window, const Activation& activation,
                                             const Tensor& x, const Tensor& kernel,
                                             const Tensor& bias, const Tensor& y) {
  if (activation.kind == ActivationKind::kSoftmax) {
    throw ValueError("conv2d_bias_activation_forward: softmax is not elementwise");
  }
  conv2d_forward(window, x, kernel, y);
  if (bias.defined()) bias_add(y, bias, y);
  if (activation.kind != ActivationKind::kLinear) activation_forward(activation, y, y);
}

void Backend::bias_activation_backward(const Activation& activation, const Tensor& y,
                                       const Tensor& y_grad, const Tensor& z_grad,
                                       const Tensor& bias_grad, bool accumulate_bias) {
  if (!derivative_from_output(activation.kind)) {
    throw ValueError("bias_activation_backward: the derivative of " +
                     std::string(activation_name(activation.kind)) +
                     " needs the activation's input");
  }
  // For these activations f'(z) is a function of y alone (ReLU: z > 0 exactly when y > 0), so y
  // stands in for the input z.
  activation_backward(activation, y, y, y_grad, z_grad, false);
  if (bias_grad.defined()) bias_add_backward(z_grad, bias_grad, accumulate_bias);
}

}  // namespace trainyard::backend
