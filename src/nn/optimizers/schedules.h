// Learning-rate schedules with Keras's formulas (keras-semantics.md section 3.3). A schedule
// maps the optimizer's iteration count before an update (the first update uses step 0) to
// that update's learning rate.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace trainyard::nn {

class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  virtual double operator()(int64_t step) const = 0;
  // Keras's class name ("ExponentialDecay").
  virtual std::string class_name() const = 0;
};

using SchedulePtr = std::shared_ptr<const LearningRateSchedule>;

// A learning rate as optimizers take it: a number or a schedule.
struct LearningRate {
  double value = 0.001;
  SchedulePtr schedule;

  LearningRate(double constant) : value(constant) {}  // NOLINT(google-explicit-constructor)
  LearningRate(SchedulePtr learning_rate_schedule)    // NOLINT(google-explicit-constructor)
      : value(0.0), schedule(std::move(learning_rate_schedule)) {}
  template <typename Schedule>
  requires std::is_base_of_v<LearningRateSchedule, Schedule> LearningRate(
      std::shared_ptr<Schedule> learning_rate_schedule)  // NOLINT
      : value(0.0), schedule(std::move(learning_rate_schedule)) {}
};

struct ExponentialDecayOptions {
  double initial_learning_rate = 0.001;
  int64_t decay_steps = 1000;
  double decay_rate = 0.96;
  bool staircase = false;  // floor(step / decay_steps) when true
};

struct CosineDecayOptions {
  double initial_learning_rate = 0.001;
  int64_t decay_steps = 1000;
  double alpha = 0.0;                   // floor, as a fraction of the starting rate
  std::optional<double> warmup_target;  // linear warmup from initial to this over warmup_steps
  int64_t warmup_steps = 0;
};

// REQUIRES: decay_steps > 0 (ValueError otherwise).
std::shared_ptr<LearningRateSchedule> ExponentialDecay(ExponentialDecayOptions options);
std::shared_ptr<LearningRateSchedule> CosineDecay(CosineDecayOptions options);
// values[0] for step <= boundaries[0], values[i] for boundaries[i-1] < step <= boundaries[i],
// values.back() after the last boundary. REQUIRES: values.size() == boundaries.size() + 1
// and increasing boundaries (ValueError otherwise).
std::shared_ptr<LearningRateSchedule> PiecewiseConstantDecay(std::vector<int64_t> boundaries,
                                                             std::vector<double> values);

}  // namespace trainyard::nn
