#include "nn/layers/activation.h"

#include "graph/ops/ops.h"
#include "nn/activations.h"

namespace trainyard::nn {

ActivationLayer::ActivationLayer(const std::string& activation, std::string name)
    : Layer("Activation", std::move(name)),
      activation_name_(activation),
      activation_(parse_activation(activation)) {}

graph::NodeId ActivationLayer::call(graph::Graph& graph, graph::NodeId input, const CallContext&) {
  input = autocast(graph, input);
  if (activation_.kind == backend::ActivationKind::kLinear) return input;
  return graph.add_op(graph::ops::activation(activation_), {input}, name());
}

}  // namespace trainyard::nn
