// Model: the Keras training API (compile, fit, evaluate, predict, train_on_batch, summary) over a
// graph of layers with one or several inputs and outputs. Sequential (a stack) and Functional (any
// DAG) are its kinds. Models are values: move them, don't copy.
// Thread safety: one thread at a time.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "keras/history.h"
#include "keras/options.h"
#include "keras/progress_bar.h"
#include "keras/tensors.h"
#include "nn/layer.h"

namespace trainyard::keras {

class Trainer;

// The knobs of model.summary() (Keras's print_summary arguments).
struct SummaryOptions {
  // Total width of each table line; unset: 88, or 108 with a "Connected to" column (Keras's
  // defaults for a wide terminal).
  std::optional<int> line_length = std::nullopt;
  // Right edge of each column as a fraction of line_length; empty: Keras's defaults
  // ({0.45, 0.80, 1.0}, or {0.3, 0.56, 0.74, 1.0} with "Connected to").
  std::vector<double> positions = {};
};

class Model {
 public:
  virtual ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  const std::string& name() const { return name_; }
  // Every layer once, in Keras's order (model.layers); shared layers appear once.
  virtual const std::vector<nn::LayerPtr>& layers() const = 0;
  // Names of the inputs and outputs, in order (Keras's model.input_names / output_names). Dict-form
  // x and y are matched against them; multi-output logs are prefixed with them.
  virtual std::vector<std::string> input_names() const = 0;
  virtual std::vector<std::string> output_names() const = 0;
  size_t num_inputs() const { return input_names().size(); }
  size_t num_outputs() const { return output_names().size(); }

  // Builds every layer for inputs of `input_shape` ([batch, ...]; batch may be -1).
  // REQUIRES: one input. Throws ShapeError when already built for other shapes.
  void build(const Shape& input_shape);
  // The same for one shape per input.
  void build(const std::vector<Shape>& input_shapes);
  bool built() const { return built_; }
  // The shapes built for ([-1, ...] each), empty before build.
  const std::vector<Shape>& input_shapes() const { return input_shapes_; }
  // One output shape per output for inputs of `input_shapes`. Throws ShapeError naming the layer or
  // input that does not fit.
  virtual std::vector<Shape> compute_output_shapes(
      const std::vector<Shape>& input_shapes) const = 0;
  // The output shape for one input. REQUIRES: one input and one output (ValueError otherwise).
  Shape compute_output_shape(const Shape& input_shape) const;

  // Places the model on `device` ("cuda:0"): its weights move there now (or when it is built)
  // and training, evaluation and prediction run there; arrays given to fit/evaluate/predict
  // stay on the host and travel a batch at a time. Throws ValueError for a device this program
  // has no backend for, or after compile() (compile on the device you mean to use).
  void to(const Device& device);
  const Device& device() const { return device_; }

  // Configures training. Throws ValueError for an unknown loss, metric or optimizer name, a missing
  // loss, or per-output options that do not match the outputs.
  void compile(const CompileOptions& options);
  bool compiled() const { return trainer_ != nullptr; }

  // Trains on x and y: a tensor, a list or a map by name each (see Tensors), [N, ...] arrays of any
  // numeric dtype, computed in float32. REQUIRES: compile() was called.
  // Throws ValueError/ShapeError naming the argument.
  History fit(const Tensors& x, const Tensors& y, const FitOptions& options = {});
  // Trains on a batched Dataset whose batches hold the inputs (input order), the targets
  // (output order) and optionally a [batch] sample weight; arrays are converted to float32
  // while gathering. The dataset's own batching, shuffling and prefetching apply, so
  // batch_size, shuffle and seed are not used; validation_split, sample_weight and
  // class_weight need arrays (ValueError). A dataset that repeats forever needs
  // steps_per_epoch. Throws ValueError naming the argument.
  History fit(const data::Dataset& dataset, const FitOptions& options = {});
  // The mean loss and metrics over x, y: {"loss": ..., "<metric>": ...}, sorted by name; with
  // several outputs also "<output>_loss" and "<output>_<metric>".
  Logs evaluate(const Tensors& x, const Tensors& y, const EvaluateOptions& options = {});
  // The same over one pass of a finite, batched Dataset shaped as fit(Dataset) takes it, in its
  // own batches (batch_size is not used; weights come as the dataset's last array).
  Logs evaluate(const data::Dataset& dataset, const EvaluateOptions& options = {});
  // Outputs for x, concatenated over batches: [N, ...output shape].
  // REQUIRES: one output (ValueError otherwise; use the list form below).
  Tensor predict(const Tensor& x, const PredictOptions& options = {});
  // One tensor per output, in output order, for x in any form Tensors takes.
  std::vector<Tensor> predict(const Tensors& x, const PredictOptions& options = {});
  // One tensor per output over one pass of a finite, batched Dataset whose first arrays are
  // the inputs (any arrays after them, such as targets, are ignored, as Keras does).
  std::vector<Tensor> predict(const data::Dataset& dataset, const PredictOptions& options = {});
  // One training step on one batch; returns the batch's loss and metrics.
  Logs train_on_batch(const Tensors& x, const Tensors& y);

