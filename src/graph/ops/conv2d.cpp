// Conv2D: y = f(x (*) kernel (+ bias)), channels_last, with f an activation whose derivative
// follows from y (identity by default). Shapes, with the window's geometry:
// x [N, H, W, C], kernel [KH, KW, C, F], bias [F] -> y [N, OH, OW, F].
#include "graph/ops/bias_activation_gradient.h"
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

class Conv2d final : public Op {
 public:
  Conv2d(backend::Window2d window, backend::Activation activation)
      : window_(window), activation_(activation) {
    if (!backend::derivative_from_output(activation.kind)) {
      throw ValueError("Conv2D: the op cannot apply " +
                       std::string(backend::activation_name(activation.kind)) +
                       "; add it as an Activation op after");
    }
  }

  std::string name() const override {
    if (!activated()) return "Conv2D";
    return "Conv2D(" + std::string(backend::activation_name(activation_.kind)) + ")";
  }

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
    if (context.num_inputs() == 2 && !activated()) {
      backend.conv2d_forward(window_, context.input(0), context.input(1), context.output());
      return;
    }
    const Tensor none;
    backend.conv2d_bias_activation_forward(window_, activation_, context.input(0), context.input(1),
                                           context.num_inputs() == 3 ? context.input(2) : none,
                                           context.output());
  }

  void backward(const OpContext& context) const override {
    auto& backend = context.backend();
    const Tensor& dz =
        bias_activation_gradient(context, activation_, context.num_inputs() == 3 ? 2 : -1);
    // dx [N, H, W, C]: dz convolved back through the kernel
    if (context.input_grad(0).defined()) {
      backend.conv2d_backward_input(window_, dz, context.input(1), context.input_grad(0),
                                    context.accumulate(0));
    }
    // dkernel [KH, KW, C, F]: x correlated with dz
    if (context.input_grad(1).defined()) {
      backend.conv2d_backward_kernel(window_, context.input(0), dz, context.input_grad(1),
                                     context.accumulate(1));
    }
  }

  bool backward_reads_input(int input) const override { return input == 0 || input == 1; }
  bool backward_reads_output() const override { return activated(); }
  bool backward_overwrites_output_grad() const override { return activated(); }

 private:
  bool activated() const { return activation_.kind != backend::ActivationKind::kLinear; }

  backend::Window2d window_;
  backend::Activation activation_;
};

}  // namespace

OpPtr conv2d(const backend::Window2d& window, backend::Activation activation) {
  return std::make_shared<Conv2d>(window, activation);
}

}  // namespace trainyard::graph::ops
