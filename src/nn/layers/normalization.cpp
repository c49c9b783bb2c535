#include "nn/layers/normalization.h"

#include <cmath>

#include "core/error.h"
#include "graph/ops/ops.h"

namespace trainyard::nn {
namespace {

void require_epsilon(const std::string& layer, double epsilon) {
  if (!(epsilon > 0) || !std::isfinite(epsilon)) {
    throw ValueError(layer + ": epsilon must be a positive number, got " + std::to_string(epsilon));
  }
}

// Checks a [batch, ..., C] input whose last axis is `axis` and has a known size.
void require_last_axis(const std::string& layer, int64_t axis, const Shape& input_shape) {
  if (input_shape.rank() < 2 || input_shape[-1] <= 0) {
    throw ShapeError(layer +
                     " needs inputs [batch, ..., features] with a known feature size, got " +
                     input_shape.to_keras_string());
  }
  if (axis != -1 && axis != input_shape.rank() - 1) {
    throw ValueError(layer + ": only the last axis (-1) is supported, got axis=" +
                     std::to_string(axis) + " for inputs " + input_shape.to_keras_string());
  }
}

}  // namespace

BatchNormalization::BatchNormalization(BatchNormalizationOptions options)
    : Layer("BatchNormalization", options.name), options_(std::move(options)) {
  std::string what = "BatchNormalization '" + name() + "'";
  require_epsilon(what, options_.epsilon);
  if (!(options_.momentum >= 0 && options_.momentum <= 1)) {
    throw ValueError(what + ": momentum must be in [0, 1], got " +
                     std::to_string(options_.momentum));
  }
}

Shape BatchNormalization::compute_output_shape(const Shape& input_shape) const {
  require_last_axis("BatchNormalization '" + name() + "'", options_.axis, input_shape);
  return input_shape;
}

void BatchNormalization::build_weights(const Shape& input_shape) {
  compute_output_shape(input_shape);
  Shape features{input_shape[-1]};
  if (options_.scale) gamma_ = add_weight("gamma", features, options_.gamma_initializer);
  if (options_.center) beta_ = add_weight("beta", features, options_.beta_initializer);
  moving_mean_ = add_weight("moving_mean", features, options_.moving_mean_initializer, false);
  moving_variance_ =
      add_weight("moving_variance", features, options_.moving_variance_initializer, false);
}

graph::NodeId BatchNormalization::call(graph::Graph& graph, graph::NodeId input,
                                       const CallContext& context) {
  compute_output_shape(graph.spec(input).shape);
  std::vector<graph::NodeId> inputs{input};
  if (gamma_) inputs.push_back(weight_node(graph, gamma_));
  if (beta_) inputs.push_back(weight_node(graph, beta_));
  inputs.push_back(weight_node(graph, moving_mean_));
  inputs.push_back(weight_node(graph, moving_variance_));
  // Keras: training mode only when called with training=True on a trainable layer.
  graph::ops::BatchNormOptions op{.training = context.training && trainable(),
                                  .momentum = options_.momentum,
                                  .epsilon = options_.epsilon,
                                  .scale = options_.scale,
                                  .center = options_.center,
                                  .synchronized = options_.synchronized};
  return graph.add_op(graph::ops::batch_norm(op), inputs, name());
}

LayerNormalization::LayerNormalization(LayerNormalizationOptions options)
    : Layer("LayerNormalization", options.name), options_(std::move(options)) {
  require_epsilon("LayerNormalization '" + name() + "'", options_.epsilon);
}

Shape LayerNormalization::compute_output_shape(const Shape& input_shape) const {
  require_last_axis("LayerNormalization '" + name() + "'", options_.axis, input_shape);
  return input_shape;
}

void LayerNormalization::build_weights(const Shape& input_shape) {
  compute_output_shape(input_shape);
  Shape features{input_shape[-1]};
  if (options_.scale) gamma_ = add_weight("gamma", features, options_.gamma_initializer);
  if (options_.center) beta_ = add_weight("beta", features, options_.beta_initializer);
}

graph::NodeId LayerNormalization::call(graph::Graph& graph, graph::NodeId input,
                                       const CallContext&) {
  compute_output_shape(graph.spec(input).shape);
  std::vector<graph::NodeId> inputs{input};
  if (gamma_) inputs.push_back(weight_node(graph, gamma_));
  if (beta_) inputs.push_back(weight_node(graph, beta_));
  return graph.add_op(graph::ops::layer_norm(options_.epsilon, options_.scale, options_.center),
                      inputs, name());
}

}  // namespace trainyard::nn
