// Op: one operation of a graph, with its shape rule, forward kernel call and backward kernel
// calls side by side. Ops are immutable after construction and shared between graphs.
//
// The executor hands an op an OpContext whose tensors are views into planned memory. In
// backward, input_grad(i) is undefined when input i needs no gradient, and accumulate(i)
// says whether to add into it (another consumer wrote first) or overwrite it.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "backend/backend.h"
#include "core/shape.h"
#include "core/tensor.h"

namespace trainyard::graph {

struct TensorSpec {
  Shape shape;
  DType dtype = DType::kFloat32;
  bool operator==(const TensorSpec&) const = default;
};

// Sums a few per-step values over the replicas of a synchronized training step, in the same
// order on every replica (SyncBatchNormalization's statistics). Every replica's step must make
// the same calls with the same lengths.
class CrossReplicaSum {
 public:
  virtual ~CrossReplicaSum() = default;
  virtual void sum(std::span<double> values) = 0;
};

// Per-step facts an op may read: whether this is a training step (dropout), a step counter
// and seed for counter-based randomness, and, when the step is one replica's share of a
// data-parallel step, how to sum values across the replicas (null otherwise).
struct StepInfo {
  bool training = false;
  uint64_t step = 0;
  CrossReplicaSum* cross_replica = nullptr;
};

class OpContext {
 public:
  OpContext(backend::Backend& backend, const StepInfo& step, const Tensor* const* inputs,
            int num_inputs, const Tensor& output)
      : backend_(backend), step_(step), inputs_(inputs), num_inputs_(num_inputs), output_(output) {}

  backend::Backend& backend() const { return backend_; }
  const StepInfo& step() const { return step_; }
  int num_inputs() const { return num_inputs_; }
  const Tensor& input(int i) const { return *inputs_[i]; }
  const Tensor& output() const { return output_; }

  // Backward only.
  const Tensor& output_grad() const { return *output_grad_; }
  const Tensor& input_grad(int i) const { return *input_grads_[i]; }
  bool accumulate(int i) const { return accumulate_[i] != 0; }
  void set_gradients(const Tensor* output_grad, const Tensor* const* input_grads,
                     const uint8_t* accumulate) {
    output_grad_ = output_grad;
    input_grads_ = input_grads;
    accumulate_ = accumulate;
  }

 private:
  backend::Backend& backend_;
  const StepInfo& step_;
  const Tensor* const* inputs_;
  int num_inputs_;
  const Tensor& output_;
  const Tensor* output_grad_ = nullptr;
  const Tensor* const* input_grads_ = nullptr;
  const uint8_t* accumulate_ = nullptr;
};

class Op {
 public:
  virtual ~Op() = default;

  // The op's name in errors and graph dumps ("MatMul").
  virtual std::string name() const = 0;
  // Shape rule: the output's spec from the inputs' specs. Throws ShapeError naming the op
  // and the offending shapes.
  virtual TensorSpec infer(std::span<const TensorSpec> inputs) const = 0;
  virtual void forward(const OpContext& context) const = 0;
  virtual void backward(const OpContext& context) const = 0;

  // Whether a gradient can flow to input i (false for labels and sample weights).
  virtual bool differentiable(int input) const { return input >= 0; }
  // What backward reads, so the planner can free forward values early.
  virtual bool backward_reads_input(int input) const { return input >= 0; }
  virtual bool backward_reads_output() const { return false; }
  // True when backward writes over its output's gradient, using it as the buffer for a
  // gradient of its own. No op reads that gradient later; a plan whose loss is such an op's
  // output refills the loss seed before each backward.
  virtual bool backward_overwrites_output_grad() const { return false; }
  // True when the output is input 0 viewed with another shape (Reshape, Flatten): no
  // kernel runs and no memory is planned for it.
  virtual bool is_view() const { return false; }
};

}  // namespace trainyard::graph
