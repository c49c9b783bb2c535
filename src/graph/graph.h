// Graph: the description of a computation as nodes (inputs fed each step, variables, and
// op applications), built by layers and compiled into a StepPlan. Building runs no kernel.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "graph/op.h"
#include "graph/variable.h"

namespace trainyard::graph {

using NodeId = int32_t;

enum class NodeKind { kInput, kVariable, kOp };

struct Node {
  NodeKind kind = NodeKind::kOp;
  std::string name;
  TensorSpec spec;
  std::shared_ptr<const Op> op;  // kOp only
  std::vector<NodeId> inputs;    // kOp only
  VariablePtr variable;          // kVariable only
};

class Graph {
 public:
  // A tensor fed from outside at every step (a batch of features, labels or weights).
  NodeId add_input(std::string name, TensorSpec spec);
  // A model variable; its gradient flows into variable->gradient when trainable.
  NodeId add_variable(VariablePtr variable);
  // Applies `op` to `inputs`, running its shape rule now. Throws ShapeError from the rule.
  NodeId add_op(std::shared_ptr<const Op> op, std::vector<NodeId> inputs, std::string name = "");

  // References returned by node() and spec() are invalidated by the next add_*.
  const Node& node(NodeId id) const;
  const TensorSpec& spec(NodeId id) const { return node(id).spec; }
  int32_t size() const { return static_cast<int32_t>(nodes_.size()); }

 private:
  std::vector<Node> nodes_;
};

}  // namespace trainyard::graph