  // Copies of every weight's value in Keras's order (model.get_weights()).
  std::vector<Tensor> get_weights() const;
  // Overwrites every weight, in get_weights() order. Throws ShapeError naming the variable
  // whose shape or dtype differs, ValueError for a wrong count; nothing is written then.
  void set_weights(const std::vector<Tensor>& values);

  // Writes the whole model (config, compile_config, weights, optimizer state) to a Keras 3
  // `.keras` archive, or a legacy HDF5 file for a name ending in `.h5`: save_model(*this,
  // path) in keras/saving/model_file.h, which gives the errors; keras::load_model reads it
  // back.
  void save(const std::string& path) const;

  // Keras 3's model.summary() text: the layer table, then total, trainable and non-trainable
  // parameter counts with their sizes (and the optimizer's once it is built). Throws ValueError
  // when the line is too narrow for the columns.
  std::string summary(const SummaryOptions& options = {}) const;

  // Set by a callback to end fit() after the current batch (Keras's model.stop_training).
  bool stop_training = false;
  // Set by a callback's on_train_begin to make fit() start at this 0-based epoch instead of
  // FitOptions::initial_epoch (Keras's model._initial_epoch, which BackupAndRestore sets when
  // it resumes). fit() clears it before on_train_begin.
  std::optional<int> initial_epoch_override;

  // Weights of all layers in Keras's order (each layer: trainable, then non-trainable).
  std::vector<graph::VariablePtr> weights() const;
  std::vector<graph::VariablePtr> trainable_weights() const;
  std::vector<graph::VariablePtr> non_trainable_weights() const;
  int64_t count_params() const;
  // REQUIRES: compiled().
  nn::Optimizer& optimizer() const;
  Trainer& trainer() const;

  // Adds the model's computation on `inputs` (one node per input) to `graph` and returns one node
  // per output. REQUIRES: built for the inputs' shapes.
  virtual std::vector<graph::NodeId> call(graph::Graph& graph,
                                          std::span<const graph::NodeId> inputs,
                                          const nn::CallContext& context) = 0;

 protected:
  explicit Model(std::string name);
  virtual void build_layers(const std::vector<Shape>& input_shapes) = 0;
  // For models built when constructed (Functional).
  void set_built(std::vector<Shape> input_shapes);

  // What summary() shows per layer of layers(): the "Output Shape" text ("?" when unknown) and the
  // "Connected to" text; `sequential_like` drops that column (Keras's rule).
  struct SummaryLayout {
    bool sequential_like = true;
    std::vector<std::string> output_shapes;
    std::vector<std::string> connections;
  };
  virtual SummaryLayout summary_layout() const = 0;

 private:
  friend class Trainer;

  // x (and y when defined) in input and output order, checked for sample counts.
  std::vector<Tensor> inputs_in_order(const Tensors& x, const char* method) const;
  std::vector<Tensor> targets_in_order(const Tensors& y, const char* method) const;
  data::Dataset validation_dataset(const FitOptions& options) const;
  Logs evaluate_batches(Trainer& trainer, const data::Dataset& batches,
                        const EvaluateOptions& options);
  // Creates an inference-only trainer for an uncompiled model.
  void prepare_prediction(const std::vector<Shape>& x_shapes);

  std::string name_;
  bool built_ = false;
  std::vector<Shape> input_shapes_;
  Device device_;
  std::unique_ptr<Trainer> trainer_;
};

}  // namespace trainyard::keras
