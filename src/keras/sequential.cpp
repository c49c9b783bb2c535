#include "keras/sequential.h"

#include "core/error.h"
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

Shape Sequential::compute_output_shape(const Shape& input_shape) const {
  Shape shape = input_shape;
  for (const auto& layer : layers_) shape = layer->compute_output_shape(shape);
  return shape;
}

void Sequential::build_layers(const Shape& input_shape) {
  if (layers_.empty()) throw ValueError("Sequential '" + name() + "' has no layers");
  Shape shape = input_shape;
  for (const auto& layer : layers_) {
    layer->build(shape);
    shape = layer->compute_output_shape(shape);
  }
}

graph::NodeId Sequential::call(graph::Graph& graph, graph::NodeId input,
                               const nn::CallContext& context) {
  graph::NodeId output = input;
  for (const auto& layer : layers_) output = layer->call(graph, output, context);
  return output;
}

}  // namespace trainyard::keras
