// Loss: a scalar from predictions, targets and optional per-row sample weights, with
// Keras's sum_over_batch_size reduction. Only the predictions receive a gradient.
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

class LossOp final : public Op {
 public:
  explicit LossOp(backend::Loss loss) : loss_(loss) {}

  std::string name() const override { return "Loss"; }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    require_input_count(name(), inputs, 2, 3);
    const TensorSpec& y_pred = inputs[0];
    const TensorSpec& y_true = inputs[1];
    require_float(name(), y_pred);
    int64_t columns = y_pred.shape.rank() == 0 ? 1 : y_pred.shape[-1];
    int64_t rows = columns == 0 ? 0 : y_pred.shape.num_elements() / columns;
    bool sparse = loss_.kind == backend::LossKind::kSparseCategoricalCrossentropy;
    bool ok = sparse ? y_true.shape.num_elements() == rows
                     : y_true.shape.num_elements() == y_pred.shape.num_elements() &&
                           y_true.dtype == y_pred.dtype;
    if (inputs.size() == 3) {
      ok = ok && inputs[2].shape.num_elements() == rows && inputs[2].dtype == y_pred.dtype;
    }
    if (!ok) {
      throw ShapeError("Loss: predictions, targets and sample weights " + describe_specs(inputs) +
                       (sparse
                            ? " need one class index and weight per row of predictions"
                            : " need targets shaped like the predictions and one weight per row"));
    }
    return {Shape{}, y_pred.dtype};
  }

  void forward(const OpContext& context) const override {
    context.backend().loss_forward(loss_, context.input(0), context.input(1),
                                   sample_weight(context), context.output());
  }

  void backward(const OpContext& context) const override {
    context.backend().loss_backward(loss_, context.input(0), context.input(1),
                                    sample_weight(context), context.output_grad(),
                                    context.input_grad(0), context.accumulate(0));
  }

  bool differentiable(int input) const override { return input == 0; }

 private:
  static const Tensor& sample_weight(const OpContext& context) {
    static const Tensor kNone;
    return context.num_inputs() == 3 ? context.input(2) : kNone;
  }

  backend::Loss loss_;
};

}  // namespace

OpPtr loss(backend::Loss loss) {
  return std::make_shared<LossOp>(loss);
}

}  // namespace trainyard::graph::ops
