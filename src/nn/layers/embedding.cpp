#include "nn/layers/embedding.h"

#include "core/error.h"
#include "graph/ops/ops.h"

namespace trainyard::nn {

Embedding::Embedding(int64_t input_dim, int64_t output_dim, EmbeddingOptions options)
    : Layer("Embedding", options.name),
      input_dim_(input_dim),
      output_dim_(output_dim),
      options_(std::move(options)) {
  if (input_dim <= 0 || output_dim <= 0) {
    throw ValueError("Embedding '" + name() +
                     "': input_dim and output_dim must be positive integers, got " +
                     std::to_string(input_dim) + " and " + std::to_string(output_dim));
  }
}

Shape Embedding::compute_output_shape(const Shape& input_shape) const {
  if (input_shape.rank() < 1) {
    throw ShapeError("Embedding '" + name() + "' needs inputs [batch, ...] of indices, got " +
                     input_shape.to_keras_string());
  }
  std::vector<int64_t> dims = input_shape.dims();
  dims.push_back(output_dim_);
  return Shape(std::move(dims));
}

void Embedding::build_weights(const Shape& input_shape) {
  compute_output_shape(input_shape);
  embeddings_ =
      add_weight("embeddings", Shape{input_dim_, output_dim_}, options_.embeddings_initializer);
}

graph::NodeId Embedding::call(graph::Graph& graph, graph::NodeId input, const CallContext&) {
  return graph.add_op(graph::ops::embedding(name()), {input, weight_node(graph, embeddings_)},
                      name());
}

}  // namespace trainyard::nn
