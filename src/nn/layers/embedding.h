// Embedding: [batch, ...] integer indices (any float or integer dtype) -> [batch, ...,
// output_dim], each index replaced by its row of the weight `embeddings`
// [input_dim, output_dim]. Indices get no gradient; a non-integral or out-of-range index is
// a ValueError naming the layer, the index and its position, raised before anything is
// written. Keras's mask_zero is not supported.
#pragma once

#include "nn/layer.h"

namespace trainyard::nn {

struct EmbeddingOptions {
  Initializer embeddings_initializer = "uniform";  // RandomUniform(-0.05, 0.05)
  std::string name;                                // empty: "embedding", "embedding_1", ...
};

class Embedding final : public Layer {
 public:
  // REQUIRES: input_dim > 0 and output_dim > 0 (ValueError otherwise).
  Embedding(int64_t input_dim, int64_t output_dim, EmbeddingOptions options = {});

  int64_t input_dim() const { return input_dim_; }
  int64_t output_dim() const { return output_dim_; }
  const EmbeddingOptions& options() const { return options_; }
  Shape compute_output_shape(const Shape& input_shape) const override;
  graph::NodeId call(graph::Graph& graph, graph::NodeId input, const CallContext& context) override;

 private:
  void build_weights(const Shape& input_shape) override;

  int64_t input_dim_;
  int64_t output_dim_;
  EmbeddingOptions options_;
  graph::VariablePtr embeddings_;
};

}  // namespace trainyard::nn
