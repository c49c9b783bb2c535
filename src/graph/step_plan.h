// StepPlan: a Graph compiled once into fixed call lists (forward in topological order,
// backward in reverse) over memory planned up front, then executed any number of times.
// Executing allocates nothing: inputs are bound by aliasing, activations and gradients
// live in one arena whose buffers are shared by liveness, and variables keep their own
// storage. A different batch size needs a different plan.
//
// Thread safety: one plan runs on one thread at a time (its kernels use the compute pool).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "graph/graph.h"

namespace trainyard::graph {

struct PlanRequest {
  // Values that stay readable after forward() (predictions, metric inputs).
  std::vector<NodeId> outputs;
  // A scalar node to differentiate; -1 for a forward-only plan. Its gradient is seeded
  // with loss_seed (1, or the loss scale under mixed precision).
  NodeId loss = -1;
  double loss_seed = 1.0;
};

// What a plan of a graph would be, found without allocating (StepPlan::measure).
struct PlannedStep {
  size_t arena_bytes = 0;
  size_t forward_calls = 0;   // op calls one forward() makes
  size_t backward_calls = 0;  // gradient calls one backward() makes
};

class StepPlan {
 public:
  // Compiles `graph` for `request`. Throws ShapeError when the loss is not a scalar.
  StepPlan(const Graph& graph, const PlanRequest& request, backend::Backend& backend);
  StepPlan(const StepPlan&) = delete;
  StepPlan& operator=(const StepPlan&) = delete;

  // The arena bytes and calls a plan of `graph` for `request` would have, found by the same
  // scheduling and liveness as a real plan, without allocating or touching any variable.
  static PlannedStep measure(const Graph& graph, const PlanRequest& request,
                             backend::Backend& backend);

  // Feeds an input node for the following steps, without copying. Throws ShapeError when
  // the value's shape or dtype differs from the node's.
  void bind_input(NodeId input, const Tensor& value);
  void forward(const StepInfo& step);
  // REQUIRES: forward() ran for this step and the plan has a loss.
  void backward(const StepInfo& step);

  // The value of an output node (valid until the next forward()).
  const Tensor& value(NodeId node) const;
  bool has_backward() const { return !backward_.empty(); }
  size_t arena_bytes() const { return arena_bytes_; }
  size_t forward_calls() const { return forward_.size(); }
  size_t backward_calls() const { return backward_.size(); }
  // One line per scheduled call, for logs and tests.
  std::string describe() const;

 private:
  struct Call {
    NodeId node;
    const Op* op;
    std::vector<const Tensor*> inputs;
    std::vector<const Tensor*> input_grads;  // backward only; point at undefined tensors
    std::vector<uint8_t> accumulate;         // backward only
  };

  // Plans without allocating the arena or binding variables (measure).
  struct MeasureOnly {};
  StepPlan(const Graph& graph, const PlanRequest& request, backend::Backend& backend, MeasureOnly);

  void check_loss(const Graph& graph) const;
  void schedule(const Graph& graph, const PlanRequest& request);
  // Sets arena_bytes_ and, unless `measure_only`, allocates the arena and binds every value.
  void allocate(const Graph& graph, const PlanRequest& request, bool measure_only = false);

  backend::Backend& backend_;
  std::vector<Tensor> values_;     // indexed by node
  std::vector<Tensor> gradients_;  // indexed by node; undefined where no gradient flows
  std::vector<NodeKind> kinds_;
  std::vector<uint8_t> is_view_;
  std::vector<NodeId> view_source_;
  std::vector<Call> forward_;
  std::vector<Call> backward_;
  std::vector<NodeId> outputs_;
  NodeId loss_ = -1;
  Tensor undefined_;
  Tensor loss_seed_;
  double loss_seed_value_ = 1.0;
  bool reseed_loss_ = false;  // the loss op's backward overwrites the seed
  std::shared_ptr<Storage> arena_;
  size_t arena_bytes_ = 0;
  std::vector<std::string> names_;
};

}  // namespace trainyard::graph
