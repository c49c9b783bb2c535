// Activation: y = f(x) elementwise, or softmax over the last axis.
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

class ActivationOp final : public Op {
 public:
  explicit ActivationOp(backend::Activation activation) : activation_(activation) {}

  std::string name() const override {
    return "Activation(" + std::string(backend::activation_name(activation_.kind)) + ")";
  }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    require_input_count(name(), inputs, 1, 1);
    require_float(name(), inputs[0]);
    return inputs[0];
  }

  void forward(const OpContext& context) const override {
    context.backend().activation_forward(activation_, context.input(0), context.output());
  }

  // dx = f'(x) * dy (softmax: y * (dy - sum(dy * y)))
  void backward(const OpContext& context) const override {
    context.backend().activation_backward(activation_, context.input(0), context.output(),
                                          context.output_grad(), context.input_grad(0),
                                          context.accumulate(0));
  }

  bool backward_reads_output() const override { return true; }

 private:
  backend::Activation activation_;
};

}  // namespace

OpPtr activation(backend::Activation activation) {
  return std::make_shared<ActivationOp>(activation);
}

}  // namespace trainyard::graph::ops
