#include "keras/fit_loop.h"

#include <unistd.h>

#include <iostream>
#include <span>

#include "keras/epoch_batches.h"
#include "keras/model.h"
#include "keras/trainer.h"

namespace trainyard::keras {
namespace {

// One batch split into a step's arguments.
struct StepTensors {
  std::span<const Tensor> x;
  std::span<const Tensor> y;
  const Tensor& sample_weight;
};

const Tensor kNoWeights;

StepTensors step_tensors(const data::Batch& batch, size_t inputs, size_t outputs) {
  std::span<const Tensor> tensors = batch.tensors();
  return {tensors.first(inputs), tensors.subspan(inputs, outputs),
          tensors.size() > inputs + outputs ? tensors[inputs + outputs] : kNoWeights};
}

void warn_ran_out(const FitOptions& options) {
  (options.output ? *options.output : std::cerr)
      << "UserWarning: Your input ran out of data; interrupting training. Make sure that your "
         "dataset or generator can generate at least `steps_per_epoch * epochs` batches. You "
         "may need to use the `.repeat()` function when building your dataset.\n";
}

}  // namespace

std::ostream& output_of(std::ostream* requested) {
  return requested ? *requested : std::cout;
}

bool is_terminal(std::ostream* requested) {
  return requested == nullptr && isatty(STDOUT_FILENO) == 1;
}

void run_test_epoch(Trainer& trainer, const data::Dataset& dataset, size_t inputs, size_t outputs,
                    ProgressBar* bar) {
  trainer.reset_metrics();
  auto iterator = dataset.begin_epoch(0);
  data::Batch batch;
  while (iterator.next(batch)) {
    StepTensors step = step_tensors(batch, inputs, outputs);
    trainer.test_step(step.x, step.y, step.sample_weight);
    if (bar) bar->update(batch.index() + 1, trainer.results(), false);
  }
}

History run_fit(Model& model, Trainer& trainer, const FitData& data, const FitOptions& options) {
  EpochBatches batches(data.train, options.steps_per_epoch);
  std::ostream& out = output_of(options.output);
  History history;
  history.verbose = options.verbose;
  history.epochs = options.epochs;
  history.steps = batches.steps();
  const int64_t steps = batches.steps();
  const bool interactive = is_terminal(options.output);
  Clock clock = steady_clock_seconds();

  std::vector<Callback*> batch_callbacks;
  for (const CallbackPtr& callback : options.callbacks) {
    callback->set_model(&model);
    if (callback->wants_batch_events()) batch_callbacks.push_back(callback.get());
  }
  model.stop_training = false;
  model.initial_epoch_override.reset();
  for (const CallbackPtr& callback : options.callbacks) callback->on_train_begin();
  const int initial_epoch = model.initial_epoch_override.value_or(options.initial_epoch);
  model.initial_epoch_override.reset();

  Logs logs;
  for (int epoch = initial_epoch; epoch < options.epochs && !model.stop_training; ++epoch) {
    trainer.reset_metrics();
    for (const CallbackPtr& callback : options.callbacks) callback->on_epoch_begin(epoch);
    write_epoch_header(out, epoch, options.epochs, options.verbose);
    ProgressBar bar(
        out,
        {.target = steps, .verbose = options.verbose, .interactive = interactive, .clock = clock});
    double last_draw = -1;
    int64_t done = 0;
    batches.begin_epoch(epoch);
    data::Batch batch;
    while (!model.stop_training && batches.next(batch)) {
      const int64_t step = batches.step();
      for (Callback* callback : batch_callbacks) callback->on_train_batch_begin(step);
      StepTensors tensors = step_tensors(batch, data.inputs, data.outputs);
      trainer.train_step(tensors.x, tensors.y, tensors.sample_weight);
      done = step + 1;
      BatchLogs batch_logs(trainer);
      for (Callback* callback : batch_callbacks) callback->on_train_batch_end(step, batch_logs);
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
    if (batches.ran_out()) warn_ran_out(options);
    logs = trainer.results();
    if (data.validation && (epoch + 1) % options.validation_freq == 0) {
      run_test_epoch(trainer, *data.validation, data.inputs, data.outputs, nullptr);
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

}  // namespace trainyard::keras
