#include "nn/optimizers/optimizer.h"

#include "core/error.h"

namespace trainyard::nn {

Optimizer::Optimizer(std::string default_name, const OptimizerOptions& options,
                     std::vector<std::string> slot_names)
    : name_(options.name.empty() ? std::move(default_name) : options.name),
      schedule_(options.learning_rate.schedule),
      weight_decay_(options.weight_decay),
      slot_names_(std::move(slot_names)) {
  if (!schedule_) set_learning_rate(options.learning_rate.value);
  if (options.weight_decay < 0) {
    throw ValueError(name_ + ": weight_decay must be >= 0, got " +
                     std::to_string(options.weight_decay));
  }
}

double Optimizer::learning_rate() const {
  if (!schedule_) return learning_rate_;
  // Keras evaluates the schedule in float32 too.
  return static_cast<double>(static_cast<float>((*schedule_)(iterations_)));
}

void Optimizer::set_learning_rate(double learning_rate) {
  if (schedule_) {
    throw ValueError(name_ + ": the learning rate follows a " + schedule_->class_name() +
                     " schedule and cannot be set");
  }
  if (!(learning_rate >= 0)) {
    throw ValueError(name_ + ": learning_rate must be >= 0, got " + std::to_string(learning_rate));
  }
  learning_rate_ = static_cast<double>(static_cast<float>(learning_rate));
}

void Optimizer::build(const Tensor& parameters, backend::Backend& backend) {
  if (built_) {
    if (built_size_ == parameters.num_elements()) return;
    throw ValueError(name_ + ": already built for " + std::to_string(built_size_) +
                     " parameters, now given " + std::to_string(parameters.num_elements()) +
                     " (use a new optimizer for a different model)");
  }
  built_size_ = parameters.num_elements();
  for (size_t i = 0; i < slot_names_.size(); ++i) {
    slots_.push_back(Tensor::zeros(parameters.shape(), parameters.dtype(), backend.allocator()));
  }
  built_ = true;
}

void Optimizer::apply(backend::Backend& backend, const Tensor& parameters,
                      const Tensor& gradients) {
  TY_CHECK(built_, name_ + ": apply before build");
  backend::OptimizerStep step = step_constants();
  step.learning_rate = learning_rate();
  step.weight_decay = weight_decay_;
  step.iteration = iterations_;
  static const Tensor kNone;
  auto slot = [&](size_t i) -> const Tensor& { return i < slots_.size() ? slots_[i] : kNone; };
  backend.optimizer_update(step, parameters, gradients, slot(0), slot(1), slot(2));
  ++iterations_;
}

}  // namespace trainyard::nn
