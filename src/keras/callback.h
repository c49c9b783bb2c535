// Callback: hooks fit() calls as training progresses, as Keras's callbacks receive them.
// Epoch-level logs are name/value pairs sorted by name; a callback may add entries at epoch
// end (ReduceLROnPlateau adds "learning_rate"), which later callbacks, History and the
// progress bar then see. Batch-level hooks run only for callbacks that ask for them, so a
// training step stays allocation-free otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "keras/progress_bar.h"

namespace trainyard::keras {

class Model;
class Trainer;

// The running loss and metrics after a batch, read on demand without building a Logs.
class BatchLogs {
 public:
  explicit BatchLogs(const Trainer& trainer) : trainer_(trainer) {}
  double loss() const;
  // The running value of `name` ("loss", "accuracy", ...), or nullopt if not logged.
  std::optional<double> get(std::string_view name) const;

 private:
  const Trainer& trainer_;
};

class Callback {
 public:
  virtual ~Callback() = default;

  // fit() sets the model before on_train_begin. REQUIRES for model(): set_model was called.
  void set_model(Model* model) { model_ = model; }
  Model& model() const;

  virtual void on_train_begin() {}
  virtual void on_train_end(const Logs& /*last_epoch_logs*/) {}
  // `epoch` is 0-based, as in Keras.
  virtual void on_epoch_begin(int /*epoch*/) {}
  virtual void on_epoch_end(int /*epoch*/, Logs& /*logs*/) {}
  // Called only when wants_batch_events() is true.
  virtual void on_train_batch_begin(int64_t /*batch*/) {}
  virtual void on_train_batch_end(int64_t /*batch*/, const BatchLogs& /*logs*/) {}
  virtual bool wants_batch_events() const { return false; }

 private:
  Model* model_ = nullptr;
};

using CallbackPtr = std::shared_ptr<Callback>;

// The value of `name` in `logs`, or nullopt.
std::optional<double> find_log(const Logs& logs, std::string_view name);
// Sets `name` to `value`, keeping the logs sorted by name.
void set_log(Logs& logs, const std::string& name, double value);

}  // namespace trainyard::keras
