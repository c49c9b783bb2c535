// Regularizer: (w) -> scalar penalty l1 * sum |w| + l2 * sum w^2 (Keras's L1, L2, L1L2).
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

class Regularizer final : public Op {
 public:
  Regularizer(double l1, double l2) : l1_(l1), l2_(l2) {}

  std::string name() const override { return "Regularizer"; }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    require_input_count(name(), inputs, 1, 1);
    require_float(name(), inputs[0]);
    return {Shape{}, inputs[0].dtype};
  }

  void forward(const OpContext& context) const override {
    context.backend().regularizer_forward(l1_, l2_, context.input(0), context.output());
  }

  // dw [same as w] = (l1 * sign(w) + 2 * l2 * w) * dpenalty (a scalar)
  void backward(const OpContext& context) const override {
    context.backend().regularizer_backward(l1_, l2_, context.input(0), context.output_grad(),
                                           context.input_grad(0), context.accumulate(0));
  }

 private:
  double l1_;
  double l2_;
};

}  // namespace

OpPtr regularizer(double l1, double l2) {
  return std::make_shared<Regularizer>(l1, l2);
}

}  // namespace trainyard::graph::ops
