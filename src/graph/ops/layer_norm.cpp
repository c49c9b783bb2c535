// LayerNormalization over the last axis: each row of x [B, C] normalized by its own mean
// and biased variance, then scaled by gamma [C] and shifted by beta [C] when present.
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

class LayerNorm final : public Op {
 public:
  LayerNorm(double epsilon, bool scale, bool center)
      : epsilon_(epsilon), scale_(scale), center_(center) {}

  std::string name() const override { return "LayerNormalization"; }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    size_t count = 1 + size_t{scale_} + size_t{center_};
    require_input_count(name(), inputs, count, count);
    const TensorSpec& x = inputs[0];
    require_float(name(), x);
    bool ok = x.shape.rank() >= 1;
    for (size_t i = 1; ok && i < count; ++i) {
      ok = inputs[i].shape == Shape{x.shape[-1]} && inputs[i].dtype == x.dtype;
    }
    if (!ok) {
      throw ShapeError(name() + ": inputs " + describe_specs(inputs) + " do not fit x [..., C]" +
                       (scale_ ? ", gamma [C]" : "") + (center_ ? ", beta [C]" : ""));
    }
    return x;
  }

  void forward(const OpContext& context) const override {
    context.backend().layer_norm_forward(context.input(0), gamma(context), beta(context), epsilon_,
                                         context.output());
  }

  void backward(const OpContext& context) const override {
    // Per row, with xhat = (x - mean) / sigma and g = dy * gamma:
    //   dx [B, C] = (g - mean(g) - xhat * mean(g * xhat)) / sigma
    //   dgamma [C] = sum over rows of dy * xhat, dbeta [C] = sum over rows of dy
    backend::NormGradients grads;
    grads.x_grad = &context.input_grad(0);
    grads.accumulate_x = context.accumulate(0);
    if (scale_) {
      grads.gamma_grad = &context.input_grad(1);
      grads.accumulate_gamma = context.accumulate(1);
    }
    if (center_) {
      grads.beta_grad = &context.input_grad(beta_index());
      grads.accumulate_beta = context.accumulate(beta_index());
    }
    context.backend().layer_norm_backward(context.input(0), gamma(context), epsilon_,
                                          context.output_grad(), grads);
  }

  bool backward_reads_input(int input) const override {
    return input == 0 || (scale_ && input == 1);
  }

 private:
  int beta_index() const { return scale_ ? 2 : 1; }
  const Tensor& gamma(const OpContext& context) const {
    return scale_ ? context.input(1) : kAbsent;
  }
  const Tensor& beta(const OpContext& context) const {
    return center_ ? context.input(beta_index()) : kAbsent;
  }

  static inline const Tensor kAbsent{};
  double epsilon_;
  bool scale_;
  bool center_;
};

}  // namespace

OpPtr layer_norm(double epsilon, bool scale, bool center) {
  return std::make_shared<LayerNorm>(epsilon, scale, center);
}

}  // namespace trainyard::graph::ops
