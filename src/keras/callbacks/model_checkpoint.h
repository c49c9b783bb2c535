// ModelCheckpoint: saves the model during fit(), at the end of every epoch or every N
// batches, optionally only when a monitored value improves (Keras's callback,
// keras-semantics.md 6.1). As in Keras, the whole model goes to a `.keras` archive (or a
// legacy `.h5` file) by default and only its weights to a `.weights.h5` file with
// save_weights_only. The filepath is a
// Python format template over the epoch (1-based), the batch (1-based, when saving per batch)
// and the logs: "ckpt-{epoch:02d}-{val_loss:.2f}.keras". Both formats carry the optimizer
// state.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "keras/callback.h"
#include "keras/callbacks/monitor.h"
#include "keras/saving/save_frequency.h"

namespace trainyard::keras {

struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  // 1: print Keras's "Epoch N: saving model to ..." messages.
  int verbose = 0;
  // Save only when `monitor` improves on the best value so far.
  bool save_best_only = false;
  // false (Keras's default): model.save to a `.keras` filepath; true: save_weights to a
  // `.weights.h5` one.
  bool save_weights_only = false;
  // "auto", "min" or "max" (see Monitor).
  std::string mode = "auto";
  SaveFrequency save_freq = "epoch";
  // The best value to beat at the start, when save_best_only (unset: none).
  std::optional<double> initial_value_threshold = std::nullopt;
  // Where verbose messages go; null means standard output.
  std::ostream* output = nullptr;
};

class ModelCheckpoint final : public Callback {
 public:
  // Throws ValueError when `filepath` does not end in ".keras" or ".h5" (the default) or
  // ".weights.h5" (save_weights_only), naming the filepath and the option that fits its suffix; or
  // for an unknown mode or a monitor whose direction "auto" cannot tell.
  explicit ModelCheckpoint(std::string filepath, ModelCheckpointOptions options = {});

  void on_epoch_begin(int epoch) override { current_epoch_ = epoch; }
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_batch_end(int64_t batch, const BatchLogs& logs) override;
  bool wants_batch_events() const override { return !options_.save_freq.per_epoch(); }

  // The best monitored value seen so far (save_best_only), or the initial threshold.
  std::optional<double> best() const { return best_; }

 private:
  // Saves if due; `batch` is nullopt for an end-of-epoch save. `lookup` reads the logs.
  void save(int epoch, std::optional<int64_t> batch,
            const std::function<std::optional<double>(std::string_view)>& lookup);
  std::ostream& out() const;

  std::string filepath_;
  ModelCheckpointOptions options_;
  std::optional<Monitor> monitor_;
  std::optional<double> best_;
  int current_epoch_ = 0;
  BatchSaveCounter counter_;
};

}  // namespace trainyard::keras
