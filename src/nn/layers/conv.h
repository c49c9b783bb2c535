// Convolution layers, channels_last (Keras's default data format).
// Conv2D: [batch, H, W, C] -> [batch, OH, OW, filters]; kernel [KH, KW, C, filters] (HWIO).
// Conv1D: [batch, steps, C] -> [batch, out steps, filters]; kernel [K, C, filters].
#pragma once

#include <optional>

#include "backend/window.h"
#include "nn/layer.h"
#include "nn/layers/regularizers.h"
#include "nn/layers/window_size.h"

namespace trainyard::nn {

struct ConvOptions {
  Size2 strides = 1;              // Conv1D uses the width only
  std::string padding = "valid";  // "valid", "same"; Conv1D also "causal"
  Size2 dilation_rate = 1;
  std::string activation = "linear";
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  std::optional<Regularizer> kernel_regularizer;  // unset: none
  std::optional<Regularizer> bias_regularizer;    // unset: none
  std::string name;
};

class Conv2D final : public Layer {
 public:
  // REQUIRES: filters > 0 and a valid padding name (ValueError otherwise).
  Conv2D(int64_t filters, Size2 kernel_size, ConvOptions options = {});

  int64_t filters() const { return filters_; }
  const Size2& kernel_size() const { return kernel_size_; }
  const ConvOptions& options() const { return options_; }
  Shape compute_output_shape(const Shape& input_shape) const override;
  graph::NodeId call(graph::Graph& graph, graph::NodeId input, const CallContext& context) override;
  // The kernel and bias penalties, when regularized and trainable.
  std::vector<graph::NodeId> losses(graph::Graph& graph) const override;

 private:
  void build_weights(const Shape& input_shape) override;
  backend::Window2d window_for(const Shape& input_shape) const;

  int64_t filters_;
  Size2 kernel_size_;
  ConvOptions options_;
  backend::Padding padding_;
  backend::Activation activation_;
  graph::VariablePtr kernel_;
  graph::VariablePtr bias_;
};

class Conv1D final : public Layer {
 public:
  Conv1D(int64_t filters, int64_t kernel_size, ConvOptions options = {});

  int64_t filters() const { return filters_; }
  int64_t kernel_size() const { return kernel_size_; }
  const ConvOptions& options() const { return options_; }
  Shape compute_output_shape(const Shape& input_shape) const override;
  graph::NodeId call(graph::Graph& graph, graph::NodeId input, const CallContext& context) override;
  // The kernel and bias penalties, when regularized and trainable.
  std::vector<graph::NodeId> losses(graph::Graph& graph) const override;

 private:
  void build_weights(const Shape& input_shape) override;
  backend::Window2d window_for(const Shape& input_shape) const;

  int64_t filters_;
  int64_t kernel_size_;
  ConvOptions options_;
  backend::Padding padding_;
  backend::Activation activation_;
  graph::VariablePtr kernel_;
  graph::VariablePtr bias_;
};

}  // namespace trainyard::nn
