// Embedding: (indices [B...], table [V, D]) -> table rows [B..., D]. Only the table gets a
// gradient: dy rows scatter-added at their indices.
#include "graph/ops/ops.h"
#include "graph/ops/shape_checks.h"

namespace trainyard::graph::ops {
namespace {

class Embedding final : public Op {
 public:
  explicit Embedding(std::string layer) : layer_(std::move(layer)) {}

  std::string name() const override { return "Embedding"; }

  TensorSpec infer(std::span<const TensorSpec> inputs) const override {
    require_input_count(name(), inputs, 2, 2);
    const TensorSpec& indices = inputs[0];
    const TensorSpec& table = inputs[1];
    if (table.shape.rank() != 2 || indices.dtype == DType::kFloat16 ||
        indices.dtype == DType::kBFloat16) {
      throw ShapeError("Embedding: inputs " + describe_specs(inputs) +
                       " do not fit indices [...] (float32/64 or integer) and table [V, D]");
    }
    require_float(name(), table);
    std::vector<int64_t> dims = indices.shape.dims();
    dims.push_back(table.shape[1]);
    return {Shape(std::move(dims)), table.dtype};
  }

  void forward(const OpContext& context) const override {
    try {
      context.backend().embedding_forward(context.input(0), context.input(1), context.output());
    } catch (const ValueError& error) {
      throw ValueError(where() + error.what());
    }
  }

  // dtable [V, D] = sum over positions p of dy[p, :] at row indices[p]
  void backward(const OpContext& context) const override {
    if (!context.input_grad(1).defined()) return;
    try {
      context.backend().embedding_backward(context.input(0), context.output_grad(),
                                           context.input_grad(1), context.accumulate(1));
    } catch (const ValueError& error) {
      throw ValueError(where() + error.what());
    }
  }

  bool differentiable(int input) const override { return input == 1; }
  bool backward_reads_input(int input) const override { return input == 0; }

 private:
  std::string where() const { return layer_.empty() ? "" : "Embedding '" + layer_ + "': "; }

  std::string layer_;
};

}  // namespace

OpPtr embedding(std::string layer) {
  return std::make_shared<Embedding>(std::move(layer));
}

}  // namespace trainyard::graph::ops
