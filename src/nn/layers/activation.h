// Activation: applies a named activation ("relu", "softmax", ...) to its input.
#pragma once

#include "nn/layer.h"

namespace trainyard::nn {

class ActivationLayer final : public Layer {
 public:
  explicit ActivationLayer(const std::string& activation, std::string name = "");
  const std::string& activation() const { return activation_name_; }
  Shape compute_output_shape(const Shape& input_shape) const override { return input_shape; }
  graph::NodeId call(graph::Graph& graph, graph::NodeId input, const CallContext& context) override;
  bool supports_mixed_precision() const override { return true; }

 private:
  std::string activation_name_;
  backend::Activation activation_;
};

}  // namespace trainyard::nn
