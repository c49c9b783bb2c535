// Affine: y = f(x @ kernel (+ bias)), the op behind Dense. f is linear, or an activation whose
// derivative follows from its output (Dense passes the others to a separate op), so bias and
// activation take one pass forward and one backward, as in Conv2D.
#include "core/error.h"
#include "graph/ops/bias_activation_gradient.h"
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

class Affine final : public Op {
 public:
  explicit Affine(backend::Activation activation) : activation_(activation) {
    TY_CHECK(activation.kind == backend::ActivationKind::kLinear ||
                 backend::derivative_from_output(activation.kind),
             "Affine applies only activations whose derivative follows from the output");
  }

  std::string name() const override {
    if (!activated()) return "Affine";
    return "Affine(" + std::string(backend::activation_name(activation_.kind)) + ")";
  }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    require_input_count(name(), inputs, 2, 3);
    const TensorSpec& x = inputs[0];
    const TensorSpec& kernel = inputs[1];
    bool ok = x.shape.rank() >= 1 && kernel.shape.rank() == 2 && x.shape[-1] == kernel.shape[0] &&
              x.dtype == kernel.dtype;
    if (inputs.size() == 3) {
      ok = ok && inputs[2].shape == Shape{kernel.shape.rank() == 2 ? kernel.shape[1] : -1} &&
           inputs[2].dtype == x.dtype;
    }
    if (!ok) {
      throw ShapeError("Affine: inputs " + describe_specs(inputs) +
                       " do not fit x [..., K] @ kernel [K, N] + bias [N]");
    }
    require_float(name(), x);
    Shape out = x.shape;
    out[-1] = kernel.shape[1];
    return {out, x.dtype};
  }

  void forward(const OpContext& context) const override {
    auto& backend = context.backend();
    backend.matmul(context.input(0), false, context.input(1), false, context.output(), 1.0, 0.0);
    const Tensor none;
    const Tensor& bias = context.num_inputs() == 3 ? context.input(2) : none;
    if (activated()) {
      backend.bias_activation_forward(activation_, context.output(), bias, context.output());
    } else if (bias.defined()) {
      backend.bias_add(context.output(), bias, context.output());
    }
  }

  void backward(const OpContext& context) const override {
    auto& backend = context.backend();
    const Tensor& dz = bias_activation_gradient(context, activation_);
    // dx [B, K] = dz [B, N] @ kernel^T [N, K]
    if (context.input_grad(0).defined()) {
      backend.matmul(dz, false, context.input(1), true, context.input_grad(0), 1.0,
                     context.accumulate(0) ? 1.0 : 0.0);
    }
    // dkernel [K, N] = x^T [K, B] @ dz [B, N]
    if (context.input_grad(1).defined()) {
      backend.matmul(context.input(0), true, dz, false, context.input_grad(1), 1.0,
                     context.accumulate(1) ? 1.0 : 0.0);
    }
  }

  bool backward_reads_input(int input) const override { return input == 0 || input == 1; }
  bool backward_reads_output() const override { return activated(); }
  bool backward_overwrites_output_grad() const override { return activated(); }

 private:
  bool activated() const { return activation_.kind != backend::ActivationKind::kLinear; }

  backend::Activation activation_;
};

}  // namespace

OpPtr affine(backend::Activation activation) {
  return std::make_shared<Affine>(activation);
}

}  // namespace trainyard::graph::ops
