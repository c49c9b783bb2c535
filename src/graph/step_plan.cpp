#include "graph/step_plan.h"

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "graph/memory_plan.h"

namespace trainyard::graph {
namespace {

size_t spec_bytes(const TensorSpec& spec) {
  return static_cast<size_t>(spec.shape.num_elements()) * dtype_size(spec.dtype);
}

// Marks every node `roots` depend on.
std::vector<uint8_t> ancestors(const Graph& graph, const std::vector<NodeId>& roots) {
  std::vector<uint8_t> marked(static_cast<size_t>(graph.size()), 0);
  std::vector<NodeId> stack(roots.begin(), roots.end());
  while (!stack.empty()) {
    NodeId id = stack.back();
    stack.pop_back();
    if (id < 0 || marked[static_cast<size_t>(id)]) continue;
    marked[static_cast<size_t>(id)] = 1;
    for (NodeId input : graph.node(id).inputs) stack.push_back(input);
  }
  return marked;
}

// Marks every node the loss depends on through differentiable inputs only: the nodes a
// gradient can reach. A node read only through non-differentiable inputs (labels, or a
// kernel copy whose consumer writes the gradient to the master variable itself) gets none.
std::vector<uint8_t> differentiable_ancestors(const Graph& graph, NodeId loss) {
  std::vector<uint8_t> marked(static_cast<size_t>(graph.size()), 0);
  std::vector<NodeId> stack{loss};
  while (!stack.empty()) {
    NodeId id = stack.back();
    stack.pop_back();
    if (id < 0 || marked[static_cast<size_t>(id)]) continue;
    marked[static_cast<size_t>(id)] = 1;
    const Node& node = graph.node(id);
    if (node.kind != NodeKind::kOp) continue;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      if (node.op->differentiable(static_cast<int>(i))) stack.push_back(node.inputs[i]);
    }
  }
  return marked;
}

}  // namespace

StepPlan::StepPlan(const Graph& graph, const PlanRequest& request, backend::Backend& backend)
    : backend_(backend), outputs_(request.outputs), loss_(request.loss) {
  check_loss(graph);
  schedule(graph, request);
  allocate(graph, request);
}

StepPlan::StepPlan(const Graph& graph, const PlanRequest& request, backend::Backend& backend,
                   MeasureOnly)
    : backend_(backend), outputs_(request.outputs), loss_(request.loss) {
  check_loss(graph);
  schedule(graph, request);
  allocate(graph, request, /*measure_only=*/true);
}

PlannedStep StepPlan::measure(const Graph& graph, const PlanRequest& request,
                              backend::Backend& backend) {
  const StepPlan plan(graph, request, backend, MeasureOnly{});
  return {plan.arena_bytes(), plan.forward_calls(), plan.backward_calls()};
}

void StepPlan::check_loss(const Graph& graph) const {
  if (loss_ >= 0 && graph.spec(loss_).shape.num_elements() != 1) {
    throw ShapeError("StepPlan: the loss '" + graph.node(loss_).name + "' must be a scalar, got " +
                     graph.spec(loss_).shape.to_string());
  }
}

void StepPlan::schedule(const Graph& graph, const PlanRequest& request) {
  size_t count = static_cast<size_t>(graph.size());
  std::vector<NodeId> roots = request.outputs;
  if (request.loss >= 0) roots.push_back(request.loss);
  std::vector<uint8_t> needed = ancestors(graph, roots);
  std::vector<uint8_t> reaches_loss = request.loss >= 0
                                          ? differentiable_ancestors(graph, request.loss)
                                          : std::vector<uint8_t>(count, 0);

  // A gradient flows into a node when it depends on a trainable variable through
  // differentiable inputs and the loss depends on it through differentiable inputs.
  std::vector<uint8_t> needs_gradient(count, 0);
  for (NodeId id = 0; id < graph.size(); ++id) {
    const Node& node = graph.node(id);
    bool needs = false;
    if (node.kind == NodeKind::kVariable) needs = node.variable->trainable;
    if (node.kind == NodeKind::kOp) {
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        needs = needs || (node.op->differentiable(static_cast<int>(i)) &&
                          needs_gradient[static_cast<size_t>(node.inputs[i])]);
      }
    }
    needs_gradient[static_cast<size_t>(id)] = needs && reaches_loss[static_cast<size_t>(id)];
  }

  values_.resize(count);
  gradients_.resize(count);
  kinds_.resize(count);
  is_view_.assign(count, 0);
  view_source_.assign(count, -1);
  names_.resize(count);
  for (NodeId id = 0; id < graph.size(); ++id) {
    const Node& node = graph.node(id);
    kinds_[static_cast<size_t>(id)] = node.kind;
    names_[static_cast<size_t>(id)] = node.name;
    if (node.kind == NodeKind::kOp && node.op->is_view()) {
      is_view_[static_cast<size_t>(id)] = 1;
      view_source_[static_cast<size_t>(id)] = node.inputs.at(0);
    }
    if (!needed[static_cast<size_t>(id)] || node.kind != NodeKind::kOp) continue;
    Call call{id, node.op.get(), {}, {}, {}};
    for (NodeId input : node.inputs) call.inputs.push_back(&values_[static_cast<size_t>(input)]);
    forward_.push_back(std::move(call));
  }

  // Variables read through several nodes (shared layers) share one gradient buffer, so
  // accumulation is tracked per variable, not per node.
  auto gradient_owner = [&](NodeId id) {
    const Node& node = graph.node(id);
    if (node.kind != NodeKind::kVariable) return id;
    for (NodeId other = 0; other < id; ++other) {
      if (graph.node(other).variable == node.variable) return other;
    }
    return id;
  };
  std::vector<uint8_t> written(count, 0);
  for (auto it = forward_.rbegin(); it != forward_.rend(); ++it) {
    if (!needs_gradient[static_cast<size_t>(it->node)]) continue;
    const Node& node = graph.node(it->node);
    Call call{it->node, node.op.get(), it->inputs, {}, {}};
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      NodeId input = node.inputs[i];
      bool flows = node.op->differentiable(static_cast<int>(i)) &&
                   needs_gradient[static_cast<size_t>(input)];
      call.input_grads.push_back(flows ? &gradients_[static_cast<size_t>(input)] : &undefined_);
      NodeId owner = gradient_owner(input);
      call.accumulate.push_back(flows && written[static_cast<size_t>(owner)] ? 1 : 0);
      if (flows) written[static_cast<size_t>(owner)] = 1;
    }
    backward_.push_back(std::move(call));
  }
}

