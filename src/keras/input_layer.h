// InputLayer: the layer behind keras.Input. It holds the input's shape and passes its input
// through; a Functional model lists it among its layers, as Keras does.
#pragma once

#include "nn/layer.h"

namespace trainyard::keras {

class InputLayer final : public nn::Layer {
 public:
  // `batch_shape` is [-1, ...] (any batch). `name` empty: "input_layer", "input_layer_1", ... Built
  // on construction; it has no weights.
  InputLayer(const Shape& batch_shape, std::string name = "");

  Shape compute_output_shape(const Shape& input_shape) const override { return input_shape; }
  graph::NodeId call(graph::Graph& /*graph*/, graph::NodeId input,
                     const nn::CallContext& /*context*/) override {
    return input;
  }
};

}  // namespace trainyard::keras
