// The backward half that Affine and Conv2D share: their output is f(product + bias), and the
// gradient before f comes from the output alone.
#pragma once

#include "graph/op.h"

namespace trainyard::graph::ops {

// Turns the op's output gradient dy into dz = f'(z) * dy in place (no other op reads dy) and
// writes the bias gradient (input 2, when present and wanted) from the same pass; with a
// linear f only the bias gradient is computed. Returns dz.
inline const Tensor& bias_activation_gradient(const OpContext& context,
                                              const backend::Activation& activation) {
  auto& backend = context.backend();
  const Tensor none;
  const bool bias_grad = context.num_inputs() == 3 && context.input_grad(2).defined();
  const Tensor& dz = context.output_grad();
  if (activation.kind != backend::ActivationKind::kLinear) {
    backend.bias_activation_backward(activation, context.output(), dz, dz,
                                     bias_grad ? context.input_grad(2) : none,
                                     bias_grad && context.accumulate(2));
  } else if (bias_grad) {
    backend.bias_add_backward(dz, context.input_grad(2), context.accumulate(2));
  }
  return dz;
}

}  // namespace trainyard::graph::ops
