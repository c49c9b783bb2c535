// Trainer: what compile() sets up behind a Model. It packs the model's trainable variables
// into one flat parameter buffer with a matching gradient buffer, compiles one StepPlan per
// (mode, batch size) on first use, and runs steps: a train step is forward, backward, one
// fused optimizer update and the metric updates, and allocates nothing once compiled.
// Thread safety: one thread at a time.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "graph/step_plan.h"
#include "keras/options.h"
#include "keras/progress_bar.h"
#include "nn/metrics.h"

namespace trainyard::keras {

class Model;

enum class StepMode { kTrain, kTest, kPredict };

class Trainer {
 public:
  Trainer(Model& model, const CompileOptions& options, backend::Backend& backend);
  ~Trainer();

  // Makes the trainer ready for samples shaped like `x_shape` and targets like `y_shape`
  // (both [N, ...]): builds the model, packs its variables, builds the optimizer and
  // resolves the loss and metrics. Throws ShapeError when x and y do not fit the model.
  void prepare(const Shape& x_shape, const Shape& y_shape);
  // Ready for prediction on samples shaped like `x_shape` (no targets needed).
  void prepare_inputs(const Shape& x_shape);
  bool prepared() const { return prepared_; }

  // REQUIRES: prepare(); x and y float32 with x.shape()[0] == y.shape()[0].
  void train_step(const Tensor& x, const Tensor& y);
  void test_step(const Tensor& x, const Tensor& y);
  // Writes the model's outputs for x into `output` ([batch, ...]).
  void predict_step(const Tensor& x, const Tensor& output);

  void reset_metrics();
  // "loss" and every metric's running mean, sorted by name as Keras logs them.
  Logs results() const;
  // The running loss, and one named result ("loss" or a metric's name); no allocation.
  double loss_result() const;
  std::optional<double> result(std::string_view name) const;

  nn::Optimizer& optimizer() const { return *optimizer_; }
  const Shape& target_shape() const { return target_shape_; }
  // Plans compiled so far (one per mode and batch size used).
  size_t compiled_plan_count() const { return steps_.size(); }
  // The flat buffers every trainable variable views.
  const Tensor& packed_parameters() const { return parameters_; }
  const Tensor& packed_gradients() const { return gradients_; }

  void rebind(Model& model) { model_ = &model; }

 private:
  struct CompiledStep;
  CompiledStep& compiled_step(StepMode mode, int64_t batch);
  void pack_variables();

  Model* model_;
  backend::Backend& backend_;
  nn::OptimizerPtr optimizer_;
  nn::LossFunction loss_function_;
  std::vector<std::string> metric_names_;

  bool prepared_ = false;
  Shape sample_shape_;  // [-1, ...] of x
  Shape target_shape_;  // [-1, ...] of y
  backend::Loss loss_;
  std::vector<nn::Metric> metrics_;
  std::unique_ptr<nn::MeanTracker> loss_tracker_;
  Tensor parameters_;
  Tensor gradients_;
  std::map<std::pair<StepMode, int64_t>, std::unique_ptr<CompiledStep>> steps_;
};

}  // namespace trainyard::keras
