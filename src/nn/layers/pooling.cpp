#include "nn/layers/pooling.h"

#include "core/error.h"
#include "graph/ops/ops.h"

namespace trainyard::nn {
namespace {

const char* pooling_class(backend::PoolKind kind) {
  return kind == backend::PoolKind::kMax ? "MaxPooling2D" : "AveragePooling2D";
}

const char* global_pooling_class(backend::PoolKind kind) {
  return kind == backend::PoolKind::kMax ? "GlobalMaxPooling2D" : "GlobalAveragePooling2D";
}

void require_image(const std::string& layer, const Shape& shape) {
  if (shape.rank() != 4) {
    throw ShapeError(layer + " needs inputs [batch, height, width, channels], got " +
                     shape.to_keras_string());
  }
}

}  // namespace

Pooling2D::Pooling2D(backend::PoolKind kind, Size2 pool_size, PoolingOptions options)
    : Layer(pooling_class(kind), options.name),
      kind_(kind),
      pool_size_(pool_size),
      options_(std::move(options)),
      padding_(backend::parse_padding(options_.padding)) {
  if (padding_ == backend::Padding::kCausal) {
    throw ValueError(std::string(pooling_class(kind)) + " '" + name() +
                     "': padding must be \"valid\" or \"same\"");
  }
}

backend::Window2d Pooling2D::window_for(const Shape& input_shape) const {
  std::string layer = std::string(pooling_class(kind_)) + " '" + name() + "'";
  require_image(layer, input_shape);
  Size2 strides = options_.strides.value_or(pool_size_);
  return backend::make_window2d(
      layer, input_shape[0], input_shape[1], input_shape[2], input_shape[3],
      {pool_size_.height, pool_size_.width, strides.height, strides.width, 1, 1, padding_});
}

Shape Pooling2D::compute_output_shape(const Shape& input_shape) const {
  backend::Window2d window = window_for(input_shape.with_batch(1));
  return Shape{input_shape[0], window.out_height, window.out_width, input_shape[3]};
}

graph::NodeId Pooling2D::call(graph::Graph& graph, graph::NodeId input, const CallContext&) {
  return graph.add_op(graph::ops::pool2d(kind_, window_for(graph.spec(input).shape)), {input},
                      name());
}

GlobalPooling2D::GlobalPooling2D(backend::PoolKind kind, std::string name)
    : Layer(global_pooling_class(kind), std::move(name)), kind_(kind) {}

Shape GlobalPooling2D::compute_output_shape(const Shape& input_shape) const {
  require_image(std::string(global_pooling_class(kind_)) + " '" + name() + "'", input_shape);
  return Shape{input_shape[0], input_shape[3]};
}

graph::NodeId GlobalPooling2D::call(graph::Graph& graph, graph::NodeId input, const CallContext&) {
  const Shape shape = graph.spec(input).shape;  // a copy: add_op may move the nodes
  compute_output_shape(shape);
  // One window covering the whole image, then [N, 1, 1, C] viewed as [N, C].
  backend::Window2d window = backend::make_window2d(name(), shape[0], shape[1], shape[2], shape[3],
                                                    {shape[1], shape[2], 1, 1, 1, 1});
  graph::NodeId pooled = graph.add_op(graph::ops::pool2d(kind_, window), {input}, name());
  return graph.add_op(graph::ops::reshape(Shape{shape[0], shape[3]}), {pooled},
                      name() + "/squeeze");
}

}  // namespace trainyard::nn
