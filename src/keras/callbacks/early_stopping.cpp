#include "keras/callbacks/early_stopping.h"

#include <iostream>

#include "keras/model.h"

namespace trainyard::keras {

EarlyStopping::EarlyStopping(EarlyStoppingOptions options)
    : options_(std::move(options)), monitor_(options_.monitor, options_.mode, options_.min_delta) {}

void EarlyStopping::on_train_begin() {
  wait_ = 0;
  stopped_epoch_ = 0;
  best_epoch_ = 0;
  best_.reset();
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(int epoch, Logs& logs) {
  if (epoch < options_.start_from_epoch) return;
  std::optional<double> current = find_log(logs, options_.monitor);
  if (!current) {
    std::cerr << "EarlyStopping: metric '" << options_.monitor
              << "' is not in the logs; skipping (available: ";
    for (size_t i = 0; i < logs.size(); ++i) std::cerr << (i ? ", " : "") << logs[i].first;
    std::cerr << ")\n";
    return;
  }
  if (options_.restore_best_weights && best_weights_.empty()) best_weights_ = model().get_weights();
  ++wait_;
  if (monitor_.improves(*current, best_)) {
    best_ = *current;
    best_epoch_ = epoch;
    if (options_.restore_best_weights) best_weights_ = model().get_weights();
    if (!options_.baseline || monitor_.improves(*current, options_.baseline)) {
      wait_ = 0;
      return;
    }
  }
  if (wait_ >= options_.patience && epoch > 0) {
    stopped_epoch_ = epoch;
    model().stop_training = true;
  }
}

void EarlyStopping::on_train_end(const Logs&) {
  std::ostream& out = options_.output ? *options_.output : std::cout;
  if (stopped_epoch_ > 0 && options_.verbose > 0) {
    out << "Epoch " << stopped_epoch_ + 1 << ": early stopping\n";
  }
  if (options_.restore_best_weights && !best_weights_.empty()) {
    if (options_.verbose > 0) {
      out << "Restoring model weights from the end of the best epoch: " << best_epoch_ + 1 << ".\n";
    }
    model().set_weights(best_weights_);
  }
}

}  // namespace trainyard::keras
