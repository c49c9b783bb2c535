// Sequential: a plain stack of layers, each taking the previous one's output.
#pragma once

#include "keras/model.h"

namespace trainyard::keras {

class Sequential final : public Model {
 public:
  // `name` empty: "sequential", "sequential_1", ...
  explicit Sequential(std::vector<nn::LayerPtr> layers = {}, std::string name = "");

  // Appends a layer. Throws ValueError once the model is built.
  void add(nn::LayerPtr layer);
  const std::vector<nn::LayerPtr>& layers() const override { return layers_; }
  Shape compute_output_shape(const Shape& input_shape) const override;

 protected:
  graph::NodeId call(graph::Graph& graph, graph::NodeId input,
                     const nn::CallContext& context) override;
  void build_layers(const Shape& input_shape) override;

 private:
  std::vector<nn::LayerPtr> layers_;
};

}  // namespace trainyard::keras