void StepPlan::allocate(const Graph& graph, const PlanRequest& request, bool measure_only) {
  const int forward_steps = static_cast<int>(forward_.size());
  const int last_step = forward_steps + static_cast<int>(backward_.size());
  auto owner = [&](NodeId id) {
    while (is_view_[static_cast<size_t>(id)]) id = view_source_[static_cast<size_t>(id)];
    return id;
  };

  // Lifetimes of planned buffers: values of non-view op nodes, gradients of op nodes.
  std::vector<int> value_first(values_.size(), -1), value_last(values_.size(), -1);
  std::vector<int> grad_first(values_.size(), -1), grad_last(values_.size(), -1);
  auto read_value = [&](NodeId id, int step) {
    NodeId root = owner(id);
    value_last[static_cast<size_t>(root)] = std::max(value_last[static_cast<size_t>(root)], step);
  };
  for (int step = 0; step < forward_steps; ++step) {
    const Call& call = forward_[static_cast<size_t>(step)];
    value_first[static_cast<size_t>(call.node)] = step;
    read_value(call.node, step);
    for (NodeId input : graph.node(call.node).inputs) read_value(input, step);
  }
  for (NodeId output : request.outputs) read_value(output, last_step);
  if (request.loss >= 0) read_value(request.loss, last_step);
  for (int index = 0; index < static_cast<int>(backward_.size()); ++index) {
    const Call& call = backward_[static_cast<size_t>(index)];
    int step = forward_steps + index;
    const Node& node = graph.node(call.node);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      if (call.op->backward_reads_input(static_cast<int>(i))) read_value(node.inputs[i], step);
      NodeId input = node.inputs[i];
      if (call.input_grads[i] != &undefined_ && graph.node(input).kind == NodeKind::kOp) {
        int& first = grad_first[static_cast<size_t>(input)];
        first = first < 0 ? step : std::min(first, step);
      }
    }
    if (call.op->backward_reads_output()) read_value(call.node, step);
    grad_last[static_cast<size_t>(call.node)] = step;
    if (grad_first[static_cast<size_t>(call.node)] < 0)
      grad_first[static_cast<size_t>(call.node)] = step;
  }

  std::vector<BufferLifetime> lifetimes;
  std::vector<std::pair<NodeId, bool>> owners;  // (node, is gradient)
  for (NodeId id = 0; id < graph.size(); ++id) {
    size_t index = static_cast<size_t>(id);
    if (kinds_[index] != NodeKind::kOp || is_view_[index] == 0) {
      if (value_first[index] >= 0 && kinds_[index] == NodeKind::kOp) {
        lifetimes.push_back({spec_bytes(graph.spec(id)), value_first[index], value_last[index]});
        owners.emplace_back(id, false);
      }
    }
    if (grad_last[index] >= 0 && id != request.loss) {
      lifetimes.push_back({spec_bytes(graph.spec(id)), grad_first[index], grad_last[index]});
      owners.emplace_back(id, true);
    }
  }
  MemoryPlan memory = plan_memory(lifetimes);
  arena_bytes_ = memory.total_bytes;
  if (measure_only) return;
  arena_ = std::make_shared<Storage>(std::max<size_t>(arena_bytes_, 64), backend_.allocator());

  for (NodeId id = 0; id < graph.size(); ++id) {
    const Node& node = graph.node(id);
    size_t index = static_cast<size_t>(id);
    if (node.kind == NodeKind::kVariable) {
      // A variable made on the host (moving statistics, loss weights) moves to the device the
      // plan runs on once, here, and stays there for every later step and plan.
      if (node.variable->value.device() != backend_.device()) {
        node.variable->value = backend::to_device(node.variable->value, backend_.device());
      }
      values_[index] = node.variable->value;
      gradients_[index] = node.variable->gradient;
    } else {
      values_[index] = Tensor::placeholder(node.spec.shape, node.spec.dtype);
    }
  }
  for (size_t i = 0; i < owners.size(); ++i) {
    auto [id, is_gradient] = owners[i];
    const TensorSpec& spec = graph.spec(id);
    Tensor view(arena_, memory.offsets[i], spec.shape, spec.dtype);
    (is_gradient ? gradients_ : values_)[static_cast<size_t>(id)] = view;
  }
  for (const Call& call : backward_) {
    const Node& node = graph.node(call.node);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      NodeId input = node.inputs[i];
      if (call.input_grads[i] != &undefined_ && !gradients_[static_cast<size_t>(input)].defined()) {
        throw ValueError("StepPlan: variable '" + node.name + "' input '" + graph.node(input).name +
                         "' needs a gradient buffer; pack the model's "
                         "variables before compiling a training step");
      }
    }
  }
  if (request.loss >= 0) {
    const TensorSpec& spec = graph.spec(request.loss);
    loss_seed_ = Tensor::zeros(spec.shape, spec.dtype, backend_.allocator());
    backend_.fill(loss_seed_, request.loss_seed);
    gradients_[static_cast<size_t>(request.loss)] = loss_seed_;
    loss_seed_value_ = request.loss_seed;
    const Node& loss = graph.node(request.loss);
    reseed_loss_ = loss.kind == NodeKind::kOp && loss.op->backward_overwrites_output_grad();
  }
}

