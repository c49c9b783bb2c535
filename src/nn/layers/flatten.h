// Flatten: [batch, d1, d2, ...] -> [batch, d1 * d2 * ...] without copying.
#pragma once

#include "nn/layer.h"

namespace trainyard::nn {

class Flatten final : public Layer {
 public:
  explicit Flatten(std::string name = "");
  Shape compute_output_shape(const Shape& input_shape) const override;
  graph::NodeId call(graph::Graph& graph, graph::NodeId input, const CallContext& context) override;
  bool supports_mixed_precision() const override { return true; }
};

// Reshape: [batch, ...] -> [batch, target_shape...]; target_shape excludes the batch and may
// hold one -1, inferred from the element count.
class Reshape final : public Layer {
 public:
  explicit Reshape(std::vector<int64_t> target_shape, std::string name = "");
  Shape compute_output_shape(const Shape& input_shape) const override;
  graph::NodeId call(graph::Graph& graph, graph::NodeId input, const CallContext& context) override;
  bool supports_mixed_precision() const override { return true; }
  const std::vector<int64_t>& target_shape() const { return target_shape_; }

 private:
  std::vector<int64_t> target_shape_;
};

}  // namespace trainyard::nn
