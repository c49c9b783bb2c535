#include "nn/optimizers/optimizer.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace trainyard::nn {
namespace {

void require_positive(const std::string& optimizer, const char* option,
                      const std::optional<double>& value) {
  if (value && !(*value > 0 && std::isfinite(*value))) {
    std::ostringstream message;
    message << optimizer << ": " << option << " must be a finite number > 0, got " << *value;
    throw ValueError(message.str());
  }
}

// Keras's rule: at most one of clipnorm, clipvalue and global_clipnorm. Returns the one set.
std::optional<backend::GradientClip> clip_from(const std::string& optimizer,
                                               const OptimizerOptions& options) {
  require_positive(optimizer, "clipnorm", options.clipnorm);
  require_positive(optimizer, "clipvalue", options.clipvalue);
  require_positive(optimizer, "global_clipnorm", options.global_clipnorm);
  std::ostringstream set;
  int count = 0;
  std::optional<backend::GradientClip> clip;
  auto note = [&](const char* option, const std::optional<double>& value, backend::ClipMode mode) {
    if (!value) return;
    set << (count++ ? " and " : "") << option << "=" << *value;
    clip = backend::GradientClip{mode, *value};
  };
  note("clipnorm", options.clipnorm, backend::ClipMode::kNorm);
  note("clipvalue", options.clipvalue, backend::ClipMode::kValue);
  note("global_clipnorm", options.global_clipnorm, backend::ClipMode::kGlobalNorm);
  if (count > 1) {
    throw ValueError(optimizer +
                     ": only one of clipnorm, clipvalue and global_clipnorm can be set, got " +
                     set.str());
  }
  return clip;
}

}  // namespace

Optimizer::Optimizer(std::string default_name, const OptimizerOptions& options,
                     std::vector<std::string> slot_names)
    : name_(options.name.empty() ? std::move(default_name) : options.name),
      schedule_(options.learning_rate.schedule),
      weight_decay_(options.weight_decay),
      clipnorm_(options.clipnorm),
      clipvalue_(options.clipvalue),
      global_clipnorm_(options.global_clipnorm),
      slot_names_(std::move(slot_names)) {
  if (!schedule_) set_learning_rate(options.learning_rate.value);
  if (options.weight_decay < 0) {
    throw ValueError(name_ + ": weight_decay must be >= 0, got " +
                     std::to_string(options.weight_decay));
  }
  clip_ = clip_from(name_, options);
}

double Optimizer::learning_rate() const {
  if (!schedule_) return learning_rate_;
  // Keras evaluates the schedule in float32 too.
  return static_cast<double>(static_cast<float>((*schedule_)(iterations_)));
}

void Optimizer::set_iterations(int64_t iterations) {
  if (iterations < 0) {
    throw ValueError(name_ + ": iterations must be >= 0, got " + std::to_string(iterations));
  }
  iterations_ = iterations;
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
  build(parameters, {backend::BufferSegment{0, parameters.num_elements()}}, backend);
}

void Optimizer::build(const Tensor& parameters, const std::vector<graph::VariablePtr>& variables,
                      backend::Backend& backend) {
  std::vector<backend::BufferSegment> segments;
  size_t element = dtype_size(parameters.dtype());
  for (const auto& variable : variables) {
    const Tensor& value = variable->value;
    size_t begin = parameters.byte_offset();
    size_t end = begin + static_cast<size_t>(parameters.num_elements()) * element;
    if (value.storage() != parameters.storage() || value.dtype() != parameters.dtype() ||
        value.byte_offset() < begin || (value.byte_offset() - begin) % element != 0 ||
        value.byte_offset() + static_cast<size_t>(value.num_elements()) * element > end) {
      throw ValueError(name_ + ": variable '" + variable->path +
                       "' is not a view into the packed parameters " + parameters.to_string());
    }
    segments.push_back(
        {static_cast<int64_t>((value.byte_offset() - begin) / element), value.num_elements()});
  }
  build(parameters, std::move(segments), backend);
}

void Optimizer::build(const Tensor& parameters, std::vector<backend::BufferSegment> segments,
                      backend::Backend& backend) {
  int64_t previous_end = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    const backend::BufferSegment& segment = segments[i];
    if (segment.offset < previous_end || segment.size < 0 ||
        segment.offset + segment.size > parameters.num_elements()) {
      throw ValueError(name_ + ": variable segment " + std::to_string(i) + " [" +
                       std::to_string(segment.offset) + ", " +
                       std::to_string(segment.offset + segment.size) +
                       ") overlaps the previous one or lies outside " +
                       std::to_string(parameters.num_elements()) + " parameters");
    }
    previous_end = segment.offset + segment.size;
  }
  if (built_ && built_size_ != parameters.num_elements()) {
    throw ValueError(name_ + ": already built for " + std::to_string(built_size_) +
                     " parameters, now given " + std::to_string(parameters.num_elements()) +
                     " (use a new optimizer for a different model)");
  }
  // A rebuild of the same model may pack its variables anew; clipping has no state to keep.
  segments_ = std::move(segments);
  if (built_) return;
  built_size_ = parameters.num_elements();
  for (size_t i = 0; i < slot_names_.size(); ++i) {
    slots_.push_back(Tensor::zeros(parameters.shape(), parameters.dtype(), backend.allocator()));
  }
  built_ = true;
}

backend::OptimizerStep Optimizer::next_update() const {
  backend::OptimizerStep step = step_constants();
  step.learning_rate = learning_rate();
  step.weight_decay = weight_decay_;
  step.iteration = iterations_;
  return step;
}

void Optimizer::apply(backend::Backend& backend, const Tensor& parameters,
                      const Tensor& gradients) {
  TY_CHECK(built_, name_ + ": apply before build");
  // Keras's order: clip, then weight decay and the update (both in optimizer_update).
  if (clip_) backend.clip_gradients(*clip_, gradients, segments_);
  const backend::OptimizerStep step = next_update();
  static const Tensor kNone;
  auto slot = [&](size_t i) -> const Tensor& { return i < slots_.size() ? slots_[i] : kNone; };
  backend.optimizer_update(step, parameters, gradients, slot(0), slot(1), slot(2));
  ++iterations_;
}

}  // namespace trainyard::nn
