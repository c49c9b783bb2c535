#include "nn/layers/flatten.h"

#include "core/error.h"
#include "graph/ops/ops.h"

namespace trainyard::nn {

Flatten::Flatten(std::string name) : Layer("Flatten", std::move(name)) {}

Shape Flatten::compute_output_shape(const Shape& input_shape) const {
  if (input_shape.rank() < 1) {
    throw ShapeError("Flatten '" + name() + "' needs a batch dimension, got " +
                     input_shape.to_keras_string());
  }
  return Shape{input_shape[0], input_shape.drop_front(1).num_elements()};
}

graph::NodeId Flatten::call(graph::Graph& graph, graph::NodeId input, const CallContext&) {
  input = autocast(graph, input);
  Shape output = compute_output_shape(graph.spec(input).shape);
  if (output == graph.spec(input).shape) return input;
  return graph.add_op(graph::ops::reshape(output), {input}, name());
}

Reshape::Reshape(std::vector<int64_t> target_shape, std::string name)
    : Layer("Reshape", std::move(name)), target_shape_(std::move(target_shape)) {
  int unknown = 0;
  for (int64_t dim : target_shape_) {
    if (dim == -1) {
      ++unknown;
    } else if (dim <= 0) {
      throw ValueError("Reshape '" + this->name() + "': target dimensions must be positive or -1");
    }
  }
  if (unknown > 1) {
    throw ValueError("Reshape '" + this->name() + "': at most one target dimension may be -1");
  }
}

Shape Reshape::compute_output_shape(const Shape& input_shape) const {
  int64_t elements = input_shape.drop_front(1).num_elements();
  int64_t known = 1;
  for (int64_t dim : target_shape_) known *= dim == -1 ? 1 : dim;
  std::vector<int64_t> dims{input_shape[0]};
  for (int64_t dim : target_shape_) dims.push_back(dim == -1 ? elements / known : dim);
  Shape output(dims);
  if (output.drop_front(1).num_elements() != elements || elements % known != 0) {
    throw ShapeError("Reshape '" + name() + "': cannot reshape " + input_shape.to_keras_string() +
                     " (" + std::to_string(elements) + " values per sample) to " +
                     Shape(target_shape_).to_string());
  }
  return output;
}

graph::NodeId Reshape::call(graph::Graph& graph, graph::NodeId input, const CallContext&) {
  input = autocast(graph, input);
  return graph.add_op(graph::ops::reshape(compute_output_shape(graph.spec(input).shape)), {input},
                      name());
}

}  // namespace trainyard::nn
