// The backward half that Affine and Conv2D share: their output is f(product + bias), and the
// gradient before f comes from the output alone.
#pragma once

#include "graph/op.h"

namespace trainyard::graph::ops {

// Turns the op's output gradient dy into dz = f'(z) * dy in place (no other op reads dy) and
// writes the bias gradient (input `bias_input`, when the op has one and it is wanted; -1 for
// none) from the same pass; with a linear f only the bias gradient is computed. Returns dz.
inline const Tensor& bias_activation_gradient(const OpContext& context,
                                              const backend::Activation& activation,
                                              int bias_input) {
  auto& backend = context.backend();
  const Tensor none;
  const bool bias_grad = bias_input >= 0 && bias_input < context.num_inputs() &&
                         context.input_grad(bias_input).defined();
  const Tensor& dz = context.output_grad();
  if (activation.kind != backend::ActivationKind::kLinear) {
    backend.bias_activation_backward(activation, context.output(), dz, dz,
                                     bias_grad ? context.input_grad(bias_input) : none,
                                     bias_grad && context.accumulate(bias_input));
  } else if (bias_grad) {
    backend.bias_add_backward(dz, context.input_grad(bias_input), context.accumulate(bias_input));
  }
  return dz;
}

}  // namespace trainyard::graph::ops
