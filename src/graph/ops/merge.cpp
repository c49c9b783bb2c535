// Ops that take several tensors: Add (elementwise sum of equal shapes), AddN (sum of
// scalars) and Concatenate (join along one axis).
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

// target = source, or target += source, for tensors of one element count. The backend's
// overwriting copy views the source in the target's shape, and that view's Shape is a heap
// allocation in every step; these paths allocate nothing. A tensor is the slice of itself
// at offset 0 along axis 0.
void copy_whole(backend::Backend& backend, const Tensor& source, const Tensor& target,
                bool accumulate) {
  if (accumulate) {
    backend.copy(source, target, true);
  } else if (target.shape().rank() > 0 && source.shape() == target.shape()) {
    backend.extract_slice(source, 0, 0, target, false);
  } else {
    backend.fill(target, 0.0);  // scalars of different ranks ([] and [1])
    backend.copy(source, target, true);
  }
}

// Add and AddN: out = x_0 + ... + x_{n-1}. AddN takes scalars of any rank (one element).
class Sum final : public Op {
 public:
  explicit Sum(bool scalars) : scalars_(scalars) {}

  std::string name() const override { return scalars_ ? "AddN" : "Add"; }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    if (inputs.empty()) throw ShapeError(name() + ": needs at least one input");
    require_float(name(), inputs[0]);
    for (const TensorSpec& input : inputs) {
      bool ok = input.dtype == inputs[0].dtype &&
                (scalars_ ? input.shape.num_elements() == 1 : input.shape == inputs[0].shape);
      if (!ok) {
        throw ShapeError(name() + ": inputs " + describe_specs(inputs) +
                         (scalars_ ? " must all be scalars of one dtype"
                                   : " must all have the same shape and dtype"));
      }
    }
    return scalars_ ? TensorSpec{Shape{}, inputs[0].dtype} : inputs[0];
  }

  void forward(const OpContext& context) const override {
    auto& backend = context.backend();
    copy_whole(backend, context.input(0), context.output(), false);
    for (int i = 1; i < context.num_inputs(); ++i) {
      backend.copy(context.input(i), context.output(), true);
    }
  }

  // dx_i = dy for every input
  void backward(const OpContext& context) const override {
    for (int i = 0; i < context.num_inputs(); ++i) {
      if (!context.input_grad(i).defined()) continue;
      copy_whole(context.backend(), context.output_grad(), context.input_grad(i),
                 context.accumulate(i));
    }
  }

  bool backward_reads_input(int) const override { return false; }

 private:
  bool scalars_;
};

class Concatenate final : public Op {
 public:
  explicit Concatenate(int64_t axis) : axis_(axis) {}

  std::string name() const override { return "Concatenate(axis=" + std::to_string(axis_) + ")"; }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    if (inputs.empty()) throw ShapeError(name() + ": needs at least one input");
    require_float(name(), inputs[0]);
    int64_t rank = inputs[0].shape.rank();
    if (axis_ < -rank || axis_ >= rank) {
      throw ShapeError(name() + ": axis " + std::to_string(axis_) + " is out of range for inputs " +
                       describe_specs(inputs));
    }
    int64_t axis = resolved_axis(rank);
    Shape out = inputs[0].shape;
    out[axis] = 0;
    for (const TensorSpec& input : inputs) {
      bool ok = input.dtype == inputs[0].dtype && input.shape.rank() == rank;
      for (int64_t i = 0; ok && i < rank; ++i) {
        ok = i == axis || input.shape[i] == inputs[0].shape[i];
      }
      if (!ok) {
        throw ShapeError(name() + ": inputs " + describe_specs(inputs) +
                         " must match in every dimension except axis " + std::to_string(axis) +
                         ", and share a dtype");
      }
      out[axis] += input.shape[axis];
    }
    return {out, inputs[0].dtype};
  }

  void forward(const OpContext& context) const override {
    int64_t axis = resolved_axis(context.output().shape().rank());
    int64_t offset = 0;
    for (int i = 0; i < context.num_inputs(); ++i) {
      context.backend().insert_slice(context.input(i), axis, offset, context.output());
      offset += context.input(i).shape()[axis];
    }
  }

  // dx_i = dy[..., offset_i : offset_i + len_i, ...] along the axis
  void backward(const OpContext& context) const override {
    int64_t axis = resolved_axis(context.output().shape().rank());
    int64_t offset = 0;
    for (int i = 0; i < context.num_inputs(); ++i) {
      // Only the input's shape is read here; its values are not needed.
      int64_t length = context.input(i).shape()[axis];
      if (context.input_grad(i).defined()) {
        context.backend().extract_slice(context.output_grad(), axis, offset, context.input_grad(i),
                                        context.accumulate(i));
      }
      offset += length;
    }
  }

  bool backward_reads_input(int) const override { return false; }

 private:
  int64_t resolved_axis(int64_t rank) const { return axis_ < 0 ? axis_ + rank : axis_; }

  int64_t axis_;
};

}  // namespace

OpPtr add() {
  return std::make_shared<Sum>(false);
}

OpPtr add_n() {
  return std::make_shared<Sum>(true);
}

OpPtr concatenate(int64_t axis) {
  return std::make_shared<Concatenate>(axis);
}

}  // namespace trainyard::graph::ops
