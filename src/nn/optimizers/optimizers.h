// Keras's optimizers with Keras's defaults (keras-semantics.md section 3.2). Each options
// struct ends with the clipping options, after `name`, so positional initializers written
// before they existed still compile.
#pragma once

#include "nn/optimizers/optimizer.h"

namespace trainyard::nn {

struct SgdOptions {
  LearningRate learning_rate = 0.01;
  double momentum = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;
  std::string name;
  // Gradient clipping, at most one (OptimizerOptions says how each works).
  std::optional<double> clipnorm;
  std::optional<double> clipvalue;
  std::optional<double> global_clipnorm;
};

struct AdamOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
  double weight_decay = 0.0;  // AdamW's default is 0.004
  std::string name;
  // Gradient clipping, at most one (OptimizerOptions says how each works).
  std::optional<double> clipnorm;
  std::optional<double> clipvalue;
  std::optional<double> global_clipnorm;
};

// AdamW's options: Adam's, with Keras's default decoupled weight decay of 0.004.
struct AdamWOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
  double weight_decay = 0.004;
  std::string name;
  // Gradient clipping, at most one (OptimizerOptions says how each works).
  std::optional<double> clipnorm;
  std::optional<double> clipvalue;
  std::optional<double> global_clipnorm;
};

struct RmspropOptions {
  LearningRate learning_rate = 0.001;
  double rho = 0.9;
  double momentum = 0.0;
  double epsilon = 1e-7;
  bool centered = false;
  double weight_decay = 0.0;
  std::string name;
  // Gradient clipping, at most one (OptimizerOptions says how each works).
  std::optional<double> clipnorm;
  std::optional<double> clipvalue;
  std::optional<double> global_clipnorm;
};

class Sgd final : public Optimizer {
 public:
  explicit Sgd(SgdOptions options = {});
  const SgdOptions& options() const { return options_; }

 private:
  backend::OptimizerStep step_constants() const override;
  SgdOptions options_;
};

class Adam : public Optimizer {
 public:
  explicit Adam(AdamOptions options = {});
  const AdamOptions& options() const { return options_; }

 protected:
  Adam(AdamOptions options, bool adamw);

 private:
  backend::OptimizerStep step_constants() const override;
  AdamOptions options_;
  bool adamw_;
};

// AdamW: Adam with decoupled weight decay, which must be > 0 as in Keras.
class AdamW final : public Adam {
 public:
  explicit AdamW(AdamWOptions options = {});
};

class Rmsprop final : public Optimizer {
 public:
  explicit Rmsprop(RmspropOptions options = {});
  const RmspropOptions& options() const { return options_; }

 private:
  backend::OptimizerStep step_constants() const override;
  RmspropOptions options_;
};

// "sgd", "adam", "adamw", "rmsprop" with Keras's defaults. Throws ValueError otherwise.
OptimizerPtr make_optimizer(const std::string& identifier);

// Gradient clipping for an optimizer made by name (at most one set, each > 0).
struct ClipOptions {
  std::optional<double> clipnorm;
  std::optional<double> clipvalue;
  std::optional<double> global_clipnorm;
};
// make_optimizer(identifier) with Keras's defaults except `clipping`. Throws ValueError for
// an unknown name or invalid clipping options.
OptimizerPtr make_optimizer(const std::string& identifier, const ClipOptions& clipping);

}  // namespace trainyard::nn
