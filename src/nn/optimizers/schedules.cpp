#include "nn/optimizers/schedules.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace trainyard::nn {
namespace {

class Exponential final : public LearningRateSchedule {
 public:
  explicit Exponential(ExponentialDecayOptions options) : options_(options) {}
  double operator()(int64_t step) const override {
    double exponent = double(step) / double(options_.decay_steps);
    if (options_.staircase) exponent = std::floor(exponent);
    return options_.initial_learning_rate * std::pow(options_.decay_rate, exponent);
  }
  std::string class_name() const override { return "ExponentialDecay"; }

 private:
  ExponentialDecayOptions options_;
};

class Cosine final : public LearningRateSchedule {
 public:
  explicit Cosine(CosineDecayOptions options) : options_(options) {}
  double operator()(int64_t step) const override {
    const auto& o = options_;
    double start = o.initial_learning_rate;
    if (o.warmup_target) {
      if (step < o.warmup_steps) {
        return start + (*o.warmup_target - start) * double(step) / double(o.warmup_steps);
      }
      start = *o.warmup_target;
      step -= o.warmup_steps;
    }
    double progress = double(std::min(step, o.decay_steps)) / double(o.decay_steps);
    double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
    return start * ((1.0 - o.alpha) * cosine + o.alpha);
  }
  std::string class_name() const override { return "CosineDecay"; }

 private:
  CosineDecayOptions options_;
};

class Piecewise final : public LearningRateSchedule {
 public:
  Piecewise(std::vector<int64_t> boundaries, std::vector<double> values)
      : boundaries_(std::move(boundaries)), values_(std::move(values)) {}
  double operator()(int64_t step) const override {
    for (size_t i = 0; i < boundaries_.size(); ++i) {
      if (step <= boundaries_[i]) return values_[i];
    }
    return values_.back();
  }
  std::string class_name() const override { return "PiecewiseConstantDecay"; }

 private:
  std::vector<int64_t> boundaries_;
  std::vector<double> values_;
};

void require_decay_steps(const char* schedule, int64_t decay_steps) {
  if (decay_steps <= 0) {
    throw ValueError(std::string(schedule) + ": decay_steps must be > 0, got " +
                     std::to_string(decay_steps));
  }
}

}  // namespace

std::shared_ptr<LearningRateSchedule> ExponentialDecay(ExponentialDecayOptions options) {
  require_decay_steps("ExponentialDecay", options.decay_steps);
  return std::make_shared<Exponential>(options);
}

std::shared_ptr<LearningRateSchedule> CosineDecay(CosineDecayOptions options) {
  require_decay_steps("CosineDecay", options.decay_steps);
  if (options.warmup_target && options.warmup_steps <= 0) {
    throw ValueError("CosineDecay: warmup_target needs warmup_steps > 0");
  }
  return std::make_shared<Cosine>(options);
}

std::shared_ptr<LearningRateSchedule> PiecewiseConstantDecay(std::vector<int64_t> boundaries,
                                                             std::vector<double> values) {
  if (values.size() != boundaries.size() + 1) {
    throw ValueError("PiecewiseConstantDecay: needs one more value than boundaries, got " +
                     std::to_string(values.size()) + " values for " +
                     std::to_string(boundaries.size()) + " boundaries");
  }
  if (!std::is_sorted(boundaries.begin(), boundaries.end()) ||
      std::adjacent_find(boundaries.begin(), boundaries.end()) != boundaries.end()) {
    throw ValueError("PiecewiseConstantDecay: boundaries must increase strictly");
  }
  return std::make_shared<Piecewise>(std::move(boundaries), std::move(values));
}

}  // namespace trainyard::nn
