// Affine: y = x @ kernel (+ bias), the op behind Dense.
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

class Affine final : public Op {
 public:
  std::string name() const override { return "Affine"; }

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
    if (context.num_inputs() == 3) {
      backend.bias_add(context.output(), context.input(2), context.output());
    }
  }

  void backward(const OpContext& context) const override {
    auto& backend = context.backend();
    const Tensor& dy = context.output_grad();  // [B, N]
    // dx [B, K] = dy [B, N] @ kernel^T [N, K]
    if (context.input_grad(0).defined()) {
      backend.matmul(dy, false, context.input(1), true, context.input_grad(0), 1.0,
                     context.accumulate(0) ? 1.0 : 0.0);
    }
    // dkernel [K, N] = x^T [K, B] @ dy [B, N]
    if (context.input_grad(1).defined()) {
      backend.matmul(context.input(0), true, dy, false, context.input_grad(1), 1.0,
                     context.accumulate(1) ? 1.0 : 0.0);
    }
    // dbias [N] = sum over rows of dy
    if (context.num_inputs() == 3 && context.input_grad(2).defined()) {
      backend.bias_add_backward(dy, context.input_grad(2), context.accumulate(2));
    }
  }

  bool backward_reads_input(int input) const override { return input == 0 || input == 1; }
};

}  // namespace

OpPtr affine() {
  return std::make_shared<Affine>();
}

}  // namespace trainyard::graph::ops
