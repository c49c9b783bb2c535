#include "keras/model.h"

#include <unistd.h>

#include <cmath>
#include <iostream>
#include <thread>

#include "backend/backend.h"
#include "core/error.h"
#include "core/random.h"
#include "core/thread_pool.h"
#include "data/dataset.h"
#include "keras/trainer.h"

namespace trainyard::keras {
namespace {

std::ostream& output_of(std::ostream* requested) {
  return requested ? *requested : std::cout;
}

bool is_terminal(std::ostream* requested) {
  return requested == nullptr && isatty(STDOUT_FILENO) == 1;
}

// Throws unless every array is defined, has a sample dimension, and all hold as many samples.
void require_samples(const std::string& method, const std::vector<Tensor>& x,
                     const std::vector<Tensor>& y) {
  int64_t samples = -1;
  const Tensor* first = nullptr;
  auto check = [&](const Tensor& tensor, const std::string& argument) {
    if (!tensor.defined()) throw ValueError(method + ": " + argument + " is undefined");
    if (tensor.shape().rank() < 1) {
      throw ShapeError(method + ": " + argument + " needs a sample dimension, got " +
                       tensor.to_string());
    }
    if (samples >= 0 && tensor.shape()[0] != samples) {
      throw ShapeError(method + ": x and y must hold the same number of samples, got " +
                       first->shape().to_string() + " and " + argument + " " +
                       tensor.shape().to_string());
    }
    samples = tensor.shape()[0];
    first = &tensor;
  };
  for (size_t i = 0; i < x.size(); ++i)
    check(x[i], x.size() == 1 ? "x" : "x[" + std::to_string(i) + "]");
  for (size_t i = 0; i < y.size(); ++i)
    check(y[i], y.size() == 1 ? "y" : "y[" + std::to_string(i) + "]");
}

std::vector<Shape> shapes_of(const std::vector<Tensor>& tensors) {
  std::vector<Shape> shapes;
  for (const Tensor& tensor : tensors) shapes.push_back(tensor.shape());
  return shapes;
}

void require_batch_size(const char* method, int64_t batch_size) {
  if (batch_size < 1) {
    throw ValueError(std::string(method) + ": batch_size must be >= 1, got " +
                     std::to_string(batch_size));
  }
}

void require_verbose(const char* method, int verbose) {
  if (verbose < 0 || verbose > 2) {
    throw ValueError(std::string(method) + ": verbose must be 0, 1 or 2, got " +
                     std::to_string(verbose));
  }
}

// x and y as float32 (the compute dtype), converted while batches are gathered: the inputs' arrays
// first, then the targets'.
data::Dataset as_float_dataset(const std::vector<Tensor>& x, const std::vector<Tensor>& y) {
  std::vector<Tensor> arrays = x;
  arrays.insert(arrays.end(), y.begin(), y.end());
  data::Dataset dataset = data::Dataset::from_tensors(arrays);
  for (size_t i = 0; i < arrays.size(); ++i) dataset = dataset.cast(i, DType::kFloat32);
  return dataset;
}

// Runs the test step over every batch of `dataset`, optionally drawing a progress bar.
void run_test_epoch(Trainer& trainer, const data::Dataset& dataset, size_t inputs,
                    ProgressBar* bar) {
  trainer.reset_metrics();
  auto iterator = dataset.begin_epoch(0);
  data::Batch batch;
  while (iterator.next(batch)) {
    trainer.test_step(batch.tensors().first(inputs), batch.tensors().subspan(inputs));
    if (bar) bar->update(batch.index() + 1, trainer.results(), false);
  }
}

// Gathering runs ahead on its own thread only when a core is free for it and a batch is
// big enough for the gather to outweigh waking that thread each step; otherwise the
// prefetcher steals time from the compute pool (measured on 2 cores: slower at batch 1,
// 32 and 256 with the pool on both cores).
int prefetch_depth(const Shape& batch_shape) {
  constexpr int64_t kPrefetchBytes = 1 << 20;
  unsigned cores = std::thread::hardware_concurrency();
  bool spare_core = cores > static_cast<unsigned>(num_threads());
  bool big_batch = batch_shape.num_elements() * 4 >= kPrefetchBytes;
  return spare_core && big_batch ? 2 : 0;
}

}  // namespace

Model::Model(std::string name) : name_(std::move(name)) {}
Model::~Model() = default;

Model::Model(Model&& other) noexcept
    : name_(std::move(other.name_)),
      built_(other.built_),
      input_shapes_(std::move(other.input_shapes_)),
      trainer_(std::move(other.trainer_)) {
  if (trainer_) trainer_->rebind(*this);
}

Model& Model::operator=(Model&& other) noexcept {
  name_ = std::move(other.name_);
  built_ = other.built_;
  input_shapes_ = std::move(other.input_shapes_);
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

void Model::compile(const CompileOptions& options) {
  trainer_ = std::make_unique<Trainer>(*this, options, backend::cpu_backend());
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

History Model::fit(const Tensors& x_arrays, const Tensors& y_arrays, const FitOptions& options) {
  Trainer& trainer = this->trainer();
  std::vector<Tensor> x = inputs_in_order(x_arrays, "fit");
  std::vector<Tensor> y = targets_in_order(y_arrays, "fit");
  require_samples("fit", x, y);
  require_batch_size("fit", options.batch_size);
  require_verbose("fit", options.verbose);
  if (!(options.validation_split >= 0.0 && options.validation_split < 1.0)) {
    throw ValueError("fit: validation_split must be in [0, 1), got " +
                     std::to_string(options.validation_split));
  }
  if (options.epochs < 0 || options.initial_epoch < 0) {
    throw ValueError("fit: epochs and initial_epoch must be >= 0");
  }
  const size_t inputs = x.size();

  data::Dataset all = as_float_dataset(x, y);
  data::Dataset train = all;
  std::optional<data::Dataset> validation;
  std::vector<Tensor> validation_x, validation_y;
  if (options.validation_data) {
    validation_x = inputs_in_order(options.validation_data->x, "fit(validation_data)");
    validation_y = targets_in_order(options.validation_data->y, "fit(validation_data)");
    require_samples("fit(validation_data)", validation_x, validation_y);
    validation = as_float_dataset(validation_x, validation_y).batch(options.batch_size);
  } else if (options.validation_split > 0.0) {
    data::DatasetSplit split = all.split_at(options.validation_split);
    train = split.train;
    if (split.validation.num_samples() > 0) validation = split.validation.batch(options.batch_size);
  }
  if (train.num_samples() == 0) throw ValueError("fit: no training samples");
  if (options.shuffle) train = train.shuffle(options.seed.value_or(next_random_seed()));
  train = train.batch(options.batch_size);
  train = train.prefetch(prefetch_depth(train.batch_shape(0)));

  trainer.prepare(shapes_of(x), shapes_of(y));
  if (validation) {
    trainer.prepare(options.validation_data ? shapes_of(validation_x) : shapes_of(x),
                    options.validation_data ? shapes_of(validation_y) : shapes_of(y));
  }

  std::ostream& out = output_of(options.output);
  History history;
  history.verbose = options.verbose;
  history.epochs = options.epochs;
  history.steps = train.num_batches();
  const int64_t steps = train.num_batches();
  const bool interactive = is_terminal(options.output);
  Clock clock = steady_clock_seconds();

  std::vector<Callback*> batch_callbacks;
  for (const CallbackPtr& callback : options.callbacks) {
    if (!callback) throw ValueError("fit: callbacks must not be null");
    callback->set_model(this);
    if (callback->wants_batch_events()) batch_callbacks.push_back(callback.get());
  }
  stop_training = false;
  initial_epoch_override.reset();
  for (const CallbackPtr& callback : options.callbacks) callback->on_train_begin();
  const int initial_epoch = initial_epoch_override.value_or(options.initial_epoch);
  initial_epoch_override.reset();

  Logs logs;
  for (int epoch = initial_epoch; epoch < options.epochs && !stop_training; ++epoch) {
    trainer.reset_metrics();
    for (const CallbackPtr& callback : options.callbacks) callback->on_epoch_begin(epoch);
    write_epoch_header(out, epoch, options.epochs, options.verbose);
    ProgressBar bar(
        out,
        {.target = steps, .verbose = options.verbose, .interactive = interactive, .clock = clock});
    double last_draw = -1;
    int64_t done = 0;
    auto iterator = train.begin_epoch(epoch);
    data::Batch batch;
    while (!stop_training && iterator.next(batch)) {
      for (Callback* callback : batch_callbacks) callback->on_train_batch_begin(batch.index());
      trainer.train_step(batch.tensors().first(inputs), batch.tensors().subspan(inputs));
      done = batch.index() + 1;
      BatchLogs batch_logs(trainer);
      for (Callback* callback : batch_callbacks)
        callback->on_train_batch_end(batch.index(), batch_logs);
      // Only build logs when the bar could redraw (Keras throttles to 0.05 s); the first
      // step always reports, since the bar's per-step estimate starts after it.
      if (options.verbose == 1 && done < steps) {
        double now = clock();
        if (done == 1 || now - last_draw >= 0.05) {
          bar.update(done, trainer.results(), false);
          last_draw = now;
        }
      }
    }
    logs = trainer.results();
    if (validation) {
      run_test_epoch(trainer, *validation, inputs, nullptr);
      for (auto& [name, value] : trainer.results()) set_log(logs, "val_" + name, value);
    }
    for (const CallbackPtr& callback : options.callbacks) callback->on_epoch_end(epoch, logs);
    bar.update(done, logs, true);
    history.epoch.push_back(epoch);
    for (const auto& [name, value] : logs) history.history[name].push_back(value);
  }
  for (const CallbackPtr& callback : options.callbacks) callback->on_train_end(logs);
  return history;
}

std::vector<Tensor> Model::get_weights() const {
  std::vector<Tensor> values;
  for (const auto& variable : weights()) values.push_back(variable->value.clone());
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
  for (size_t i = 0; i < values.size(); ++i) variables[i]->value.copy_from(values[i]);
}

Logs Model::evaluate(const Tensors& x_arrays, const Tensors& y_arrays,
                     const EvaluateOptions& options) {
  Trainer& trainer = this->trainer();
  std::vector<Tensor> x = inputs_in_order(x_arrays, "evaluate");
  std::vector<Tensor> y = targets_in_order(y_arrays, "evaluate");
  require_samples("evaluate", x, y);
  require_batch_size("evaluate", options.batch_size);
  require_verbose("evaluate", options.verbose);
  trainer.prepare(shapes_of(x), shapes_of(y));
  data::Dataset dataset = as_float_dataset(x, y).batch(options.batch_size);
  std::ostream& out = output_of(options.output);
  ProgressBar bar(out, {.target = dataset.num_batches(),
                        .verbose = options.verbose,
                        .interactive = is_terminal(options.output)});
  run_test_epoch(trainer, dataset, x.size(), options.verbose == 1 ? &bar : nullptr);
  Logs logs = trainer.results();
  if (options.verbose == 2) bar.update(dataset.num_batches(), logs, true);
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
  if (!trainer_) {
    // Keras predicts with uncompiled models too.
    CompileOptions inference{.optimizer = "sgd", .loss = nn::LossFunction("mse")};
    trainer_ = std::make_unique<Trainer>(*this, inference, backend::cpu_backend());
  }
  trainer_->prepare_inputs(shapes_of(x));
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
