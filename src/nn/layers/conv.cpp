#include "nn/layers/conv.h"

#include "core/error.h"
#include "graph/ops/ops.h"
#include "nn/activations.h"

namespace trainyard::nn {
namespace {

void require_positive(const std::string& layer, const char* what, int64_t value) {
  if (value <= 0) {
    throw ValueError(layer + ": " + what + " must be a positive integer, got " +
                     std::to_string(value));
  }
}

// Adds the activation after `output` unless it is linear.
graph::NodeId activate(graph::Graph& graph, graph::NodeId output,
                       const backend::Activation& activation, const std::string& name) {
  if (activation.kind == backend::ActivationKind::kLinear) return output;
  return graph.add_op(graph::ops::activation(activation), {output}, name + "/activation");
}

std::vector<graph::NodeId> weight_penalties(graph::Graph& graph, const ConvOptions& options,
                                            const graph::VariablePtr& kernel,
                                            const graph::VariablePtr& bias) {
  std::vector<graph::NodeId> penalties;
  if (options.kernel_regularizer) {
    add_weight_penalty(graph, kernel, *options.kernel_regularizer, penalties);
  }
  if (options.bias_regularizer)
    add_weight_penalty(graph, bias, *options.bias_regularizer, penalties);
  return penalties;
}

}  // namespace

Conv2D::Conv2D(int64_t filters, Size2 kernel_size, ConvOptions options)
    : Layer("Conv2D", options.name),
      filters_(filters),
      kernel_size_(kernel_size),
      options_(std::move(options)),
      padding_(backend::parse_padding(options_.padding)),
      activation_(parse_activation(options_.activation)) {
  require_positive("Conv2D '" + name() + "'", "filters", filters);
  require_positive("Conv2D '" + name() + "'", "kernel_size",
                   std::min(kernel_size.height, kernel_size.width));
  if (padding_ == backend::Padding::kCausal) {
    throw ValueError("Conv2D '" + name() + "': padding \"causal\" is only for Conv1D");
  }
}

backend::Window2d Conv2D::window_for(const Shape& input_shape) const {
  if (input_shape.rank() != 4) {
    throw ShapeError("Conv2D '" + name() + "' needs inputs [batch, height, width, channels], got " +
                     input_shape.to_keras_string());
  }
  return backend::make_window2d(
      "Conv2D '" + name() + "'", input_shape[0], input_shape[1], input_shape[2], input_shape[3],
      {kernel_size_.height, kernel_size_.width, options_.strides.height, options_.strides.width,
       options_.dilation_rate.height, options_.dilation_rate.width, padding_});
}

Shape Conv2D::compute_output_shape(const Shape& input_shape) const {
  backend::Window2d window = window_for(input_shape.with_batch(1));
  return Shape{input_shape[0], window.out_height, window.out_width, filters_};
}

void Conv2D::build_weights(const Shape& input_shape) {
  compute_output_shape(input_shape);
  kernel_ =
      add_weight("kernel", Shape{kernel_size_.height, kernel_size_.width, input_shape[3], filters_},
                 options_.kernel_initializer);
  if (options_.use_bias) bias_ = add_weight("bias", Shape{filters_}, options_.bias_initializer);
}

graph::NodeId Conv2D::call(graph::Graph& graph, graph::NodeId input, const CallContext&) {
  backend::Window2d window = window_for(graph.spec(input).shape);
  std::vector<graph::NodeId> inputs{input, weight_node(graph, kernel_)};
  if (bias_) inputs.push_back(weight_node(graph, bias_));
  graph::NodeId output =
      graph.add_op(graph::ops::conv2d(window, fused_activation(activation_)), inputs, name());
  return activate(graph, output, remaining_activation(activation_), name());
}

std::vector<graph::NodeId> Conv2D::losses(graph::Graph& graph) const {
  return weight_penalties(graph, options_, kernel_, bias_);
}

Conv1D::Conv1D(int64_t filters, int64_t kernel_size, ConvOptions options)
    : Layer("Conv1D", options.name),
      filters_(filters),
      kernel_size_(kernel_size),
      options_(std::move(options)),
      padding_(backend::parse_padding(options_.padding)),
      activation_(parse_activation(options_.activation)) {
  require_positive("Conv1D '" + name() + "'", "filters", filters);
  require_positive("Conv1D '" + name() + "'", "kernel_size", kernel_size);
}

backend::Window2d Conv1D::window_for(const Shape& input_shape) const {
  if (input_shape.rank() != 3) {
    throw ShapeError("Conv1D '" + name() + "' needs inputs [batch, steps, channels], got " +
                     input_shape.to_keras_string());
  }
  // A sequence is an image one row high: the kernel, stride and dilation run along width.
  return backend::make_window2d(
      "Conv1D '" + name() + "'", input_shape[0], 1, input_shape[1], input_shape[2],
      {1, kernel_size_, 1, options_.strides.width, 1, options_.dilation_rate.width, padding_});
}

Shape Conv1D::compute_output_shape(const Shape& input_shape) const {
  backend::Window2d window = window_for(input_shape.with_batch(1));
  return Shape{input_shape[0], window.out_width, filters_};
}

void Conv1D::build_weights(const Shape& input_shape) {
  compute_output_shape(input_shape);
  kernel_ = add_weight("kernel", Shape{kernel_size_, input_shape[2], filters_},
                       options_.kernel_initializer);
  if (options_.use_bias) bias_ = add_weight("bias", Shape{filters_}, options_.bias_initializer);
}

graph::NodeId Conv1D::call(graph::Graph& graph, graph::NodeId input, const CallContext&) {
  const Shape shape = graph.spec(input).shape;  // a copy: add_op may move the nodes
  backend::Window2d window = window_for(shape);
  graph::NodeId image = graph.add_op(graph::ops::reshape(Shape{shape[0], 1, shape[1], shape[2]}),
                                     {input}, name() + "/as_image");
  graph::NodeId kernel =
      graph.add_op(graph::ops::reshape(Shape{1, kernel_size_, shape[2], filters_}),
                   {weight_node(graph, kernel_)}, name() + "/kernel_as_image");
  std::vector<graph::NodeId> inputs{image, kernel};
  if (bias_) inputs.push_back(weight_node(graph, bias_));
  graph::NodeId output =
      graph.add_op(graph::ops::conv2d(window, fused_activation(activation_)), inputs, name());
  graph::NodeId sequence =
      graph.add_op(graph::ops::reshape(Shape{shape[0], window.out_width, filters_}), {output},
                   name() + "/as_sequence");
  return activate(graph, sequence, remaining_activation(activation_), name());
}

std::vector<graph::NodeId> Conv1D::losses(graph::Graph& graph) const {
  return weight_penalties(graph, options_, kernel_, bias_);
}

}  // namespace trainyard::nn
