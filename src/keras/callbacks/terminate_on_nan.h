// TerminateOnNaN: stops training after the first batch whose loss is NaN or infinite.
// LambdaCallback: a callback made of functions, for users who need one hook.
#pragma once

#include <functional>
#include <ostream>

#include "keras/callback.h"

namespace trainyard::keras {

class TerminateOnNaN final : public Callback {
 public:
  explicit TerminateOnNaN(std::ostream* output = nullptr) : output_(output) {}
  bool wants_batch_events() const override { return true; }
  void on_train_batch_end(int64_t batch, const BatchLogs& logs) override;

 private:
  std::ostream* output_;
};

struct LambdaCallbackFunctions {
  std::function<void()> on_train_begin;
  std::function<void(const Logs&)> on_train_end;
  std::function<void(int)> on_epoch_begin;
  std::function<void(int, Logs&)> on_epoch_end;
  std::function<void(int64_t, const BatchLogs&)> on_train_batch_end;
};

class LambdaCallback final : public Callback {
 public:
  explicit LambdaCallback(LambdaCallbackFunctions functions) : functions_(std::move(functions)) {}
  void on_train_begin() override {
    if (functions_.on_train_begin) functions_.on_train_begin();
  }
  void on_train_end(const Logs& logs) override {
    if (functions_.on_train_end) functions_.on_train_end(logs);
  }
  void on_epoch_begin(int epoch) override {
    if (functions_.on_epoch_begin) functions_.on_epoch_begin(epoch);
  }
  void on_epoch_end(int epoch, Logs& logs) override {
    if (functions_.on_epoch_end) functions_.on_epoch_end(epoch, logs);
  }
  void on_train_batch_end(int64_t batch, const BatchLogs& logs) override {
    if (functions_.on_train_batch_end) functions_.on_train_batch_end(batch, logs);
  }
  bool wants_batch_events() const override { return bool(functions_.on_train_batch_end); }

 private:
  LambdaCallbackFunctions functions_;
};

}  // namespace trainyard::keras
