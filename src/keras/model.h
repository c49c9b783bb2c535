// Model: the Keras training API (compile, fit, evaluate, predict, train_on_batch) over any
// stack of layers; Sequential is the first kind. Models are values: move them, don't copy.
// Thread safety: one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "keras/history.h"
#include "keras/options.h"
#include "keras/progress_bar.h"
#include "nn/layer.h"

namespace trainyard::keras {

class Trainer;

class Model {
 public:
  virtual ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  const std::string& name() const { return name_; }
  virtual const std::vector<nn::LayerPtr>& layers() const = 0;

  // Builds every layer for inputs of `input_shape` ([batch, ...]; batch may be -1).
  void build(const Shape& input_shape);
  bool built() const { return built_; }
  // The output shape for inputs of `input_shape`.
  virtual Shape compute_output_shape(const Shape& input_shape) const = 0;

  // Configures training. Throws ValueError for an unknown loss, metric or optimizer name
  // or a missing loss.
  void compile(const CompileOptions& options);
  bool compiled() const { return trainer_ != nullptr; }

  // Trains on x [N, ...] and y [N, ...] (any numeric dtypes; computed in float32).
  // REQUIRES: compile() was called. Throws ValueError/ShapeError naming the argument.
  History fit(const Tensor& x, const Tensor& y, const FitOptions& options = {});
  // The mean loss and metrics over x, y: {"loss": ..., "<metric>": ...}, sorted by name.
  Logs evaluate(const Tensor& x, const Tensor& y, const EvaluateOptions& options = {});
  // Outputs for x, concatenated over batches: [N, ...output shape].
  Tensor predict(const Tensor& x, const PredictOptions& options = {});
  // One training step on one batch; returns the batch's loss and metrics.
  Logs train_on_batch(const Tensor& x, const Tensor& y);

  // Copies of every weight's value in Keras's order (model.get_weights()).
  std::vector<Tensor> get_weights() const;
  // Overwrites every weight, in get_weights() order. Throws ShapeError naming the variable
  // whose shape or dtype differs, ValueError for a wrong count; nothing is written then.
  void set_weights(const std::vector<Tensor>& values);

  // Set by a callback to end fit() after the current batch (Keras's model.stop_training).
  bool stop_training = false;

  // Weights of all layers in Keras's order (each layer: trainable, then non-trainable).
  std::vector<graph::VariablePtr> weights() const;
  std::vector<graph::VariablePtr> trainable_weights() const;
  int64_t count_params() const;
  // REQUIRES: compiled().
  nn::Optimizer& optimizer() const;
  Trainer& trainer() const;

 protected:
  explicit Model(std::string name);
  // Adds the model's computation on `input` to `graph` and returns the output node.
  virtual graph::NodeId call(graph::Graph& graph, graph::NodeId input,
                             const nn::CallContext& context) = 0;
  virtual void build_layers(const Shape& input_shape) = 0;

 private:
  friend class Trainer;

  std::string name_;
  bool built_ = false;
  Shape input_shape_;
  std::unique_ptr<Trainer> trainer_;
};

}  // namespace trainyard::keras
