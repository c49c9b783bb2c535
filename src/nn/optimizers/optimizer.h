// Optimizer: Keras's optimizers over a model's trainable variables packed into one flat
// buffer, so each step is a single fused update. Holds the iteration count, the learning
// rate (a float32 value, as Keras keeps it) and the slot buffers.
// Thread safety: one training loop at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "graph/variable.h"
#include "nn/optimizers/schedules.h"

namespace trainyard::nn {

// Options every optimizer takes (keras-semantics.md section 3.1).
struct OptimizerOptions {
  LearningRate learning_rate = 0.001;
  double weight_decay = 0.0;  // decoupled decay, applied before the update
  std::string name;           // empty: the optimizer's Keras name ("adam")
  // Gradient clipping, applied before weight decay and the update. At most one may be set,
  // each finite and > 0 (ValueError naming the option otherwise). Unset: no clipping.
  std::optional<double> clipnorm;         // each variable's gradient to this L2 norm
  std::optional<double> clipvalue;        // each gradient element into [-clipvalue, clipvalue]
  std::optional<double> global_clipnorm;  // all gradients together to this global L2 norm
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  const std::string& name() const { return name_; }
  int64_t iterations() const { return iterations_; }
  // Sets the update count, as restoring a saved optimizer does (Keras's
  // optimizer.iterations.assign); schedules and bias corrections continue from it. Throws
  // ValueError when negative.
  void set_iterations(int64_t iterations);
  // The rate the next update uses: the schedule at iterations() when there is one.
  double learning_rate() const;
  // Replaces a constant learning rate (stored as float32, as Keras's variable is). Throws
  // ValueError when the optimizer follows a schedule, as Keras refuses to set it then.
  void set_learning_rate(double learning_rate);
  const SchedulePtr& learning_rate_schedule() const { return schedule_; }
  double weight_decay() const { return weight_decay_; }
  const std::optional<double>& clipnorm() const { return clipnorm_; }
  const std::optional<double>& clipvalue() const { return clipvalue_; }
  const std::optional<double>& global_clipnorm() const { return global_clipnorm_; }

  // Creates zeroed slots shaped like `parameters` (once; later calls check the size) and
  // treats the whole buffer as one variable when clipping by norm.
  void build(const Tensor& parameters, backend::Backend& backend);
  // The same for a buffer packing several variables at `segments` (element ranges,
  // ascending and disjoint; what lies between them is never read). clipnorm clips each
  // segment on its own. Throws ValueError for a segment outside `parameters`.
  void build(const Tensor& parameters, std::vector<backend::BufferSegment> segments,
             backend::Backend& backend);
  // The same with the segments taken from `variables`, whose values are views into
  // `parameters` (Keras's optimizer.build(variables)). Throws ValueError naming a variable
  // that is not such a view.
  void build(const Tensor& parameters, const std::vector<graph::VariablePtr>& variables,
             backend::Backend& backend);
  bool built() const { return built_; }
  const std::vector<backend::BufferSegment>& segments() const { return segments_; }
  // One update: clip `gradients` in place (when a clipping option is set), then
  // parameters -= f(gradients); then iterations += 1. Allocates nothing.
  // REQUIRES: built() with parameters of this size.
  void apply(backend::Backend& backend, const Tensor& parameters, const Tensor& gradients);
  // The update apply() would make now: this step's constants, learning rate and iteration.
  backend::OptimizerStep next_update() const;

  // Slot buffers in Keras's order ("momentum", "velocity", ...), flat like the parameters.
  const std::vector<std::string>& slot_names() const { return slot_names_; }
  const std::vector<Tensor>& slots() const { return slots_; }

 protected:
  Optimizer(std::string default_name, const OptimizerOptions& options,
            std::vector<std::string> slot_names);
  // This step's constants, except learning_rate, weight_decay and iteration.
  virtual backend::OptimizerStep step_constants() const = 0;

 private:
  std::string name_;
  double learning_rate_ = 0;
  SchedulePtr schedule_;
  double weight_decay_;
  std::optional<double> clipnorm_;
  std::optional<double> clipvalue_;
  std::optional<double> global_clipnorm_;
  std::optional<backend::GradientClip> clip_;  // the one set above, for the backend
  int64_t iterations_ = 0;
  bool built_ = false;
  int64_t built_size_ = 0;  // element count of the parameters built for
  std::vector<backend::BufferSegment> segments_;
  std::vector<std::string> slot_names_;
  std::vector<Tensor> slots_;
};

using OptimizerPtr = std::shared_ptr<Optimizer>;

}  // namespace trainyard::nn
