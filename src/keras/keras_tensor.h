// The symbolic side of the Functional API: KerasTensor (what Input() returns and what a layer
// called on KerasTensors returns), each remembering the layer call that made it, so a Functional
// model can walk back from its outputs to its inputs.
//
//   auto x = keras::Input({4}, "features");
//   auto shared = keras::layers::Dense(8);
//   auto h = shared(x);                      // a layer called twice shares its weights
//   auto y = keras::layers::Add()({h, shared(h)});
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nn/layer.h"

namespace trainyard::keras {

class KerasTensor;

namespace detail {
// One call of a layer on symbolic tensors (Keras's Node). Immutable once made.
struct LayerCall {
  nn::LayerPtr layer;
  std::vector<KerasTensor> inputs;  // empty for an Input
  Shape output_shape;               // [-1, ...]
  uint64_t sequence = 0;            // creation order over all calls, oldest first
};
}  // namespace detail

class KerasTensor {
 public:
  KerasTensor() = default;
  explicit KerasTensor(std::shared_ptr<const detail::LayerCall> call) : call_(std::move(call)) {}

  bool defined() const { return call_ != nullptr; }
  // [-1, ...]: the batch dimension is unknown. REQUIRES: defined().
  const Shape& shape() const { return call_->output_shape; }
  // The layer whose call produced this tensor (an InputLayer for Input()), and its name.
  const nn::LayerPtr& layer() const { return call_->layer; }
  const std::string& name() const { return call_->layer->name(); }
  const std::shared_ptr<const detail::LayerCall>& producer() const { return call_; }

 private:
  std::shared_ptr<const detail::LayerCall> call_;
};

// keras.Input: a symbolic input whose samples have `shape` (the batch dimension left out). `name`
// empty: "input_layer", "input_layer_1", ... Throws ValueError for a dimension < 1.
KerasTensor Input(const Shape& shape, std::string name = "");

// Keras's layer(inputs): builds `layer` for the inputs' shapes on its first call (later calls must
// fit those shapes, ShapeError naming the layer otherwise) and returns its symbolic output. Layers
// taking a list (Add, Concatenate) get several inputs, the others one. Throws ValueError for a null
// layer or tensor, or for an InputLayer.
KerasTensor call_layer(const nn::LayerPtr& layer, const std::vector<KerasTensor>& inputs);

// A layer as keras.h's factories return it: the shared pointer Sequential takes, which can also be
// called on symbolic tensors like a Keras layer.
template <typename LayerType>
class LayerHandle : public std::shared_ptr<LayerType> {
 public:
  LayerHandle(std::shared_ptr<LayerType> layer)  // NOLINT(google-explicit-constructor)
      : std::shared_ptr<LayerType>(std::move(layer)) {}

  // layer(x)
  KerasTensor operator()(const KerasTensor& input) const { return call_layer(*this, {input}); }
  // layer([x, y, ...])
  KerasTensor operator()(const std::vector<KerasTensor>& inputs) const {
    return call_layer(*this, inputs);
  }
};

}  // namespace trainyard::keras
