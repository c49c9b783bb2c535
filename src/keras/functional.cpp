#include "keras/functional.h"

#include <algorithm>

#include "core/error.h"
#include "keras/summary_table.h"
#include "nn/naming.h"

namespace trainyard::keras {
namespace {

std::vector<Shape> shapes_of(const std::vector<KerasTensor>& tensors) {
  std::vector<Shape> shapes;
  for (const KerasTensor& tensor : tensors) shapes.push_back(tensor.shape());
  return shapes;
}

}  // namespace

Functional::Functional(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs,
                       std::string name)
    : Model(name.empty() ? nn::unique_name("functional") : std::move(name)),
      inputs_(std::move(inputs)),
      outputs_(std::move(outputs)) {
  if (inputs_.empty() || outputs_.empty()) {
    throw ValueError("Functional '" + this->name() + "' needs at least one input and one output");
  }
  graph_ = detail::map_graph(inputs_, outputs_);
  set_built(shapes_of(inputs_));
}

Functional::Functional(const KerasTensor& input, const KerasTensor& output, std::string name)
    : Functional(std::vector<KerasTensor>{input}, std::vector<KerasTensor>{output},
                 std::move(name)) {}

Functional::Functional(std::vector<KerasTensor> inputs, const KerasTensor& output, std::string name)
    : Functional(std::move(inputs), std::vector<KerasTensor>{output}, std::move(name)) {}

Functional::Functional(const KerasTensor& input, std::vector<KerasTensor> outputs, std::string name)
    : Functional(std::vector<KerasTensor>{input}, std::move(outputs), std::move(name)) {}

std::vector<std::string> Functional::input_names() const {
  std::vector<std::string> names;
  for (const KerasTensor& input : inputs_) names.push_back(input.name());
  return names;
}

std::vector<std::string> Functional::output_names() const {
  std::vector<std::string> names;
  for (const KerasTensor& output : outputs_) names.push_back(output.name());
  return names;
}

std::vector<Shape> Functional::compute_output_shapes(const std::vector<Shape>& input_shapes) const {
  if (input_shapes.size() != inputs_.size()) {
    throw ValueError("model '" + name() + "' has " + std::to_string(inputs_.size()) +
                     " inputs, got " + std::to_string(input_shapes.size()) + " shapes");
  }
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const Shape& expected = inputs_[i].shape();
    if (input_shapes[i].rank() != expected.rank() ||
        input_shapes[i].with_batch(-1) != expected.with_batch(-1)) {
      throw ShapeError("model '" + name() + "': input '" + inputs_[i].name() + "' expects " +
                       expected.to_keras_string() + ", got " +
                       input_shapes[i].with_batch(-1).to_keras_string());
    }
  }
  return shapes_of(outputs_);
}

void Functional::build_layers(const std::vector<Shape>& input_shapes) {
  compute_output_shapes(input_shapes);  // the layers were built when called; check the shapes
}

std::vector<graph::NodeId> Functional::call(graph::Graph& graph,
                                            std::span<const graph::NodeId> inputs,
                                            const nn::CallContext& context) {
  TY_CHECK(inputs.size() == inputs_.size(), "Functional::call with the wrong number of inputs");
  std::map<const detail::LayerCall*, graph::NodeId> produced;
  for (size_t i = 0; i < inputs_.size(); ++i) produced[inputs_[i].producer().get()] = inputs[i];
  for (const detail::LayerCall* layer_call : graph_.calls) {
    if (produced.count(layer_call)) continue;
    std::vector<graph::NodeId> arguments;
    for (const KerasTensor& input : layer_call->inputs) {
      arguments.push_back(produced.at(input.producer().get()));
    }
    nn::Layer& layer = *layer_call->layer;
    produced[layer_call] = layer.call(graph, std::span<const graph::NodeId>(arguments), context);
  }
  std::vector<graph::NodeId> results;
  for (const KerasTensor& output : outputs_)
    results.push_back(produced.at(output.producer().get()));
  return results;
}

Model::SummaryLayout Functional::summary_layout() const {
  SummaryLayout layout;
  // Keras's rule: a model reads as a chain when every depth holds one call with at most one input
  // and no layer is called twice; otherwise it gets a "Connected to" column.
  std::map<int, int> calls_at_depth;
  std::map<const nn::Layer*, std::vector<const detail::LayerCall*>> calls_of_layer;
  for (const detail::LayerCall* call : graph_.calls) {
    int& count = calls_at_depth[graph_.depth.at(call)];
    ++count;
    if (count > 1 || call->inputs.size() > 1) layout.sequential_like = false;
    calls_of_layer[call->layer.get()].push_back(call);
  }
  for (auto& [layer, calls] : calls_of_layer) {
    if (calls.size() > 1) layout.sequential_like = false;
    std::sort(calls.begin(), calls.end(),
              [&](const detail::LayerCall* a, const detail::LayerCall* b) {
                return graph_.node_index.at(a) < graph_.node_index.at(b);
              });
  }
  for (const nn::LayerPtr& layer : graph_.layers) {
    const auto& calls = calls_of_layer.at(layer.get());
    layout.output_shapes.push_back(detail::format_summary_shape(calls.back()->output_shape));
    std::string connections;
    for (const detail::LayerCall* call : calls) {
      for (const KerasTensor& input : call->inputs) {
        if (!connections.empty()) connections += ", ";
        connections += input.name() + "[" +
                       std::to_string(graph_.node_index.at(input.producer().get())) + "][0]";
      }
    }
    layout.connections.push_back(connections.empty() ? "-" : connections);
  }
  return layout;
}

}  // namespace trainyard::keras
