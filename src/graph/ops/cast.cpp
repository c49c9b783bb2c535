// Cast: y = x converted to another float dtype, the op mixed precision inserts between
// float32 variables and bfloat16 computation. Its gradient is cast back to x's dtype.
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

class CastOp final : public Op {
 public:
  explicit CastOp(DType dtype) : dtype_(dtype) {
    if (dtype != DType::kFloat32 && dtype != DType::kFloat64 && dtype != DType::kBFloat16) {
      throw ValueError("Cast: target dtype must be float32, float64 or bfloat16, got " +
                       std::string(dtype_name(dtype)));
    }
  }

  std::string name() const override { return "Cast(" + std::string(dtype_name(dtype_)) + ")"; }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    require_input_count(name(), inputs, 1, 1);
    require_float(name(), inputs[0]);
    return {inputs[0].shape, dtype_};
  }

  void forward(const OpContext& context) const override {
    context.backend().cast(context.input(0), context.output(), false);
  }

  // dx (+)= dy converted back to x's dtype.
  void backward(const OpContext& context) const override {
    if (!context.input_grad(0).defined()) return;
    context.backend().cast(context.output_grad(), context.input_grad(0), context.accumulate(0));
  }

  bool backward_reads_input(int) const override { return false; }

 private:
  DType dtype_;
};

}  // namespace

OpPtr cast(DType dtype) {
  return std::make_shared<CastOp>(dtype);
}

}  // namespace trainyard::graph::ops
