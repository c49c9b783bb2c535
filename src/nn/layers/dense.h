// Dense: output = activation(input @ kernel + bias) over the last axis.
// Input [batch, ..., K] -> output [batch, ..., units]; kernel [K, units], bias [units].
#pragma once

#include <optional>

#include "nn/layer.h"
#include "nn/layers/regularizers.h"

namespace trainyard::nn {

struct DenseOptions {
  std::string activation = "linear";
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  std::optional<Regularizer> kernel_regularizer;  // unset: none
  std::optional<Regularizer> bias_regularizer;    // unset: none
  std::string name;                               // empty: "dense", "dense_1", ...
};

class Dense final : public Layer {
 public:
  // REQUIRES: units > 0 (ValueError otherwise).
  Dense(int64_t units, DenseOptions options = {});

  int64_t units() const { return units_; }
  const DenseOptions& options() const { return options_; }
  Shape compute_output_shape(const Shape& input_shape) const override;
  graph::NodeId call(graph::Graph& graph, graph::NodeId input, const CallContext& context) override;
  bool supports_mixed_precision() const override { return true; }
  // The kernel and bias penalties, when regularized and trainable.
  std::vector<graph::NodeId> losses(graph::Graph& graph) const override;

 private:
  void build_weights(const Shape& input_shape) override;

  int64_t units_;
  DenseOptions options_;
  backend::Activation activation_;
  graph::VariablePtr kernel_;
  graph::VariablePtr bias_;
};

}  // namespace trainyard::nn
