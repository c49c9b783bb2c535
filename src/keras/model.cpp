#include "keras/model.h"

#include <cmath>

#include "backend/backend.h"
#include "core/error.h"
#include "core/random.h"
#include "data/dataset.h"
#include "keras/dataset_input.h"
#include "keras/fit_arguments.h"
#include "keras/fit_loop.h"
#include "keras/sample_weights.h"
#include "keras/trainer.h"

namespace trainyard::keras {
namespace {

// `parts` ([rows_i, ...sample]) one after another: [sum of rows_i, ...sample].
Tensor concatenate_rows(const std::vector<Tensor>& parts, const Shape& sample) {
  int64_t rows = 0;
  for (const Tensor& part : parts) rows += part.shape()[0];
  Tensor result = Tensor::zeros(sample.with_batch(rows), DType::kFloat32);
  int64_t row = 0;
  for (const Tensor& part : parts) {
    result.slice_rows(row, row + part.shape()[0]).copy_from(part);
    row += part.shape()[0];
  }
  return result;
}

void prepare_validation(Trainer& trainer, const FitData& data) {
  if (!data.validation) return;
  trainer.prepare(batch_shapes(*data.validation, 0, data.inputs),
                  batch_shapes(*data.validation, data.inputs, data.outputs));
}

}  // namespace

Model::Model(std::string name) : name_(std::move(name)) {}
Model::~Model() = default;

Model::Model(Model&& other) noexcept
    : name_(std::move(other.name_)),
      built_(other.built_),
      input_shapes_(std::move(other.input_shapes_)),
      device_(other.device_),
      trainer_(std::move(other.trainer_)) {
  if (trainer_) trainer_->rebind(*this);
}

Model& Model::operator=(Model&& other) noexcept {
  name_ = std::move(other.name_);
  built_ = other.built_;
  input_shapes_ = std::move(other.input_shapes_);
  device_ = other.device_;
  trainer_ = std::move(other.trainer_);
  if (trainer_) trainer_->rebind(*this);
  return *this;
}

void Model::build(const Shape& input_shape) {
  build(std::vector<Shape>{input_shape});
}

void Model::build(const std::vector<Shape>& input_shapes) {
  std::vector<Shape> shapes;
  for (const Shape& shape : input_shapes) shapes.push_back(shape.with_batch(-1));
  if (built_) {
    if (shapes != input_shapes_) {
      auto list = [](const std::vector<Shape>& list_shapes) {
        std::string text;
        for (const Shape& shape : list_shapes) {
          text.append(text.empty() ? "" : ", ").append(shape.to_keras_string());
        }
        return text;
      };
      throw ShapeError("model '" + name_ + "' was built for inputs " + list(input_shapes_) +
                       ", not " + list(shapes));
    }
    return;
  }
  if (shapes.size() != num_inputs()) {
    throw ValueError("model '" + name_ + "' has " + std::to_string(num_inputs()) +
                     " input(s), got " + std::to_string(shapes.size()) + " shape(s)");
  }
  build_layers(shapes);
  set_built(std::move(shapes));
}

void Model::set_built(std::vector<Shape> input_shapes) {
  input_shapes_ = std::move(input_shapes);
  built_ = true;
}

Shape Model::compute_output_shape(const Shape& input_shape) const {
  if (num_inputs() != 1 || num_outputs() != 1) {
    throw ValueError("model '" + name_ + "' has " + std::to_string(num_inputs()) +
                     " input(s) and " + std::to_string(num_outputs()) +
                     " output(s); use compute_output_shapes");
  }
  return compute_output_shapes({input_shape}).at(0);
}

void Model::to(const Device& device) {
  if (device == device_) return;
  if (trainer_) {
    throw ValueError("model '" + name_ + "' is compiled for " + device_.to_string() + "; call to(" +
                     device.to_string() + ") before compile()");
  }
  backend::backend_for(device);  // fails now, naming the device, if it cannot be used
  for (const auto& variable : weights()) {
    variable->value = backend::to_device(variable->value, device);
  }
  device_ = device;
}

void Model::compile(const CompileOptions& options) {
  trainer_ = std::make_unique<Trainer>(*this, options, backend::backend_for(device_));
}

Trainer& Model::trainer() const {
  if (!trainer_) {
    throw ValueError("model '" + name_ +
                     "' must be compiled first: call compile() before fit(), "
                     "evaluate() or train_on_batch()");
  }
  return *trainer_;
}

nn::Optimizer& Model::optimizer() const {
  return trainer().optimizer();
}

std::vector<Tensor> Model::inputs_in_order(const Tensors& x, const char* method) const {
  if (x.empty()) throw ValueError(std::string(method) + ": x is undefined");
  return x.in_order(input_names(), std::string(method) + ": x");
}

std::vector<Tensor> Model::targets_in_order(const Tensors& y, const char* method) const {
  if (y.empty()) throw ValueError(std::string(method) + ": y is undefined");
  return y.in_order(output_names(), std::string(method) + ": y");
}

// fit(validation_data=...): arrays (with optional weights) or a finite Dataset, batched.
data::Dataset Model::validation_dataset(const FitOptions& options) const {
  const ValidationData& validation = *options.validation_data;
  if (validation.dataset) {
    if (!validation.x.empty() || !validation.y.empty() || validation.sample_weight.defined()) {
      throw ValueError("fit: validation_data takes arrays (x, y) or a dataset, not both");
    }
    if (validation.dataset->repeats_forever()) {
      throw ValueError("fit: the validation_data dataset repeats forever; give it an end");
    }
    return model_dataset("fit(validation_data)", *validation.dataset, num_inputs(), num_outputs(),
                         true);
  }
  std::vector<Tensor> x = inputs_in_order(validation.x, "fit(validation_data)");
  std::vector<Tensor> y = targets_in_order(validation.y, "fit(validation_data)");
  require_samples("fit(validation_data)", x, y);
  Tensor weights;
  if (validation.sample_weight.defined()) {
    weights =
        checked_sample_weight("fit(validation_data)", validation.sample_weight, x[0].shape()[0]);
  }
  return as_float_dataset(x, y, weights).batch(options.batch_size);
}

History Model::fit(const Tensors& x_arrays, const Tensors& y_arrays, const FitOptions& options) {
  Trainer& trainer = this->trainer();
  std::vector<Tensor> x = inputs_in_order(x_arrays, "fit");
  std::vector<Tensor> y = targets_in_order(y_arrays, "fit");
  require_samples("fit", x, y);
  require_fit_options(options, num_outputs());
  const int64_t samples = x[0].shape()[0];
  // Keras splits sample_weight with the data, but weighs only the training part by class.
  Tensor sample_weight;
  if (options.sample_weight.defined()) {
    sample_weight = checked_sample_weight("fit", options.sample_weight, samples);
  }
  Tensor train_weight = options.class_weight.empty()
                            ? sample_weight
                            : class_weight_to_sample_weight(y[0], options.class_weight);

  FitData data{
      .train = as_float_dataset(x, y, train_weight), .inputs = x.size(), .outputs = y.size()};
  if (options.validation_data) {
    data.validation = validation_dataset(options);
  } else if (options.validation_split > 0.0) {
    data.train = data.train.split_at(options.validation_split).train;
    data::Dataset held_out =
        as_float_dataset(x, y, sample_weight).split_at(options.validation_split).validation;
    if (held_out.num_samples() > 0) data.validation = held_out.batch(options.batch_size);
  }
  if (data.train.num_samples() == 0) throw ValueError("fit: no training samples");
  if (options.shuffle) data.train = data.train.shuffle(options.seed.value_or(next_random_seed()));
  data.train = data.train.batch(options.batch_size);
  data.train = data.train.prefetch(prefetch_depth(data.train.batch_shape(0)));

  trainer.prepare(shapes_of(x), shapes_of(y));
  prepare_validation(trainer, data);
  return run_fit(*this, trainer, data, options);
}

History Model::fit(const data::Dataset& dataset, const FitOptions& options) {
  Trainer& trainer = this->trainer();
  require_fit_options(options, num_outputs());
  if (options.validation_split > 0.0) {
    throw ValueError("fit: validation_split needs arrays, not a Dataset; pass validation_data");
  }
  if (options.sample_weight.defined() || !options.class_weight.empty()) {
    throw ValueError(
        "fit: sample_weight and class_weight need arrays, not a Dataset; give each batch "
        "its sample weights as the dataset's last array");
  }
  FitData data{.train = model_dataset("fit", dataset, num_inputs(), num_outputs(), true),
               .inputs = num_inputs(),
               .outputs = num_outputs()};
  if (data.train.repeats_forever() && !options.steps_per_epoch) {
    throw ValueError("fit: the dataset repeats forever, so steps_per_epoch must be set");
  }
  if (options.validation_data) data.validation = validation_dataset(options);
  trainer.prepare(batch_shapes(data.train, 0, data.inputs),
                  batch_shapes(data.train, data.inputs, data.outputs));
  prepare_validation(trainer, data);
  return run_fit(*this, trainer, data, options);
}

std::vector<Tensor> Model::get_weights() const {
  std::vector<Tensor> values;
  for (const auto& variable : weights()) {
    const Tensor& value = variable->value;
    values.push_back(value.device().is_cpu() ? value.clone()
                                             : backend::to_device(value, cpu_device()));
  }
  return values;
}

void Model::set_weights(const std::vector<Tensor>& values) {
  std::vector<graph::VariablePtr> variables = weights();
  if (values.size() != variables.size()) {
    throw ValueError("set_weights: model '" + name_ + "' has " + std::to_string(variables.size()) +
                     " weights, got " + std::to_string(values.size()));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    const Tensor& value = variables[i]->value;
    if (values[i].shape() != value.shape() || values[i].dtype() != value.dtype()) {
      throw ShapeError("set_weights: weight " + std::to_string(i) + " ('" + variables[i]->path +
                       "') is " + value.shape().to_string() + " " +
                       std::string(dtype_name(value.dtype())) + ", got " + values[i].to_string());
    }
  }
  for (size_t i = 0; i < values.size(); ++i) backend::copy_into(values[i], variables[i]->value);
}

Logs Model::evaluate(const Tensors& x_arrays, const Tensors& y_arrays,
                     const EvaluateOptions& options) {
  Trainer& trainer = this->trainer();
  std::vector<Tensor> x = inputs_in_order(x_arrays, "evaluate");
  std::vector<Tensor> y = targets_in_order(y_arrays, "evaluate");
  require_samples("evaluate", x, y);
  require_batch_size("evaluate", options.batch_size);
  require_verbose("evaluate", options.verbose);
  Tensor weights;
  if (options.sample_weight.defined()) {
    weights = checked_sample_weight("evaluate", options.sample_weight, x[0].shape()[0]);
  }
  trainer.prepare(shapes_of(x), shapes_of(y));
  return evaluate_batches(trainer, as_float_dataset(x, y, weights).batch(options.batch_size),
                          options);
}

Logs Model::evaluate(const data::Dataset& dataset, const EvaluateOptions& options) {
  Trainer& trainer = this->trainer();
  require_verbose("evaluate", options.verbose);
  if (options.sample_weight.defined()) {
    throw ValueError(
        "evaluate: sample_weight needs arrays, not a Dataset; give each batch its sample "
        "weights as the dataset's last array");
  }
  data::Dataset batches = model_dataset("evaluate", dataset, num_inputs(), num_outputs(), true);
  if (batches.repeats_forever()) {
    throw ValueError("evaluate: the dataset repeats forever; give it an end");
  }
  trainer.prepare(batch_shapes(batches, 0, num_inputs()),
                  batch_shapes(batches, num_inputs(), num_outputs()));
  return evaluate_batches(trainer, batches, options);
}

Logs Model::evaluate_batches(Trainer& trainer, const data::Dataset& batches,
                             const EvaluateOptions& options) {
  ProgressBar bar(output_of(options.output), {.target = batches.num_batches(),
                                              .verbose = options.verbose,
                                              .interactive = is_terminal(options.output)});
  run_test_epoch(trainer, batches, num_inputs(), num_outputs(),
                 options.verbose == 1 ? &bar : nullptr);
  Logs logs = trainer.results();
  if (options.verbose == 2) bar.update(batches.num_batches(), logs, true);
  return logs;
}

Tensor Model::predict(const Tensor& x, const PredictOptions& options) {
  if (num_outputs() != 1) {
    throw ValueError("predict: model '" + name_ + "' has " + std::to_string(num_outputs()) +
                     " outputs; pass x as a list or map (Tensors) to get one "
                     "tensor per output");
  }
  return predict(Tensors(x), options).at(0);
}

std::vector<Tensor> Model::predict(const Tensors& x_arrays, const PredictOptions& options) {
  std::vector<Tensor> x = inputs_in_order(x_arrays, "predict");
  require_samples("predict", x, {});
  require_batch_size("predict", options.batch_size);
  require_verbose("predict", options.verbose);
  prepare_prediction(shapes_of(x));
  std::vector<Shape> samples;
  for (const Tensor& tensor : x) samples.push_back(tensor.shape().with_batch(-1));
  const int64_t rows = x[0].shape()[0];
  std::vector<Tensor> outputs;
  for (const Shape& shape : compute_output_shapes(samples)) {
    outputs.push_back(Tensor::zeros(shape.with_batch(rows), DType::kFloat32));
  }
  data::Dataset dataset = as_float_dataset(x, {}).batch(options.batch_size);
  ProgressBar bar(output_of(options.output), {.target = dataset.num_batches(),
                                              .verbose = options.verbose,
                                              .interactive = is_terminal(options.output)});
  auto iterator = dataset.begin_epoch(0);
  data::Batch batch;
  int64_t row = 0;
  std::vector<Tensor> slices(outputs.size());
  while (iterator.next(batch)) {
    for (size_t i = 0; i < outputs.size(); ++i) {
      slices[i] = outputs[i].slice_rows(row, row + batch.num_samples());
    }
    trainer_->predict_step(batch.tensors(), slices);
    row += batch.num_samples();
    bar.update(batch.index() + 1, {}, std::nullopt);
  }
  return outputs;
}

std::vector<Tensor> Model::predict(const data::Dataset& dataset, const PredictOptions& options) {
  require_verbose("predict", options.verbose);
  data::Dataset batches = model_dataset("predict", dataset, num_inputs(), num_outputs(), false);
  if (batches.repeats_forever()) {
    throw ValueError("predict: the dataset repeats forever; give it an end");
  }
  prepare_prediction(batch_shapes(batches, 0, num_inputs()));
  ProgressBar bar(output_of(options.output), {.target = batches.num_batches(),
                                              .verbose = options.verbose,
                                              .interactive = is_terminal(options.output)});
  // Batch sizes are only known as the batches come, so each batch's outputs are kept and
  // joined at the end.
  std::vector<Shape> samples;
  for (const Shape& shape : batch_shapes(batches, 0, num_inputs())) {
    samples.push_back(shape.with_batch(-1));
  }
  const std::vector<Shape> output_shapes = compute_output_shapes(samples);
  std::vector<std::vector<Tensor>> parts(num_outputs());
  auto iterator = batches.begin_epoch(0);
  data::Batch batch;
  while (iterator.next(batch)) {
    std::vector<Tensor> outputs;
    for (const Shape& shape : output_shapes) {
      outputs.push_back(Tensor::zeros(shape.with_batch(batch.num_samples()), DType::kFloat32));
    }
    trainer_->predict_step(batch.tensors().first(num_inputs()), outputs);
    for (size_t i = 0; i < outputs.size(); ++i) parts[i].push_back(outputs[i]);
    bar.update(batch.index() + 1, {}, std::nullopt);
  }
  std::vector<Tensor> results;
  for (size_t i = 0; i < parts.size(); ++i) {
    results.push_back(concatenate_rows(parts[i], output_shapes[i]));
  }
  return results;
}

void Model::prepare_prediction(const std::vector<Shape>& x_shapes) {
  if (!trainer_) {
    // Keras predicts with uncompiled models too.
    CompileOptions inference{.optimizer = "sgd", .loss = nn::LossFunction("mse")};
    trainer_ = std::make_unique<Trainer>(*this, inference, backend::backend_for(device_));
  }
  trainer_->prepare_inputs(x_shapes);
}

Logs Model::train_on_batch(const Tensors& x_arrays, const Tensors& y_arrays) {
  Trainer& trainer = this->trainer();
  std::vector<Tensor> x = inputs_in_order(x_arrays, "train_on_batch");
  std::vector<Tensor> y = targets_in_order(y_arrays, "train_on_batch");
  require_samples("train_on_batch", x, y);
  trainer.prepare(shapes_of(x), shapes_of(y));
  trainer.reset_metrics();
  for (Tensor& tensor : x) {
    if (tensor.dtype() != DType::kFloat32) tensor = tensor.cast(DType::kFloat32);
  }
  for (Tensor& tensor : y) {
    if (tensor.dtype() != DType::kFloat32) tensor = tensor.cast(DType::kFloat32);
  }
  trainer.train_step(x, y);
  return trainer.results();
}

std::vector<graph::VariablePtr> Model::weights() const {
  std::vector<graph::VariablePtr> result;
  for (const auto& layer : layers()) {
    for (auto& variable : layer->weights()) result.push_back(variable);
  }
  return result;
}

std::vector<graph::VariablePtr> Model::trainable_weights() const {
  std::vector<graph::VariablePtr> result;
  for (const auto& layer : layers()) {
    for (auto& variable : layer->trainable_weights()) result.push_back(variable);
  }
  return result;
}

std::vector<graph::VariablePtr> Model::non_trainable_weights() const {
  std::vector<graph::VariablePtr> result;
  for (const auto& layer : layers()) {
    for (auto& variable : layer->non_trainable_weights()) result.push_back(variable);
  }
  return result;
}

int64_t Model::count_params() const {
  int64_t count = 0;
  for (const auto& layer : layers()) count += layer->count_params();
  return count;
}

}  // namespace trainyard::keras
