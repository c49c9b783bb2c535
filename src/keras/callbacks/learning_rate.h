// Callbacks that change the optimizer's learning rate between epochs:
// ReduceLROnPlateau (on a plateau of a monitored value) and LearningRateScheduler (from a
// function of the epoch). Both write "learning_rate" into the epoch logs, as Keras 3 does.
#pragma once

#include <functional>
#include <ostream>

#include "keras/callback.h"
#include "keras/callbacks/monitor.h"

namespace trainyard::keras {

struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  double factor = 0.1;  // must be < 1
  int patience = 10;
  int verbose = 0;
  std::string mode = "auto";
  double min_delta = 1e-4;
  int cooldown = 0;
  double min_lr = 0.0;
  std::ostream* output = nullptr;
};

class ReduceLROnPlateau final : public Callback {
 public:
  // Throws ValueError when factor >= 1.
  explicit ReduceLROnPlateau(ReduceLROnPlateauOptions options = {});
  void on_train_begin() override;
  void on_epoch_end(int epoch, Logs& logs) override;

 private:
  ReduceLROnPlateauOptions options_;
  Monitor monitor_;
  int wait_ = 0;
  int cooldown_counter_ = 0;
  std::optional<double> best_;
};

// schedule(epoch, current learning rate) -> the rate for this epoch; epoch is 0-based.
using EpochSchedule = std::function<double(int epoch, double learning_rate)>;

class LearningRateScheduler final : public Callback {
 public:
  explicit LearningRateScheduler(EpochSchedule schedule, int verbose = 0,
                                 std::ostream* output = nullptr);
  void on_epoch_begin(int epoch) override;
  void on_epoch_end(int epoch, Logs& logs) override;

 private:
  EpochSchedule schedule_;
  int verbose_;
  std::ostream* output_;
};

}  // namespace trainyard::keras
