#include "nn/layers/merge.h"

#include "core/error.h"
#include "graph/ops/ops.h"

namespace trainyard::nn {
namespace {

std::string describe(std::span<const Shape> shapes) {
  std::string text;
  for (const Shape& shape : shapes) text += (text.empty() ? "" : ", ") + shape.to_keras_string();
  return "[" + text + "]";
}

[[noreturn]] void throw_needs_list(const std::string& layer) {
  throw ValueError(layer + ": a merge layer should be called on a list of inputs");
}

// Dimension i of two shapes agrees; the batch dimension (0) may be unknown (-1) in either.
bool same_dim(const Shape& a, const Shape& b, int64_t i) {
  return a[i] == b[i] || (i == 0 && (a[i] == -1 || b[i] == -1));
}

std::vector<Shape> shapes_of(const graph::Graph& graph, std::span<const graph::NodeId> inputs) {
  std::vector<Shape> shapes;
  for (graph::NodeId input : inputs) shapes.push_back(graph.spec(input).shape);
  return shapes;
}

}  // namespace

Add::Add(std::string name) : Layer("Add", std::move(name)) {}

Shape Add::compute_output_shape(const Shape&) const {
  throw_needs_list("Add '" + name() + "'");
}

graph::NodeId Add::call(graph::Graph&, graph::NodeId, const CallContext&) {
  throw_needs_list("Add '" + name() + "'");
}

Shape Add::compute_output_shape(std::span<const Shape> input_shapes) const {
  if (input_shapes.empty()) {
    throw ValueError("Add '" + name() + "': a merge layer needs at least one input");
  }
  const Shape& first = input_shapes[0];
  for (const Shape& shape : input_shapes) {
    bool ok = shape.rank() == first.rank();
    for (int64_t i = 0; ok && i < shape.rank(); ++i) ok = same_dim(shape, first, i);
    if (!ok) {
      throw ShapeError("Add '" + name() + "': inputs must all have the same shape, got " +
                       describe(input_shapes));
    }
  }
  return first;
}

graph::NodeId Add::call(graph::Graph& graph, std::span<const graph::NodeId> inputs,
                        const CallContext&) {
  compute_output_shape(shapes_of(graph, inputs));
  if (inputs.size() == 1) return inputs[0];
  return graph.add_op(graph::ops::add(), {inputs.begin(), inputs.end()}, name());
}

Concatenate::Concatenate(int64_t axis, std::string name)
    : Layer("Concatenate", std::move(name)), axis_(axis) {}

Shape Concatenate::compute_output_shape(const Shape&) const {
  throw_needs_list("Concatenate '" + name() + "'");
}

graph::NodeId Concatenate::call(graph::Graph&, graph::NodeId, const CallContext&) {
  throw_needs_list("Concatenate '" + name() + "'");
}

Shape Concatenate::compute_output_shape(std::span<const Shape> input_shapes) const {
  std::string layer = "Concatenate '" + name() + "'";
  if (input_shapes.empty()) throw ValueError(layer + ": a merge layer needs at least one input");
  const Shape& first = input_shapes[0];
  int64_t rank = first.rank();
  int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
  if (axis < 1 || axis >= rank) {
    throw ValueError(layer + ": axis " + std::to_string(axis_) + " is not a non-batch axis of " +
                     first.to_keras_string());
  }
  Shape output = first;
  output[axis] = 0;
  for (const Shape& shape : input_shapes) {
    bool ok = shape.rank() == rank;
    for (int64_t i = 0; ok && i < rank; ++i) ok = i == axis || same_dim(shape, first, i);
    if (!ok) {
      throw ShapeError(layer +
                       ": inputs must match in every dimension except the concatenation axis " +
                       std::to_string(axis_) + ", got " + describe(input_shapes));
    }
    output[axis] += shape[axis];
  }
  return output;
}

graph::NodeId Concatenate::call(graph::Graph& graph, std::span<const graph::NodeId> inputs,
                                const CallContext&) {
  std::vector<Shape> shapes = shapes_of(graph, inputs);
  compute_output_shape(shapes);
  if (inputs.size() == 1) return inputs[0];
  int64_t axis = axis_ < 0 ? axis_ + shapes[0].rank() : axis_;
  return graph.add_op(graph::ops::concatenate(axis), {inputs.begin(), inputs.end()}, name());
}

}  // namespace trainyard::nn
