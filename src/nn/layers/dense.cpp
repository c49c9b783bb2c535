#include "nn/layers/dense.h"

#include "core/error.h"
#include "graph/ops/ops.h"
#include "nn/activations.h"

namespace trainyard::nn {

Dense::Dense(int64_t units, DenseOptions options)
    : Layer("Dense", options.name),
      units_(units),
      options_(std::move(options)),
      activation_(parse_activation(options_.activation)) {
  if (units <= 0) {
    throw ValueError("Dense '" + name() + "': units must be a positive integer, got " +
                     std::to_string(units));
  }
}

Shape Dense::compute_output_shape(const Shape& input_shape) const {
  if (input_shape.rank() < 2) {
    throw ShapeError("Dense '" + name() + "' needs inputs of rank >= 2 ([batch, features]), got " +
                     input_shape.to_keras_string());
  }
  Shape output = input_shape;
  output[-1] = units_;
  return output;
}

void Dense::build_weights(const Shape& input_shape) {
  compute_output_shape(input_shape);
  kernel_ = add_weight("kernel", Shape{input_shape[-1], units_}, options_.kernel_initializer);
  if (options_.use_bias) bias_ = add_weight("bias", Shape{units_}, options_.bias_initializer);
}

graph::NodeId Dense::call(graph::Graph& graph, graph::NodeId input, const CallContext&) {
  const graph::NodeId x = autocast(graph, input);
  const graph::NodeId kernel_variable = graph.add_variable(kernel_);
  const graph::NodeId kernel = compute_copy(graph, kernel_variable);
  // A bfloat16 kernel copied from a float32 variable: the product writes the kernel gradient
  // to the variable directly (see ops::affine_with_master_kernel).
  const bool master = kernel != kernel_variable && graph.spec(kernel).dtype == DType::kBFloat16 &&
                      kernel_->value.dtype() == DType::kFloat32;
  std::vector<graph::NodeId> inputs{x, kernel};
  if (master) inputs.push_back(kernel_variable);
  if (bias_) inputs.push_back(weight_node(graph, bias_));
  const backend::Activation fused = fused_activation(activation_);
  graph::NodeId output = graph.add_op(
      master ? graph::ops::affine_with_master_kernel(fused) : graph::ops::affine(fused), inputs,
      name());
  const backend::Activation remaining = remaining_activation(activation_);
  if (remaining.kind == backend::ActivationKind::kLinear) return output;
  return graph.add_op(graph::ops::activation(remaining), {output}, name() + "/activation");
}

std::vector<graph::NodeId> Dense::losses(graph::Graph& graph) const {
  std::vector<graph::NodeId> penalties;
  if (options_.kernel_regularizer) {
    add_weight_penalty(graph, kernel_, *options_.kernel_regularizer, penalties);
  }
  if (options_.bias_regularizer) {
    add_weight_penalty(graph, bias_, *options_.bias_regularizer, penalties);
  }
  return penalties;
}

}  // namespace trainyard::nn
