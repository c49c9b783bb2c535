// Trainer: what compile() sets up behind a Model. It packs the model's trainable variables into one
// flat parameter buffer with a matching gradient buffer, compiles one StepPlan per (mode, batch
// size) on first use, and runs steps: a train step is forward, backward, one fused optimizer update
// and the metric updates, and allocates nothing once compiled. Models with several inputs and
// outputs take one tensor per input and per output, in the model's order; each output has its own
// loss, loss weight and metrics.
//
// Step graphs: on a backend that supports_step_graphs (CUDA), each compiled step runs its first
// call eagerly (allocations, algorithm searches and scratch growth happen there), records its
// second as one graph and replays that graph from then on; the per-step values (dropout step,
// learning rate, iteration) reach the graph through Backend::set_step_scalars. Results are the
// eager steps' bit for bit. A step whose recording fails runs eagerly from then on, after one
// line on stderr giving the reason. Steps stay eager with a gradient hook or when graphs are
// turned off (set_step_graphs, or TRAINYARD_CUDA_GRAPHS=0 in the environment at compile()).
// Thread safety: one thread at a time.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <tuple>
#include <vector>

#include "backend/backend.h"
#include "graph/step_plan.h"
#include "keras/compile_loss.h"
#include "keras/options.h"
#include "keras/progress_bar.h"
#include "nn/metrics.h"

namespace trainyard::keras {

class Model;

// Sees a train step's flat gradient buffer after backward and before the optimizer update; a
// distribution strategy sums the replicas' gradients there. It must leave `gradients` holding
// what every replica's optimizer applies.
class GradientHook {
 public:
  virtual ~GradientHook() = default;
  virtual void on_gradients(Tensor& gradients) = 0;
};

enum class StepMode { kTrain, kTest, kPredict };

class Trainer {
 public:
  // Resolves the losses, loss weights and metrics for the model's outputs. Throws ValueError as
  // resolve_compile_options does, and for a null optimizer.
  Trainer(Model& model, const CompileOptions& options, backend::Backend& backend);
  ~Trainer();

  // Makes the trainer ready for samples shaped like `x_shapes` (one per input) and targets like
  // `y_shapes` (one per output), all [N, ...]: builds the model, packs its variables, builds the
  // optimizer and resolves the losses and metrics. Throws ShapeError when x and y do not fit the
  // model, ValueError for the wrong number of arrays.
  void prepare(const std::vector<Shape>& x_shapes, const std::vector<Shape>& y_shapes);
  void prepare(const Shape& x_shape, const Shape& y_shape);
  // Ready for prediction on samples shaped like `x_shapes` (no targets needed).
  void prepare_inputs(const std::vector<Shape>& x_shapes);
  bool prepared() const { return prepared_; }
  // Packs the model's variables and builds the optimizer for them before any step, so saved
  // optimizer state can be loaded into it (Keras's optimizer.build(trainable_variables));
  // prepare() packs them the same way and keeps the slots. REQUIRES: the model is built.
  void build_optimizer();

  // REQUIRES: prepare(); float32 tensors, one per input (x) and output (y), all with the same
  // dim 0, on the host or on the backend's device (host tensors are copied there). A defined
  // `sample_weight` (float32 [batch]) weighs every output's per-sample losses; weighted and
  // unweighted steps compile separate plans.
  void train_step(std::span<const Tensor> x, std::span<const Tensor> y,
                  const Tensor& sample_weight);
  void train_step(std::span<const Tensor> x, std::span<const Tensor> y);
  void train_step(const Tensor& x, const Tensor& y);
  void test_step(std::span<const Tensor> x, std::span<const Tensor> y, const Tensor& sample_weight);
  void test_step(std::span<const Tensor> x, std::span<const Tensor> y);
  void test_step(const Tensor& x, const Tensor& y);
  // Writes the model's outputs for x into `outputs` (one [batch, ...] tensor per output).
  void predict_step(std::span<const Tensor> x, std::span<const Tensor> outputs);

  void reset_metrics();
  // "loss", each output's "<output>_loss" (several outputs) and every metric's running mean, sorted
  // by name as Keras logs them.
  Logs results() const;
  // The running loss, and one named result (a name results() holds); no allocation.
  double loss_result() const;
  std::optional<double> result(std::string_view name) const;

