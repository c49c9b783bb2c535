#include "keras/keras_tensor.h"

#include <atomic>

#include "core/error.h"
#include "keras/input_layer.h"

namespace trainyard::keras {
namespace {

uint64_t next_call_sequence() {
  static std::atomic<uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

InputLayer::InputLayer(const Shape& batch_shape, std::string name)
    : nn::Layer("InputLayer", std::move(name)) {
  // Inputs keep float32 under any policy; the first computing layer casts them (Keras's
  // InputLayer dtype is floatx, not the policy's compute dtype).
  set_dtype_policy(nn::DTypePolicy());
  build(batch_shape.with_batch(-1));
}

KerasTensor Input(const Shape& shape, std::string name) {
  std::vector<int64_t> dims{-1};
  for (int64_t dim : shape.dims()) {
    if (dim < 1) {
      throw ValueError("Input: every dimension of shape " + shape.to_string() +
                       " must be >= 1 (leave the batch dimension out)");
    }
    dims.push_back(dim);
  }
  auto layer = std::make_shared<InputLayer>(Shape(dims), std::move(name));
  auto call = std::make_shared<detail::LayerCall>();
  call->output_shape = Shape(dims);
  call->layer = std::move(layer);
  call->sequence = next_call_sequence();
  return KerasTensor(std::move(call));
}

KerasTensor call_layer(const nn::LayerPtr& layer, const std::vector<KerasTensor>& inputs) {
  if (!layer) throw ValueError("cannot call a null layer on symbolic tensors");
  if (dynamic_cast<const InputLayer*>(layer.get()) != nullptr) {
    throw ValueError("InputLayer '" + layer->name() + "' cannot be called on tensors");
  }
  std::vector<Shape> shapes;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) {
      throw ValueError("layer '" + layer->name() + "' called on an undefined tensor (input " +
                       std::to_string(i) + ")");
    }
    shapes.push_back(inputs[i].shape());
  }
  // Through the base class: the list forms are hidden in classes overriding single-input ones.
  nn::Layer& base = *layer;
  base.build(std::span<const Shape>(shapes));
  auto call = std::make_shared<detail::LayerCall>();
  call->output_shape = base.compute_output_shape(std::span<const Shape>(shapes));
  call->layer = layer;
  call->inputs = inputs;
  call->sequence = next_call_sequence();
  return KerasTensor(std::move(call));
}

}  // namespace trainyard::keras
