// Affine: y = f(x @ kernel (+ bias)), the op behind Dense. f is linear, or an activation whose
// derivative follows from its output (Dense passes the others to a separate op), so bias and
// activation take one pass forward and one backward, as in Conv2D.
//
// Under mixed precision the kernel is a bfloat16 copy of a float32 variable. The master form
// takes that variable as an extra input and writes the kernel gradient into its float32
// gradient straight from the product (bfloat16 operands, float32 result), instead of a
// bfloat16 gradient that a Cast then widens: one pass over the weights fewer per step, and
// the gradient is not rounded to bfloat16 on the way.
#include "core/error.h"
#include "graph/ops/bias_activation_gradient.h"
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

class Affine final : public Op {
 public:
  Affine(backend::Activation activation, bool master_kernel)
      : activation_(activation), master_kernel_(master_kernel) {
    TY_CHECK(activation.kind == backend::ActivationKind::kLinear ||
                 backend::derivative_from_output(activation.kind),
             "Affine applies only activations whose derivative follows from the output");
  }

  std::string name() const override {
    std::string base = master_kernel_ ? "AffineMasterKernel" : "Affine";
    if (!activated()) return base;
    return base + "(" + std::string(backend::activation_name(activation_.kind)) + ")";
  }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    const int fixed = master_kernel_ ? 3 : 2;
    require_input_count(name(), inputs, fixed, fixed + 1);
    const TensorSpec& x = inputs[0];
    const TensorSpec& kernel = inputs[1];
    bool ok = x.shape.rank() >= 1 && kernel.shape.rank() == 2 && x.shape[-1] == kernel.shape[0] &&
              x.dtype == kernel.dtype;
    if (master_kernel_) {
      ok = ok && inputs[2].shape == kernel.shape && inputs[2].dtype == DType::kFloat32 &&
           kernel.dtype == DType::kBFloat16;
    }
    if (has_bias(static_cast<int>(inputs.size()))) {
      const TensorSpec& bias = inputs[static_cast<size_t>(bias_input())];
      ok = ok && bias.shape == Shape{kernel.shape.rank() == 2 ? kernel.shape[1] : -1} &&
           bias.dtype == x.dtype;
    }
    if (!ok) {
      throw ShapeError("Affine: inputs " + describe_specs(inputs) + " do not fit x [..., K] @ " +
                       (master_kernel_ ? "bfloat16 kernel [K, N], float32 master kernel [K, N]"
                                       : "kernel [K, N]") +
                       " + bias [N]");
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
    const Tensor& bias = has_bias(context.num_inputs()) ? context.input(bias_input()) : none;
    if (activated()) {
      backend.bias_activation_forward(activation_, context.output(), bias, context.output());
    } else if (bias.defined()) {
      backend.bias_add(context.output(), bias, context.output());
    }
  }

  void backward(const OpContext& context) const override {
    auto& backend = context.backend();
    const Tensor& dz = bias_activation_gradient(context, activation_,
                                                has_bias(context.num_inputs()) ? bias_input() : -1);
    // dx [B, K] = dz [B, N] @ kernel^T [N, K]
    if (context.input_grad(0).defined()) {
      backend.matmul(dz, false, context.input(1), true, context.input_grad(0), 1.0,
                     context.accumulate(0) ? 1.0 : 0.0);
    }
    // dkernel [K, N] = x^T [K, B] @ dz [B, N], into the master's float32 gradient when there
    // is one
    const int kernel_grad = master_kernel_ ? kMasterInput : 1;
    if (context.input_grad(kernel_grad).defined()) {
      backend.matmul(context.input(0), true, dz, false, context.input_grad(kernel_grad), 1.0,
                     context.accumulate(kernel_grad) ? 1.0 : 0.0);
    }
  }

  // With a master, the gradient skips the bfloat16 copy: the Cast before it gets none.
  bool differentiable(int input) const override { return !(master_kernel_ && input == 1); }
  bool backward_reads_input(int input) const override { return input == 0 || input == 1; }
  bool backward_reads_output() const override { return activated(); }
  bool backward_overwrites_output_grad() const override { return activated(); }

 private:
  static constexpr int kMasterInput = 2;

  bool activated() const { return activation_.kind != backend::ActivationKind::kLinear; }
  int bias_input() const { return master_kernel_ ? 3 : 2; }
  bool has_bias(int num_inputs) const { return num_inputs > bias_input(); }

  backend::Activation activation_;
  bool master_kernel_;
};

}  // namespace

OpPtr affine(backend::Activation activation) {
  return std::make_shared<Affine>(activation, false);
}

OpPtr affine_with_master_kernel(backend::Activation activation) {
  return std::make_shared<Affine>(activation, true);
}

}  // namespace trainyard::graph::ops
