// Functional: a model defined by the symbolic tensors of its inputs and outputs (Keras's
// keras.Model(inputs, outputs)), any DAG of layers between them, with shared layers.
//
//   auto a = keras::Input({4}, "a");
//   auto b = keras::Input({3}, "b");
//   auto shared = keras::layers::Dense(8, {.activation = "relu"});
//   auto merged = keras::layers::Add()({shared(a), shared(keras::layers::Dense(4)(b))});
//   keras::Functional model({a, b}, {keras::layers::Dense(2, {.name = "label"})(merged),
//                                    keras::layers::Dense(1, {.name = "score"})(merged)});
//   model.compile({.optimizer = "adam", .losses = {"sparse_categorical_crossentropy", "mse"},
//                  .loss_weights = {1.0, 0.5}, .metrics_per_output = {{"accuracy"}, {}}});
//   model.fit({x_a, x_b}, {labels, scores});
#pragma once

#include <map>

#include "keras/functional_graph.h"
#include "keras/keras_tensor.h"
#include "keras/model.h"

namespace trainyard::keras {

class Functional final : public Model {
 public:
  // The model from `inputs` (Input() tensors) to `outputs`. `name` empty: "functional",
  // "functional_1", ... The layers were built when called, so the model is built. Throws ValueError
  // for an output that does not depend on the inputs only ("Graph disconnected"), an input that is
  // not an Input() tensor, or two layers with one name.
  Functional(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs,
             std::string name = "");
  // One input or one output given as a tensor rather than a list.
  Functional(const KerasTensor& input, const KerasTensor& output, std::string name = "");
  Functional(std::vector<KerasTensor> inputs, const KerasTensor& output, std::string name = "");
  Functional(const KerasTensor& input, std::vector<KerasTensor> outputs, std::string name = "");

  const std::vector<nn::LayerPtr>& layers() const override { return graph_.layers; }
  // The Input layers' names and the names of the layers producing the outputs.
  std::vector<std::string> input_names() const override;
  std::vector<std::string> output_names() const override;
  const std::vector<KerasTensor>& inputs() const { return inputs_; }
  const std::vector<KerasTensor>& outputs() const { return outputs_; }
  // The layer graph in Keras's terms (calls in run order, depths, node indices).
  const detail::GraphMap& graph_map() const { return graph_; }

  // The output shapes; the input shapes must be the Input() shapes (any batch size), or ShapeError
  // names the input.
  std::vector<Shape> compute_output_shapes(const std::vector<Shape>& input_shapes) const override;
  std::vector<graph::NodeId> call(graph::Graph& graph, std::span<const graph::NodeId> inputs,
                                  const nn::CallContext& context) override;

 protected:
  void build_layers(const std::vector<Shape>& input_shapes) override;
  SummaryLayout summary_layout() const override;

 private:
  std::vector<KerasTensor> inputs_;
  std::vector<KerasTensor> outputs_;
  detail::GraphMap graph_;
};

}  // namespace trainyard::keras
