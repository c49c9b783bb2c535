// EarlyStopping: stops training when a monitored value stops improving, optionally
// restoring the weights of the best epoch (Keras 3 restores them at the end of training
// whenever a best epoch exists, stopped early or not).
#pragma once

#include <optional>
#include <vector>

#include "core/tensor.h"
#include "keras/callback.h"
#include "keras/callbacks/monitor.h"

namespace trainyard::keras {

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0.0;
  int patience = 0;
  int verbose = 0;
  std::string mode = "auto";
  std::optional<double> baseline;
  bool restore_best_weights = false;
  int start_from_epoch = 0;
  std::ostream* output = nullptr;  // verbose messages; null means standard output
};

class EarlyStopping final : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});

  void on_train_begin() override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(const Logs& logs) override;

  // 0-based epoch training stopped after, or 0 when it ran to the end.
  int stopped_epoch() const { return stopped_epoch_; }
  int best_epoch() const { return best_epoch_; }
  std::optional<double> best() const { return best_; }

 private:
  EarlyStoppingOptions options_;
  Monitor monitor_;
  int wait_ = 0;
  int stopped_epoch_ = 0;
  int best_epoch_ = 0;
  std::optional<double> best_;
  std::vector<Tensor> best_weights_;
};

}  // namespace trainyard::keras
