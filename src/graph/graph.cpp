#include "graph/graph.h"

#include "core/error.h"

namespace trainyard::graph {

NodeId Graph::add_input(std::string name, TensorSpec spec) {
  Node node;
  node.kind = NodeKind::kInput;
  node.name = std::move(name);
  node.spec = std::move(spec);
  nodes_.push_back(std::move(node));
  return size() - 1;
}

NodeId Graph::add_variable(VariablePtr variable) {
  TY_CHECK(variable && variable->value.defined(), "add_variable needs a created variable");
  Node node;
  node.kind = NodeKind::kVariable;
  node.name = variable->path;
  node.spec = {variable->value.shape(), variable->value.dtype()};
  node.variable = std::move(variable);
  nodes_.push_back(std::move(node));
  return size() - 1;
}

NodeId Graph::add_op(std::shared_ptr<const Op> op, std::vector<NodeId> inputs, std::string name) {
  std::vector<TensorSpec> input_specs;
  input_specs.reserve(inputs.size());
  for (NodeId input : inputs) input_specs.push_back(spec(input));
  Node node;
  node.kind = NodeKind::kOp;
  node.name = name.empty() ? op->name() : std::move(name);
  node.spec = op->infer(input_specs);
  node.op = std::move(op);
  node.inputs = std::move(inputs);
  nodes_.push_back(std::move(node));
  return size() - 1;
}

const Node& Graph::node(NodeId id) const {
  TY_CHECK(id >= 0 && id < size(), "node id " + std::to_string(id) + " out of range");
  return nodes_[static_cast<size_t>(id)];
}

}  // namespace trainyard::graph
