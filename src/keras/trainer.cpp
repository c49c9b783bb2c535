#include "keras/trainer.h"

#include "core/error.h"
#include "graph/ops/ops.h"
#include "keras/model.h"

namespace trainyard::keras {

struct Trainer::CompiledStep {
  graph::Graph graph;
  std::unique_ptr<graph::StepPlan> plan;
  graph::NodeId x = -1;
  graph::NodeId y = -1;
  graph::NodeId prediction = -1;
  graph::NodeId loss = -1;
};

Trainer::Trainer(Model& model, const CompileOptions& options, backend::Backend& backend)
    : model_(&model),
      backend_(backend),
      optimizer_(options.optimizer.optimizer),
      metric_names_(options.metrics) {
  if (!optimizer_) throw ValueError("compile: optimizer must not be null");
  if (!options.loss) {
    throw ValueError("compile: a loss is required (e.g. \"sparse_categorical_crossentropy\")");
  }
  loss_function_ = *options.loss;
  // Resolve names now so a typo fails at compile(), as in Keras, not at fit().
  loss_function_.validate();
}

Trainer::~Trainer() = default;

void Trainer::prepare_inputs(const Shape& x_shape) {
  Shape sample = x_shape.with_batch(-1);
  if (!model_->built()) model_->build(sample);
  if (prepared_ && sample == sample_shape_) return;
  model_->compute_output_shape(sample);  // throws ShapeError naming the layer on mismatch
  sample_shape_ = sample;
}

void Trainer::prepare(const Shape& x_shape, const Shape& y_shape) {
  Shape sample = x_shape.with_batch(-1);
  Shape target = y_shape.with_batch(-1);
  if (prepared_ && sample == sample_shape_ && target == target_shape_) return;
  if (!model_->built()) model_->build(sample);
  Shape output = model_->compute_output_shape(sample);
  loss_ = loss_function_.resolve(output.with_batch(1), target.with_batch(1));
  metrics_.clear();
  for (const std::string& name : metric_names_) {
    metrics_.emplace_back(name, output.with_batch(1), target.with_batch(1), backend_);
  }
  loss_tracker_ = std::make_unique<nn::MeanTracker>(backend_);
  sample_shape_ = sample;
  target_shape_ = target;
  steps_.clear();
  pack_variables();
  optimizer_->build(parameters_, model_->trainable_weights(), backend_);
  prepared_ = true;
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
    backend_.copy(variable.value, packed, false);
    variable.value = packed;
    variable.gradient = gradients_.view(byte_offset, variable.value.shape(), dtype);
  }
}

Trainer::CompiledStep& Trainer::compiled_step(StepMode mode, int64_t batch) {
  auto key = std::make_pair(mode, batch);
  if (auto it = steps_.find(key); it != steps_.end()) return *it->second;

  auto step = std::make_unique<CompiledStep>();
  DType dtype = parameters_.defined() ? parameters_.dtype() : DType::kFloat32;
  step->x = step->graph.add_input("x", {sample_shape_.with_batch(batch), dtype});
  step->prediction =
      model_->call(step->graph, step->x, nn::CallContext{.training = mode == StepMode::kTrain});
  graph::PlanRequest request{.outputs = {step->prediction}};
  if (mode != StepMode::kPredict) {
    step->y = step->graph.add_input("y", {target_shape_.with_batch(batch), dtype});
    step->loss = step->graph.add_op(graph::ops::loss(loss_), {step->prediction, step->y}, "loss");
    // Weight regularizers' penalties count in the reported loss, in training and evaluation.
    std::vector<graph::NodeId> terms{step->loss};
    for (const auto& layer : model_->layers()) {
      for (graph::NodeId penalty : layer->losses(step->graph)) terms.push_back(penalty);
    }
    if (terms.size() > 1) step->loss = step->graph.add_op(graph::ops::add_n(), terms, "total_loss");
    if (mode == StepMode::kTrain) {
      request.loss = step->loss;
    } else {
      request.outputs.push_back(step->loss);
    }
  }
  step->plan = std::make_unique<graph::StepPlan>(step->graph, request, backend_);
  return *steps_.emplace(key, std::move(step)).first->second;
}

void Trainer::train_step(const Tensor& x, const Tensor& y) {
  TY_CHECK(prepared_, "train_step before prepare");
  CompiledStep& step = compiled_step(StepMode::kTrain, x.shape()[0]);
  step.plan->bind_input(step.x, x);
  step.plan->bind_input(step.y, y);
  graph::StepInfo info{.training = true, .step = static_cast<uint64_t>(optimizer_->iterations())};
  step.plan->forward(info);
  step.plan->backward(info);
  optimizer_->apply(backend_, parameters_, gradients_);
  const Tensor& prediction = step.plan->value(step.prediction);
  loss_tracker_->update(backend_, step.plan->value(step.loss), static_cast<double>(x.shape()[0]));
  for (nn::Metric& metric : metrics_) metric.update(backend_, prediction, y);
}

void Trainer::test_step(const Tensor& x, const Tensor& y) {
  TY_CHECK(prepared_, "test_step before prepare");
  CompiledStep& step = compiled_step(StepMode::kTest, x.shape()[0]);
  step.plan->bind_input(step.x, x);
  step.plan->bind_input(step.y, y);
  step.plan->forward({.training = false});
  const Tensor& prediction = step.plan->value(step.prediction);
  loss_tracker_->update(backend_, step.plan->value(step.loss), static_cast<double>(x.shape()[0]));
  for (nn::Metric& metric : metrics_) metric.update(backend_, prediction, y);
}

void Trainer::predict_step(const Tensor& x, const Tensor& output) {
  CompiledStep& step = compiled_step(StepMode::kPredict, x.shape()[0]);
  step.plan->bind_input(step.x, x);
  step.plan->forward({.training = false});
  backend_.copy(step.plan->value(step.prediction), output, false);
}

void Trainer::reset_metrics() {
  if (loss_tracker_) loss_tracker_->reset();
  for (nn::Metric& metric : metrics_) metric.reset();
}

double Trainer::loss_result() const {
  return loss_tracker_ ? loss_tracker_->result() : 0.0;
}

std::optional<double> Trainer::result(std::string_view name) const {
  if (name == "loss") return loss_result();
  for (const nn::Metric& metric : metrics_) {
    if (metric.name() == name) return metric.result();
  }
  return std::nullopt;
}

Logs Trainer::results() const {
  Logs logs;
  if (loss_tracker_) logs.emplace_back("loss", loss_tracker_->result());
  for (const nn::Metric& metric : metrics_) logs.emplace_back(metric.name(), metric.result());
  return sort_logs(std::move(logs));
}

}  // namespace trainyard::keras
