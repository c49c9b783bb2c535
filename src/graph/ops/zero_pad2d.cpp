// ZeroPadding2D: x [N, H, W, C] -> y [N, H + top + bottom, W + left + right, C] with zeros
// around x; backward crops the padding off the gradient.
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

class ZeroPad2d final : public Op {
 public:
  explicit ZeroPad2d(backend::Padding2d padding) : padding_(padding) {}

  std::string name() const override { return "ZeroPadding2D"; }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    require_input_count(name(), inputs, 1, 1);
    const backend::Padding2d& p = padding_;
    if (inputs[0].shape.rank() != 4 || p.top < 0 || p.bottom < 0 || p.left < 0 || p.right < 0) {
      throw ShapeError("ZeroPadding2D: input " + describe_specs(inputs) +
                       " must be [N, H, W, C] and the padding non-negative");
    }
    require_float(name(), inputs[0]);
    const Shape& x = inputs[0].shape;
    return {Shape{x[0], x[1] + p.top + p.bottom, x[2] + p.left + p.right, x[3]}, inputs[0].dtype};
  }

  void forward(const OpContext& context) const override {
    context.backend().zero_pad2d_forward(padding_, context.input(0), context.output());
  }

  // dx [N, H, W, C] = dy [N, top : top + H, left : left + W, C]
  void backward(const OpContext& context) const override {
    context.backend().zero_pad2d_backward(padding_, context.output_grad(), context.input_grad(0),
                                          context.accumulate(0));
  }

  bool backward_reads_input(int) const override { return false; }

 private:
  backend::Padding2d padding_;
};

}  // namespace

OpPtr zero_pad2d(backend::Padding2d padding) {
  return std::make_shared<ZeroPad2d>(padding);
}

}  // namespace trainyard::graph::ops
