// Merge layers: take a list of inputs through Layer's multi-input path (call with a span of
// nodes, compute_output_shape with a span of shapes). Called on a single tensor instead of a
// list they throw ValueError, as Keras does.
// Add: n inputs of one shape [batch, ...] -> their elementwise sum, same shape.
// Concatenate(axis): inputs equal except along `axis` -> joined along it.
#pragma once

#include "nn/layer.h"

namespace trainyard::nn {

class Add final : public Layer {
 public:
  explicit Add(std::string name = "");

  using Layer::call;
  using Layer::compute_output_shape;
  // Throws ValueError: a merge layer takes a list of inputs.
  Shape compute_output_shape(const Shape& input_shape) const override;
  graph::NodeId call(graph::Graph& graph, graph::NodeId input, const CallContext& context) override;
  // REQUIRES: at least one input; all shapes equal (the batch dimension may be unknown).
  Shape compute_output_shape(std::span<const Shape> input_shapes) const override;
  graph::NodeId call(graph::Graph& graph, std::span<const graph::NodeId> inputs,
                     const CallContext& context) override;
};

class Concatenate final : public Layer {
 public:
  // `axis` counts the batch dimension, as in Keras (default -1, the features); joining along
  // the batch axis is not supported.
  explicit Concatenate(int64_t axis = -1, std::string name = "");

  int64_t axis() const { return axis_; }
  using Layer::call;
  using Layer::compute_output_shape;
  // Throws ValueError: a merge layer takes a list of inputs.
  Shape compute_output_shape(const Shape& input_shape) const override;
  graph::NodeId call(graph::Graph& graph, graph::NodeId input, const CallContext& context) override;
  // REQUIRES: at least one input; shapes of one rank, equal except along the axis.
  Shape compute_output_shape(std::span<const Shape> input_shapes) const override;
  graph::NodeId call(graph::Graph& graph, std::span<const graph::NodeId> inputs,
                     const CallContext& context) override;

 private:
  int64_t axis_;
};

}  // namespace trainyard::nn
