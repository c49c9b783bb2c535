// Pool2D: max or average over each window, channels_last.
// x [N, H, W, C] -> y [N, OH, OW, C].
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

class Pool2d final : public Op {
 public:
  Pool2d(backend::PoolKind kind, backend::Window2d window) : kind_(kind), window_(window) {}

  std::string name() const override {
    return kind_ == backend::PoolKind::kMax ? "MaxPool2D" : "AveragePool2D";
  }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    require_input_count(name(), inputs, 1, 1);
    const backend::Window2d& w = window_;
    if (inputs[0].shape != Shape{w.batch, w.in_height, w.in_width, w.channels}) {
      throw ShapeError(name() + ": input " + describe_specs(inputs) +
                       " does not match the window over " +
                       Shape{w.batch, w.in_height, w.in_width, w.channels}.to_string());
    }
    require_float(name(), inputs[0]);
    return {Shape{w.batch, w.out_height, w.out_width, w.channels}, inputs[0].dtype};
  }

  void forward(const OpContext& context) const override {
    context.backend().pool2d_forward(kind_, window_, context.input(0), context.output());
  }

  // dx: dy routed to each window's first maximum, or spread over its real elements
  void backward(const OpContext& context) const override {
    context.backend().pool2d_backward(kind_, window_, context.input(0), context.output(),
                                      context.output_grad(), context.input_grad(0),
                                      context.accumulate(0));
  }

  bool backward_reads_output() const override { return kind_ == backend::PoolKind::kMax; }
  bool backward_reads_input(int) const override { return kind_ == backend::PoolKind::kMax; }

 private:
  backend::PoolKind kind_;
  backend::Window2d window_;
};

}  // namespace

OpPtr pool2d(backend::PoolKind kind, const backend::Window2d& window) {
  return std::make_shared<Pool2d>(kind, window);
}

}  // namespace trainyard::graph::ops
