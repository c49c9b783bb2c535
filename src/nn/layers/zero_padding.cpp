#include "nn/layers/zero_padding.h"

#include "core/error.h"
#include "graph/ops/ops.h"

namespace trainyard::nn {

ZeroPadding2D::ZeroPadding2D(Padding2 padding, std::string name)
    : Layer("ZeroPadding2D", std::move(name)), padding_(padding) {
  const Padding2& p = padding_;
  if (p.top < 0 || p.bottom < 0 || p.left < 0 || p.right < 0) {
    throw ValueError("ZeroPadding2D '" + this->name() + "': padding must be non-negative, got ((" +
                     std::to_string(p.top) + ", " + std::to_string(p.bottom) + "), (" +
                     std::to_string(p.left) + ", " + std::to_string(p.right) + "))");
  }
}

Shape ZeroPadding2D::compute_output_shape(const Shape& input_shape) const {
  if (input_shape.rank() != 4) {
    throw ShapeError("ZeroPadding2D '" + name() +
                     "' needs inputs [batch, height, width, channels], got " +
                     input_shape.to_keras_string());
  }
  const Padding2& p = padding_;
  return Shape{input_shape[0], input_shape[1] + p.top + p.bottom, input_shape[2] + p.left + p.right,
               input_shape[3]};
}

graph::NodeId ZeroPadding2D::call(graph::Graph& graph, graph::NodeId input, const CallContext&) {
  compute_output_shape(graph.spec(input).shape);
  backend::Padding2d padding{padding_.top, padding_.bottom, padding_.left, padding_.right};
  return graph.add_op(graph::ops::zero_pad2d(padding), {input}, name());
}

}  // namespace trainyard::nn
