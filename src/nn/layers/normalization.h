// Normalization layers over the last axis (Keras's axis=-1, the channels_last features).
// BatchNormalization: [batch, ..., C] -> same shape; weights gamma [C], beta [C] (trainable)
// and moving_mean [C], moving_variance [C] (non-trainable), in that Keras order.
// LayerNormalization: [batch, ..., C] -> same shape; weights gamma [C], beta [C].
#pragma once

#include "nn/layer.h"

namespace trainyard::nn {

struct BatchNormalizationOptions {
  int64_t axis = -1;  // only the last axis is supported (-1, or rank - 1)
  double momentum = 0.99;
  double epsilon = 1e-3;
  bool center = true;  // learn beta
  bool scale = true;   // learn gamma
  Initializer beta_initializer = "zeros";
  Initializer gamma_initializer = "ones";
  Initializer moving_mean_initializer = "zeros";
  Initializer moving_variance_initializer = "ones";
  // Keras's synchronized=True: under a data-parallel strategy, training steps normalize with
  // the statistics of the global batch across every replica (SyncBatchNormalization), so the
  // replicas together compute what one model on the global batch would. CPU devices only.
  bool synchronized = false;
  std::string name;  // empty: "batch_normalization", "batch_normalization_1", ...
};

// Keras's BatchNormalization. A call in training mode (context.training and the layer is
// trainable) normalizes with the batch's mean and biased variance and moves the moving
// statistics toward them each time the step runs: moving = moving * momentum + batch *
// (1 - momentum). Otherwise, and always once frozen (set_trainable(false)), it normalizes
// with the moving statistics, as Keras does since TF 2.0.
class BatchNormalization final : public Layer {
 public:
  // REQUIRES: epsilon > 0 and 0 <= momentum <= 1 (ValueError otherwise).
  explicit BatchNormalization(BatchNormalizationOptions options = {});

  const BatchNormalizationOptions& options() const { return options_; }
  Shape compute_output_shape(const Shape& input_shape) const override;
  graph::NodeId call(graph::Graph& graph, graph::NodeId input, const CallContext& context) override;

  // Null when the option that creates them (scale, center) is off.
  const graph::VariablePtr& gamma() const { return gamma_; }
  const graph::VariablePtr& beta() const { return beta_; }
  const graph::VariablePtr& moving_mean() const { return moving_mean_; }
  const graph::VariablePtr& moving_variance() const { return moving_variance_; }

 private:
  void build_weights(const Shape& input_shape) override;

  BatchNormalizationOptions options_;
  graph::VariablePtr gamma_;
  graph::VariablePtr beta_;
  graph::VariablePtr moving_mean_;
  graph::VariablePtr moving_variance_;
};

struct LayerNormalizationOptions {
  int64_t axis = -1;      // only the last axis is supported (-1, or rank - 1)
  double epsilon = 1e-3;  // Keras's default, not PyTorch's 1e-5
  bool center = true;
  bool scale = true;
  Initializer beta_initializer = "zeros";
  Initializer gamma_initializer = "ones";
  std::string name;
};

// Keras's LayerNormalization: each sample's last axis normalized by its own mean and biased
// variance, the same in training and inference.
class LayerNormalization final : public Layer {
 public:
  // REQUIRES: epsilon > 0 (ValueError otherwise).
  explicit LayerNormalization(LayerNormalizationOptions options = {});

  const LayerNormalizationOptions& options() const { return options_; }
  Shape compute_output_shape(const Shape& input_shape) const override;
  graph::NodeId call(graph::Graph& graph, graph::NodeId input, const CallContext& context) override;

 private:
  void build_weights(const Shape& input_shape) override;

  LayerNormalizationOptions options_;
  graph::VariablePtr gamma_;
  graph::VariablePtr beta_;
};

}  // namespace trainyard::nn
