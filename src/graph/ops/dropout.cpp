// Dropout: inverted dropout on training steps, identity otherwise. The mask is a pure
// function of (seed, step, element), so backward recomputes it rather than storing it.
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

class Dropout final : public Op {
 public:
  Dropout(double rate, uint64_t seed) : rate_(rate), seed_(seed) {}

  std::string name() const override { return "Dropout"; }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    require_input_count(name(), inputs, 1, 1);
    require_float(name(), inputs[0]);
    return inputs[0];
  }

  void forward(const OpContext& context) const override {
    if (!context.step().training) {
      context.backend().copy(context.input(0), context.output(), false);
      return;
    }
    context.backend().dropout_forward(rate_, seed_, context.step().step, context.input(0),
                                      context.output());
  }

  // dx = dy * mask / (1 - rate)
  void backward(const OpContext& context) const override {
    if (!context.step().training) {
      context.backend().copy(context.output_grad(), context.input_grad(0), context.accumulate(0));
      return;
    }
    context.backend().dropout_backward(rate_, seed_, context.step().step, context.output_grad(),
                                       context.input_grad(0), context.accumulate(0));
  }

  bool backward_reads_input(int) const override { return false; }

 private:
  double rate_;
  uint64_t seed_;
};

}  // namespace

OpPtr dropout(double rate, uint64_t seed) {
  return std::make_shared<Dropout>(rate, seed);
}

}  // namespace trainyard::graph::ops