  nn::Optimizer& optimizer() const { return *optimizer_; }
  // The [-1, ...] shape of the first output's targets.
  const Shape& target_shape() const { return target_shapes_.at(0); }
  const std::vector<OutputCompileSpec>& output_specs() const { return specs_; }
  // Plans compiled so far (one per mode, batch size and weighting used).
  size_t compiled_plan_count() const { return steps_.size(); }
  // The flat buffers every trainable variable views.
  const Tensor& packed_parameters() const { return parameters_; }
  const Tensor& packed_gradients() const { return gradients_; }

  void rebind(Model& model) { model_ = &model; }
  // Installs (or, with null, removes) the hook every train step calls before the optimizer
  // update. Not owned; it must outlive its use. Without one a step is exactly as before.
  void set_gradient_hook(GradientHook* hook) { gradient_hook_ = hook; }
  // Lets training steps sum values across the replicas of a data-parallel step (for
  // SyncBatchNormalization); null (the default) for a step of its own.
  void set_cross_replica_sum(graph::CrossReplicaSum* replicas) { cross_replica_ = replicas; }

  // Turns step graphs on or off for the following steps (see the top of this file).
  void set_step_graphs(bool enabled) { step_graphs_ = enabled; }
  bool step_graphs() const { return step_graphs_; }
  // Steps run as a graph launch so far (each recording's first run included).
  int64_t graph_step_count() const { return graph_steps_; }

 private:
  struct CompiledStep;
  // What each output keeps between steps.
  struct OutputState {
    backend::Loss loss;
    std::vector<nn::Metric> metrics;
    std::unique_ptr<nn::MeanTracker> loss_tracker;  // several outputs only
  };

  CompiledStep& compiled_step(StepMode mode, int64_t batch, bool weighted = false);
  void pack_variables();
  void bind_step(CompiledStep& step, std::span<const Tensor> x, std::span<const Tensor> y,
                 const Tensor& sample_weight);
  void update_metrics(const CompiledStep& step, int64_t batch);
  // Runs one bound step: eagerly, or as a recorded graph once the step is warm.
  void run_step(CompiledStep& step, StepMode mode, int64_t batch);
  // Queues the step's device work: forward, then for training backward and the update, then
  // the metric updates (not for prediction).
  void queue_step_work(CompiledStep& step, StepMode mode, int64_t batch);
  bool graphs_apply(const CompiledStep& step) const;
  // Records the step and runs the recording once; on failure runs it eagerly from now on.
  void capture_and_run(CompiledStep& step, StepMode mode, int64_t batch);
  // The device addresses a recording baked in that a CompiledStep does not own.
  void note_captured_memory(std::vector<const void*>& memory) const;
  // `given` itself when `buffer` is undefined (CPU) or `given` is on the backend's device and
  // not `copy_device`, else `buffer` holding a copy of it (a recorded step reads fixed
  // addresses, so with step graphs device tensors are copied too).
  const Tensor& staged(const Tensor& given, const Tensor& buffer, bool copy_device) const;

  Model* model_;
  backend::Backend& backend_;
  nn::OptimizerPtr optimizer_;
  std::vector<OutputCompileSpec> specs_;
  std::vector<std::string> loss_log_names_;                 // "<output>_loss" per output
  std::vector<std::vector<std::string>> metric_log_names_;  // per output, per metric

  bool prepared_ = false;
  std::vector<Shape> sample_shapes_;  // [-1, ...] of each input
  std::vector<Shape> target_shapes_;  // [-1, ...] of each output's targets
  std::vector<OutputState> outputs_;
  std::unique_ptr<nn::MeanTracker> loss_tracker_;
  Tensor parameters_;
  Tensor gradients_;
  GradientHook* gradient_hook_ = nullptr;
  graph::CrossReplicaSum* cross_replica_ = nullptr;
  bool step_graphs_ = true;
  int64_t graph_steps_ = 0;
  // By (mode, batch size, sample-weighted).
  std::map<std::tuple<StepMode, int64_t, bool>, std::unique_ptr<CompiledStep>> steps_;
};

}  // namespace trainyard::keras
