// Reshape: the input's elements viewed with another shape. Forward is free (the planner
// aliases the buffer); backward copies the gradient back into the input's shape.
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

class Reshape final : public Op {
 public:
  explicit Reshape(Shape shape) : shape_(std::move(shape)) {}

  std::string name() const override { return "Reshape" + shape_.to_string(); }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    require_input_count(name(), inputs, 1, 1);
    if (inputs[0].shape.num_elements() != shape_.num_elements()) {
      throw ShapeError("Reshape: cannot view " + inputs[0].shape.to_string() + " (" +
                       std::to_string(inputs[0].shape.num_elements()) + " elements) as " +
                       shape_.to_string());
    }
    return {shape_, inputs[0].dtype};
  }

  void forward(const OpContext&) const override {}

  // dx = dy viewed in x's shape
  void backward(const OpContext& context) const override {
    context.backend().copy(context.output_grad(), context.input_grad(0), context.accumulate(0));
  }

  bool backward_reads_input(int) const override { return false; }
  bool is_view() const override { return true; }

 private:
  Shape shape_;
};

}  // namespace

OpPtr reshape(Shape shape) {
  return std::make_shared<Reshape>(std::move(shape));
}

}  // namespace trainyard::graph::ops
