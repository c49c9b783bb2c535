// Conv2D: y = x (*) kernel (+ bias), channels_last. Shapes, with the window's geometry:
// x [N, H, W, C], kernel [KH, KW, C, F], bias [F] -> y [N, OH, OW, F].
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

class Conv2d final : public Op {
 public:
  explicit Conv2d(backend::Window2d window) : window_(window) {}

  std::string name() const override { return "Conv2D"; }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    require_input_count(name(), inputs, 2, 3);
    const Shape& x = inputs[0].shape;
    const Shape& kernel = inputs[1].shape;
    const backend::Window2d& w = window_;
    bool ok = x == Shape{w.batch, w.in_height, w.in_width, w.channels} && kernel.rank() == 4 &&
              kernel[0] == w.window_height && kernel[1] == w.window_width &&
              kernel[2] == w.channels && inputs[0].dtype == inputs[1].dtype;
    if (ok && inputs.size() == 3) {
      ok = inputs[2].shape == Shape{kernel[3]} && inputs[2].dtype == inputs[0].dtype;
    }
    if (!ok) {
      throw ShapeError("Conv2D: inputs " + describe_specs(inputs) +
                       " do not fit x [N, H, W, C] (*) kernel [KH, KW, C, F] + bias [F] for a " +
                       std::to_string(w.window_height) + "x" + std::to_string(w.window_width) +
                       " window over " +
                       Shape{w.batch, w.in_height, w.in_width, w.channels}.to_string());
    }
    require_float(name(), inputs[0]);
    return {Shape{w.batch, w.out_height, w.out_width, kernel[3]}, inputs[0].dtype};
  }

  void forward(const OpContext& context) const override {
    auto& backend = context.backend();
    backend.conv2d_forward(window_, context.input(0), context.input(1), context.output());
    if (context.num_inputs() == 3) {
      backend.bias_add(context.output(), context.input(2), context.output());
    }
  }

  void backward(const OpContext& context) const override {
    auto& backend = context.backend();
    const Tensor& dy = context.output_grad();  // [N, OH, OW, F]
    // dx [N, H, W, C]: dy convolved back through the kernel
    if (context.input_grad(0).defined()) {
      backend.conv2d_backward_input(window_, dy, context.input(1), context.input_grad(0),
                                    context.accumulate(0));
    }
    // dkernel [KH, KW, C, F]: x correlated with dy
    if (context.input_grad(1).defined()) {
      backend.conv2d_backward_kernel(window_, context.input(0), dy, context.input_grad(1),
                                     context.accumulate(1));
    }
    // dbias [F]: dy summed over N, OH, OW
    if (context.num_inputs() == 3 && context.input_grad(2).defined()) {
      backend.bias_add_backward(dy, context.input_grad(2), context.accumulate(2));
    }
  }

  bool backward_reads_input(int input) const override { return input == 0 || input == 1; }

 private:
  backend::Window2d window_;
};

}  // namespace

OpPtr conv2d(const backend::Window2d& window) {
  return std::make_shared<Conv2d>(window);
}

}  // namespace trainyard::graph::ops
