#include "keras/trainer.h"

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "core/error.h"
#include "graph/ops/ops.h"
#include "keras/model.h"

namespace trainyard::keras {
namespace {

const Tensor kNoWeights;

const char* mode_name(StepMode mode) {
  switch (mode) {
    case StepMode::kTrain:
      return "train";
    case StepMode::kTest:
      return "test";
    case StepMode::kPredict:
      return "predict";
  }
  return "unknown";
}

bool step_graphs_from_environment() {
  const char* value = std::getenv("TRAINYARD_CUDA_GRAPHS");
  return value == nullptr || std::strcmp(value, "0") != 0;
}

}  // namespace

struct Trainer::CompiledStep {
  graph::Graph graph;
  std::unique_ptr<graph::StepPlan> plan;
  std::vector<graph::NodeId> x;
  std::vector<graph::NodeId> y;
  std::vector<graph::NodeId> predictions;
  graph::NodeId loss = -1;                 // the total: weighted losses plus penalties
  std::vector<graph::NodeId> output_loss;  // each output's unweighted loss
  graph::NodeId sample_weight = -1;        // [batch], weighted steps only
  // On a device backend: buffers there that each step's host batch is copied into, made
  // once per plan so a steady state allocates nothing. Empty on the CPU.
  std::vector<Tensor> staged_x;
  std::vector<Tensor> staged_y;
  Tensor staged_weight;
  std::vector<Tensor> bound_y;  // the targets the metrics read: staged or as given
  // Step graphs (see trainer.h): whether the eager first run happened, whether recording
  // failed for good, the recording, and the outside addresses it baked in. The plan's arena
  // and the staged buffers above are this step's own; it is destroyed before them.
  bool warm = false;
  bool graphs_refused = false;
  std::unique_ptr<backend::CapturedWork> captured;
  std::vector<const void*> captured_memory;
  std::vector<const void*> current_memory;  // refilled each step: checking allocates nothing
};

Trainer::Trainer(Model& model, const CompileOptions& options, backend::Backend& backend)
    : model_(&model),
      backend_(backend),
      optimizer_(options.optimizer.optimizer),
      step_graphs_(step_graphs_from_environment()) {
  if (!optimizer_) throw ValueError("compile: optimizer must not be null");
  // Resolved now so a typo fails at compile(), as in Keras, not at fit().
  specs_ = resolve_compile_options(options, model.output_names());
  metric_log_names_ = metric_log_names(specs_);
  for (const OutputCompileSpec& spec : specs_)
    loss_log_names_.push_back(spec.output_name + "_loss");
}

Trainer::~Trainer() = default;

void Trainer::prepare_inputs(const std::vector<Shape>& x_shapes) {
  std::vector<Shape> samples;
  for (const Shape& shape : x_shapes) samples.push_back(shape.with_batch(-1));
  if (!model_->built()) model_->build(samples);
  if (prepared_ && samples == sample_shapes_) return;
  model_->compute_output_shapes(samples);  // throws ShapeError naming the layer on mismatch
  sample_shapes_ = samples;
}

void Trainer::prepare(const Shape& x_shape, const Shape& y_shape) {
  prepare(std::vector<Shape>{x_shape}, std::vector<Shape>{y_shape});
}

void Trainer::prepare(const std::vector<Shape>& x_shapes, const std::vector<Shape>& y_shapes) {
  std::vector<Shape> samples, targets;
  for (const Shape& shape : x_shapes) samples.push_back(shape.with_batch(-1));
  for (const Shape& shape : y_shapes) targets.push_back(shape.with_batch(-1));
  if (prepared_ && samples == sample_shapes_ && targets == target_shapes_) return;
  if (targets.size() != specs_.size()) {
    throw ValueError("model '" + model_->name() + "' has " + std::to_string(specs_.size()) +
                     " output(s), got " + std::to_string(targets.size()) + " target array(s)");
  }
  if (!model_->built()) model_->build(samples);
  std::vector<Shape> outputs = model_->compute_output_shapes(samples);
  outputs_.clear();
  for (size_t i = 0; i < specs_.size(); ++i) {
    OutputState state;
    state.loss = specs_[i].loss.resolve(outputs[i].with_batch(1), targets[i].with_batch(1));
    for (const std::string& name : specs_[i].metrics) {
      state.metrics.emplace_back(name, outputs[i].with_batch(1), targets[i].with_batch(1),
                                 backend_);
    }
    if (specs_.size() > 1) state.loss_tracker = std::make_unique<nn::MeanTracker>(backend_);
    outputs_.push_back(std::move(state));
  }
  loss_tracker_ = std::make_unique<nn::MeanTracker>(backend_);
  sample_shapes_ = samples;
  target_shapes_ = targets;
  steps_.clear();
  pack_variables();
  optimizer_->build(parameters_, model_->trainable_weights(), backend_);
  prepared_ = true;
}

void Trainer::build_optimizer() {
  TY_CHECK(model_->built(), "build_optimizer needs a built model");
  pack_variables();
  optimizer_->build(parameters_, model_->trainable_weights(), backend_);
}

void Trainer::pack_variables() {
  // Each variable starts on a 64-byte boundary inside one flat buffer, so the optimizer
  // updates them all in one pass and kernels see aligned rows.
  constexpr int64_t kAlignElements = 16;
  std::vector<graph::VariablePtr> variables = model_->trainable_weights();
  int64_t total = 0;
  std::vector<int64_t> offsets;
  DType dtype = variables.empty() ? DType::kFloat32 : variables.front()->value.dtype();
  for (const auto& variable : variables) {
    if (variable->value.dtype() != dtype) {
      throw ValueError("model '" + model_->name() +
                       "': trainable variables must share one dtype; '" + variable->path + "' is " +
                       std::string(dtype_name(variable->value.dtype())));
    }
    offsets.push_back(total);
    total +=
        (variable->value.num_elements() + kAlignElements - 1) / kAlignElements * kAlignElements;
  }
  parameters_ = Tensor::zeros(Shape{std::max<int64_t>(total, 1)}, dtype, backend_.allocator());
  gradients_ = Tensor::zeros(Shape{std::max<int64_t>(total, 1)}, dtype, backend_.allocator());
  size_t element = dtype_size(dtype);
  for (size_t i = 0; i < variables.size(); ++i) {
    auto& variable = *variables[i];
    size_t byte_offset = static_cast<size_t>(offsets[i]) * element;
    Tensor packed = parameters_.view(byte_offset, variable.value.shape(), dtype);
    backend::copy_into(variable.value, packed);  // from the host on a device backend
    variable.value = packed;
    variable.gradient = gradients_.view(byte_offset, variable.value.shape(), dtype);
  }
}

Trainer::CompiledStep& Trainer::compiled_step(StepMode mode, int64_t batch, bool weighted) {
  auto key = std::make_tuple(mode, batch, weighted);
  if (auto it = steps_.find(key); it != steps_.end()) return *it->second;

  auto step = std::make_unique<CompiledStep>();
  DType dtype = parameters_.defined() ? parameters_.dtype() : DType::kFloat32;
  const bool single_input = sample_shapes_.size() == 1;
  for (size_t i = 0; i < sample_shapes_.size(); ++i) {
    step->x.push_back(step->graph.add_input(single_input ? "x" : "x_" + std::to_string(i),
                                            {sample_shapes_[i].with_batch(batch), dtype}));
  }
  step->predictions = predictions_for_losses(
      step->graph,
      model_->call(step->graph, step->x, nn::CallContext{.training = mode == StepMode::kTrain}),
      dtype);
  graph::PlanRequest request{.outputs = step->predictions};
  if (mode != StepMode::kPredict) {
    const bool single_output = target_shapes_.size() == 1;
    std::vector<backend::Loss> losses;
    std::vector<std::optional<double>> weights;
    for (size_t i = 0; i < target_shapes_.size(); ++i) {
      step->y.push_back(step->graph.add_input(single_output ? "y" : "y_" + std::to_string(i),
                                              {target_shapes_[i].with_batch(batch), dtype}));
      losses.push_back(outputs_[i].loss);
      weights.push_back(specs_[i].loss_weight);
    }
    // Weight regularizers' penalties count in the reported loss, in training and evaluation.
    std::vector<graph::NodeId> penalties;
    for (const auto& layer : model_->layers()) {
      for (graph::NodeId penalty : layer->losses(step->graph)) penalties.push_back(penalty);
    }
    if (weighted) {
      step->sample_weight = step->graph.add_input("sample_weight", {Shape{batch}, dtype});
    }
    LossNodes loss_nodes = add_loss_nodes(step->graph, losses, weights, step->predictions, step->y,
                                          penalties, step->sample_weight);
    step->loss = loss_nodes.total;
    step->output_loss = loss_nodes.per_output;
    if (!single_output) {
      request.outputs.insert(request.outputs.end(), step->output_loss.begin(),
                             step->output_loss.end());
    }
    if (mode == StepMode::kTrain) {
      request.loss = step->loss;
    } else {
      request.outputs.push_back(step->loss);
    }
  }
  step->plan = std::make_unique<graph::StepPlan>(step->graph, request, backend_);
  // Undefined buffers on the CPU: steps bind the given tensors directly.
  const bool device_backend = !backend_.device().is_cpu();
  auto buffer_for = [&](const Shape& shape) {
    return device_backend ? Tensor::zeros(shape, dtype, backend_.allocator()) : Tensor();
  };
  for (graph::NodeId id : step->x) step->staged_x.push_back(buffer_for(step->graph.spec(id).shape));
  for (graph::NodeId id : step->y) step->staged_y.push_back(buffer_for(step->graph.spec(id).shape));
  if (step->sample_weight >= 0) step->staged_weight = buffer_for(Shape{batch});
  step->bound_y.resize(step->y.size());
  return *steps_.emplace(key, std::move(step)).first->second;
}

void Trainer::bind_step(CompiledStep& step, std::span<const Tensor> x, std::span<const Tensor> y,
                        const Tensor& sample_weight) {
  TY_CHECK(x.size() == step.x.size() && y.size() == step.y.size(),
           "a step needs one tensor per model input and output");
  const bool copy_device = graphs_apply(step);
  for (size_t i = 0; i < x.size(); ++i) {
    step.plan->bind_input(step.x[i], staged(x[i], step.staged_x[i], copy_device));
  }
  for (size_t i = 0; i < y.size(); ++i) {
    step.bound_y[i] = staged(y[i], step.staged_y[i], copy_device);
    step.plan->bind_input(step.y[i], step.bound_y[i]);
  }
  if (step.sample_weight >= 0) {
    step.plan->bind_input(step.sample_weight,
                          staged(sample_weight, step.staged_weight, copy_device));
  }
}

const Tensor& Trainer::staged(const Tensor& given, const Tensor& buffer, bool copy_device) const {
  // Tensors already on the backend's device (a dataset moved there) are used as they are,
  // unless a recorded step reads them from the staged buffer.
  if (!buffer.defined()) return given;
  if (given.device() == backend_.device() && !copy_device) return given;
  if (given.shape() != buffer.shape() || given.dtype() != buffer.dtype()) {
    throw ShapeError("step input " + given.to_string() + " does not match the compiled " +
                     buffer.to_string());
  }
  backend::copy_into(given, buffer);
  return buffer;
}

void Trainer::update_metrics(const CompiledStep& step, int64_t batch) {
  const auto rows = static_cast<double>(batch);
  loss_tracker_->update(backend_, step.plan->value(step.loss), rows);
  for (size_t i = 0; i < outputs_.size(); ++i) {
    OutputState& output = outputs_[i];
    const Tensor& prediction = step.plan->value(step.predictions[i]);
    if (output.loss_tracker) {
      output.loss_tracker->update(backend_, step.plan->value(step.output_loss[i]), rows);
    }
    for (nn::Metric& metric : output.metrics) {
      metric.update(backend_, prediction, step.bound_y[i]);
    }
  }
}

void Trainer::train_step(const Tensor& x, const Tensor& y) {
  train_step(std::span<const Tensor>(&x, 1), std::span<const Tensor>(&y, 1));
}

void Trainer::train_step(std::span<const Tensor> x, std::span<const Tensor> y) {
  train_step(x, y, kNoWeights);
}

void Trainer::train_step(std::span<const Tensor> x, std::span<const Tensor> y,
                         const Tensor& sample_weight) {
  TY_CHECK(prepared_, "train_step before prepare");
  const int64_t batch = x[0].shape()[0];
  CompiledStep& step = compiled_step(StepMode::kTrain, batch, sample_weight.defined());
  bind_step(step, x, y, sample_weight);
  run_step(step, StepMode::kTrain, batch);
}

bool Trainer::graphs_apply(const CompiledStep& step) const {
  return step_graphs_ && gradient_hook_ == nullptr && !step.graphs_refused &&
         backend_.supports_step_graphs();
}

void Trainer::queue_step_work(CompiledStep& step, StepMode mode, int64_t batch) {
  const bool training = mode == StepMode::kTrain;
  graph::StepInfo info{.training = training,
                       .step = training ? static_cast<uint64_t>(optimizer_->iterations()) : 0,
                       .cross_replica = training ? cross_replica_ : nullptr};
  step.plan->forward(info);
  if (training) {
    step.plan->backward(info);
    if (gradient_hook_) gradient_hook_->on_gradients(gradients_);
    optimizer_->apply(backend_, parameters_, gradients_);
  }
  if (mode != StepMode::kPredict) update_metrics(step, batch);
}

void Trainer::run_step(CompiledStep& step, StepMode mode, int64_t batch) {
  if (!graphs_apply(step) || !step.warm) {
    queue_step_work(step, mode, batch);
    step.warm = true;
    return;
  }
  if (mode == StepMode::kTrain) {
    // The values this step's recording reads from device memory, queued before it runs.
    backend::StepScalars scalars;
    scalars.dropout_step = static_cast<uint64_t>(optimizer_->iterations());
    scalars.optimizer = optimizer_->next_update();
    backend_.set_step_scalars(scalars);
  }
  step.current_memory.clear();
  note_captured_memory(step.current_memory);
  if (step.captured && step.current_memory == step.captured_memory &&
      backend_.replay(*step.captured)) {
    // The replay made the update; the host's count follows it as apply() would.
    if (mode == StepMode::kTrain) optimizer_->set_iterations(optimizer_->iterations() + 1);
    ++graph_steps_;
    return;
  }
  capture_and_run(step, mode, batch);
}

void Trainer::capture_and_run(CompiledStep& step, StepMode mode, int64_t batch) {
  step.captured.reset();
  const int64_t iterations = optimizer_->iterations();
  try {
    backend_.begin_capture();
    queue_step_work(step, mode, batch);
    step.captured = backend_.end_capture();
  } catch (const std::exception& error) {
    // Nothing recorded ran: undo the host's side of it and run the step as before.
    backend_.abandon_capture();
    optimizer_->set_iterations(iterations);
    step.graphs_refused = true;
    std::cerr << "trainyard: the " << mode_name(mode) << " step of batch size " << batch
              << " runs eagerly: recording it as a CUDA graph failed: " << error.what() << "\n";
    queue_step_work(step, mode, batch);
    return;
  }
  step.captured_memory = step.current_memory;
  TY_CHECK(backend_.replay(*step.captured), "a step recorded just now must replay");
  ++graph_steps_;
}

void Trainer::note_captured_memory(std::vector<const void*>& memory) const {
  // Everything else a recording reads is the step's own or made by prepare(), which drops
  // every compiled step. These are replaced when variables are packed anew.
  if (parameters_.defined()) memory.push_back(parameters_.raw_data());
  if (gradients_.defined()) memory.push_back(gradients_.raw_data());
  for (const Tensor& slot : optimizer_->slots()) memory.push_back(slot.raw_data());
}

void Trainer::test_step(const Tensor& x, const Tensor& y) {
  test_step(std::span<const Tensor>(&x, 1), std::span<const Tensor>(&y, 1));
}

void Trainer::test_step(std::span<const Tensor> x, std::span<const Tensor> y) {
  test_step(x, y, kNoWeights);
}

void Trainer::test_step(std::span<const Tensor> x, std::span<const Tensor> y,
                        const Tensor& sample_weight) {
  TY_CHECK(prepared_, "test_step before prepare");
  const int64_t batch = x[0].shape()[0];
  CompiledStep& step = compiled_step(StepMode::kTest, batch, sample_weight.defined());
  bind_step(step, x, y, sample_weight);
  run_step(step, StepMode::kTest, batch);
}

void Trainer::predict_step(std::span<const Tensor> x, std::span<const Tensor> outputs) {
  CompiledStep& step = compiled_step(StepMode::kPredict, x[0].shape()[0]);
  TY_CHECK(outputs.size() == step.predictions.size(), "predict_step needs one tensor per output");
  bind_step(step, x, {}, kNoWeights);
  run_step(step, StepMode::kPredict, x[0].shape()[0]);
  for (size_t i = 0; i < outputs.size(); ++i) {
    backend::copy_into(step.plan->value(step.predictions[i]), outputs[i]);
  }
}

void Trainer::reset_metrics() {
  if (loss_tracker_) loss_tracker_->reset();
  for (OutputState& output : outputs_) {
    if (output.loss_tracker) output.loss_tracker->reset();
    for (nn::Metric& metric : output.metrics) metric.reset();
  }
}

double Trainer::loss_result() const {
  return loss_tracker_ ? loss_tracker_->result() : 0.0;
}

std::optional<double> Trainer::result(std::string_view name) const {
  if (name == "loss") return loss_result();
  for (size_t i = 0; i < outputs_.size(); ++i) {
    const OutputState& output = outputs_[i];
    if (output.loss_tracker && name == loss_log_names_[i]) return output.loss_tracker->result();
    for (size_t m = 0; m < output.metrics.size(); ++m) {
      if (name == metric_log_names_[i][m]) return output.metrics[m].result();
    }
  }
  return std::nullopt;
}

Logs Trainer::results() const {
  Logs logs;
  if (loss_tracker_) logs.emplace_back("loss", loss_tracker_->result());
  for (size_t i = 0; i < outputs_.size(); ++i) {
    const OutputState& output = outputs_[i];
    if (output.loss_tracker) logs.emplace_back(loss_log_names_[i], output.loss_tracker->result());
    for (size_t m = 0; m < output.metrics.size(); ++m) {
      logs.emplace_back(metric_log_names_[i][m], output.metrics[m].result());
    }
  }
  return sort_logs(std::move(logs));
}

}  // namespace trainyard::keras
