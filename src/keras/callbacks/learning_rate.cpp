#include "keras/callbacks/learning_rate.h"

#include <cmath>
#include <iostream>

#include "core/error.h"
#include "keras/model.h"

namespace trainyard::keras {

ReduceLROnPlateau::ReduceLROnPlateau(ReduceLROnPlateauOptions options)
    : options_(std::move(options)), monitor_(options_.monitor, options_.mode, options_.min_delta) {
  if (!(options_.factor < 1.0)) {
    throw ValueError("ReduceLROnPlateau does not support a factor >= 1.0, got " +
                     std::to_string(options_.factor));
  }
}

void ReduceLROnPlateau::on_train_begin() {
  wait_ = 0;
  cooldown_counter_ = 0;
  best_.reset();
}

void ReduceLROnPlateau::on_epoch_end(int epoch, Logs& logs) {
  nn::Optimizer& optimizer = model().optimizer();
  set_log(logs, "learning_rate", optimizer.learning_rate());
  std::optional<double> current = find_log(logs, options_.monitor);
  if (!current) {
    std::cerr << "ReduceLROnPlateau: metric '" << options_.monitor
              << "' is not in the logs; skipping\n";
    return;
  }
  bool in_cooldown = cooldown_counter_ > 0;
  if (in_cooldown) {
    --cooldown_counter_;
    wait_ = 0;
  }
  if (monitor_.improves(*current, best_)) {
    best_ = *current;
    wait_ = 0;
    return;
  }
  if (in_cooldown) return;
  if (++wait_ < options_.patience) return;
  double old_rate = optimizer.learning_rate();
  if (old_rate > options_.min_lr) {
    double new_rate = std::max(old_rate * options_.factor, options_.min_lr);
    optimizer.set_learning_rate(new_rate);
    if (options_.verbose > 0) {
      std::ostream& out = options_.output ? *options_.output : std::cout;
      out << "\nEpoch " << epoch + 1 << ": ReduceLROnPlateau reducing learning rate to "
          << optimizer.learning_rate() << ".\n";
    }
    cooldown_counter_ = options_.cooldown;
    wait_ = 0;
  }
}

LearningRateScheduler::LearningRateScheduler(EpochSchedule schedule, int verbose,
                                             std::ostream* output)
    : schedule_(std::move(schedule)), verbose_(verbose), output_(output) {
  if (!schedule_) throw ValueError("LearningRateScheduler needs a schedule function");
}

void LearningRateScheduler::on_epoch_begin(int epoch) {
  nn::Optimizer& optimizer = model().optimizer();
  double rate = schedule_(epoch, optimizer.learning_rate());
  if (!std::isfinite(rate)) {
    throw ValueError("LearningRateScheduler: the schedule returned " + std::to_string(rate) +
                     " for epoch " + std::to_string(epoch));
  }
  optimizer.set_learning_rate(rate);
  if (verbose_ > 0) {
    std::ostream& out = output_ ? *output_ : std::cout;
    out << "\nEpoch " << epoch + 1 << ": LearningRateScheduler setting learning rate to "
        << optimizer.learning_rate() << ".\n";
  }
}

void LearningRateScheduler::on_epoch_end(int, Logs& logs) {
  set_log(logs, "learning_rate", model().optimizer().learning_rate());
}

}  // namespace trainyard::keras