void StepPlan::bind_input(NodeId input, const Tensor& value) {
  Tensor& slot = values_.at(static_cast<size_t>(input));
  if (kinds_[static_cast<size_t>(input)] != NodeKind::kInput) {
    throw ValueError("StepPlan::bind_input: node '" + names_[static_cast<size_t>(input)] +
                     "' is not an input");
  }
  if (value.shape() != slot.shape() || value.dtype() != slot.dtype()) {
    throw ShapeError("StepPlan::bind_input: input '" + names_[static_cast<size_t>(input)] +
                     "' expects " + slot.shape().to_string() + " " +
                     std::string(dtype_name(slot.dtype())) + ", got " + value.to_string());
  }
  if (value.device() != backend_.device()) {
    throw ValueError("StepPlan::bind_input: input '" + names_[static_cast<size_t>(input)] +
                     "' is on " + value.device().to_string() + " but the step runs on " +
                     backend_.device().to_string());
  }
  slot.alias(value);
}

void StepPlan::forward(const StepInfo& step) {
  for (const Call& call : forward_) {
    size_t index = static_cast<size_t>(call.node);
    if (is_view_[index]) {
      values_[index].alias(*call.inputs[0]);
      continue;
    }
    OpContext context(backend_, step, call.inputs.data(), static_cast<int>(call.inputs.size()),
                      values_[index]);
    call.op->forward(context);
  }
}

void StepPlan::backward(const StepInfo& step) {
  TY_CHECK(loss_ >= 0, "StepPlan::backward on a forward-only plan");
  if (reseed_loss_) backend_.fill(loss_seed_, loss_seed_value_);
  for (const Call& call : backward_) {
    size_t index = static_cast<size_t>(call.node);
    OpContext context(backend_, step, call.inputs.data(), static_cast<int>(call.inputs.size()),
                      values_[index]);
    context.set_gradients(&gradients_[index], call.input_grads.data(), call.accumulate.data());
    call.op->backward(context);
  }
}

const Tensor& StepPlan::value(NodeId node) const {
  if (std::find(outputs_.begin(), outputs_.end(), node) == outputs_.end() && node != loss_) {
    throw ValueError("StepPlan::value: node '" + names_.at(static_cast<size_t>(node)) +
                     "' is not an output of this plan");
  }
  return values_[static_cast<size_t>(node)];
}

std::string StepPlan::describe() const {
  std::string text;
  for (const Call& call : forward_)
    text += "forward " + names_[static_cast<size_t>(call.node)] + "\n";
  for (const Call& call : backward_) {
    text += "backward " + names_[static_cast<size_t>(call.node)] + "\n";
  }
  return text + "arena " + std::to_string(arena_bytes_) + " bytes\n";
}

}  // namespace trainyard::graph
