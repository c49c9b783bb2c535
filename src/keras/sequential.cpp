#include "keras/sequential.h"

#include "core/error.h"
#include "keras/summary_table.h"
#include "nn/naming.h"

namespace trainyard::keras {

Sequential::Sequential(std::vector<nn::LayerPtr> layers, std::string name)
    : Model(name.empty() ? nn::unique_name("sequential") : std::move(name)) {
  for (auto& layer : layers) add(std::move(layer));
}

void Sequential::add(nn::LayerPtr layer) {
  if (!layer) throw ValueError("Sequential '" + this->name() + "': cannot add a null layer");
  if (built()) {
    throw ValueError("Sequential '" + this->name() + "': cannot add layer '" + layer->name() +
                     "' after the model is built");
  }
  for (const auto& existing : layers_) {
    if (existing->name() == layer->name()) {
      throw ValueError("Sequential '" + this->name() + "': layer names must be unique, '" +
                       layer->name() + "' is already in the model");
    }
  }
  layers_.push_back(std::move(layer));
}

std::vector<std::string> Sequential::input_names() const {
  return {"input_layer"};
}

std::vector<std::string> Sequential::output_names() const {
  return {layers_.empty() ? std::string("output") : layers_.back()->name()};
}

std::vector<Shape> Sequential::compute_output_shapes(const std::vector<Shape>& input_shapes) const {
  if (input_shapes.size() != 1) {
    throw ValueError("Sequential '" + name() + "' takes one input, got " +
                     std::to_string(input_shapes.size()) + " shapes");
  }
  Shape shape = input_shapes[0];
  for (const auto& layer : layers_) shape = layer->compute_output_shape(shape);
  return {shape};
}

void Sequential::build_layers(const std::vector<Shape>& input_shapes) {
  if (layers_.empty()) throw ValueError("Sequential '" + name() + "' has no layers");
  if (input_shapes.size() != 1) {
    throw ValueError("Sequential '" + name() + "' takes one input, got " +
                     std::to_string(input_shapes.size()) + " shapes");
  }
  Shape shape = input_shapes[0];
  for (const auto& layer : layers_) {
    layer->build(shape);
    shape = layer->compute_output_shape(shape);
  }
}

std::vector<graph::NodeId> Sequential::call(graph::Graph& graph,
                                            std::span<const graph::NodeId> inputs,
                                            const nn::CallContext& context) {
  TY_CHECK(inputs.size() == 1, "Sequential::call takes one input");
  graph::NodeId output = inputs[0];
  for (const auto& layer : layers_) output = layer->call(graph, output, context);
  return {output};
}

Model::SummaryLayout Sequential::summary_layout() const {
  SummaryLayout layout;
  for (const auto& layer : layers_) {
    // A layer knows its output shape once built (Keras shows "?" before).
    const nn::Layer& base = *layer;
    layout.output_shapes.push_back(layer->built()
                                       ? detail::format_summary_shape(base.compute_output_shape(
                                             std::span<const Shape>(layer->input_shapes())))
                                       : "?");
  }
  return layout;
}

}  // namespace trainyard::keras
