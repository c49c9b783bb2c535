// BiasAdd: y = x + bias over the last axis.
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

class BiasAdd final : public Op {
 public:
  std::string name() const override { return "BiasAdd"; }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    require_input_count(name(), inputs, 2, 2);
    if (inputs[0].shape.rank() < 1 || inputs[1].shape != Shape{inputs[0].shape[-1]} ||
        inputs[0].dtype != inputs[1].dtype) {
      throw ShapeError("BiasAdd: inputs " + describe_specs(inputs) +
                       " do not fit x [..., C] + bias [C]");
    }
    return inputs[0];
  }

  void forward(const OpContext& context) const override {
    context.backend().bias_add(context.input(0), context.input(1), context.output());
  }

  void backward(const OpContext& context) const override {
    // dx = dy; dbias [C] = sum over rows of dy
    if (context.input_grad(0).defined()) {
      context.backend().copy(context.output_grad(), context.input_grad(0), context.accumulate(0));
    }
    if (context.input_grad(1).defined()) {
      context.backend().bias_add_backward(context.output_grad(), context.input_grad(1),
                                          context.accumulate(1));
    }
  }

  bool backward_reads_input(int) const override { return false; }
};

}  // namespace

OpPtr bias_add() {
  return std::make_shared<BiasAdd>();
}

}  // namespace trainyard::graph::ops
