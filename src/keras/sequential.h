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
  // One input, "input_layer" (a Sequential has no named Input); one output, named after the last
  // layer.
  std::vector<std::string> input_names() const override;
  std::vector<std::string> output_names() const override;
  std::vector<Shape> compute_output_shapes(const std::vector<Shape>& input_shapes) const override;
  std::vector<graph::NodeId> call(graph::Graph& graph, std::span<const graph::NodeId> inputs,
                                  const nn::CallContext& context) override;

 protected:
  void build_layers(const std::vector<Shape>& input_shapes) override;
  SummaryLayout summary_layout() const override;

 private:
  std::vector<nn::LayerPtr> layers_;
};

}  // namespace trainyard::keras
