#include "nn/layers/regularizers.h"

#include <cmath>

#include "core/error.h"
#include "graph/ops/ops.h"

namespace trainyard::nn {
namespace {

double checked_factor(const char* regularizer, const char* argument, double value) {
  if (!std::isfinite(value) || value < 0) {
    throw ValueError(std::string(regularizer) + ": invalid value for argument " + argument +
                     ": expected a non-negative float, got " + std::to_string(value));
  }
  return value;
}

Regularizer make(std::string class_name, double l1, double l2) {
  Regularizer regularizer;
  regularizer.class_name = std::move(class_name);
  regularizer.l1 = checked_factor(regularizer.class_name.c_str(), "l1", l1);
  regularizer.l2 = checked_factor(regularizer.class_name.c_str(), "l2", l2);
  return regularizer;
}

Regularizer from_identifier(const std::string& identifier) {
  if (identifier == "l1" || identifier == "L1") return regularizers::L1();
  if (identifier == "l2" || identifier == "L2") return regularizers::L2();
  if (identifier == "l1_l2") return regularizers::L1L2(0.01, 0.01);
  if (identifier == "L1L2") return regularizers::L1L2();
  throw ValueError("unknown regularizer '" + identifier + "' (known: l1, l2, l1_l2, L1, L2, L1L2)");
}

}  // namespace

Regularizer::Regularizer(const char* identifier) : Regularizer(std::string(identifier)) {}

Regularizer::Regularizer(const std::string& identifier) {
  *this = from_identifier(identifier);
}

namespace regularizers {
Regularizer L1(double l1) {
  return make("L1", l1, 0.0);
}
Regularizer L2(double l2) {
  return make("L2", 0.0, l2);
}
Regularizer L1L2(double l1, double l2) {
  return make("L1L2", l1, l2);
}
}  // namespace regularizers

void add_weight_penalty(graph::Graph& graph, const graph::VariablePtr& weight,
                        const Regularizer& regularizer, std::vector<graph::NodeId>& losses) {
  if (!weight || !weight->trainable) return;
  graph::NodeId value = graph.add_variable(weight);
  losses.push_back(graph.add_op(graph::ops::regularizer(regularizer.l1, regularizer.l2), {value},
                                weight->path + "/regularizer"));
}

}  // namespace trainyard::nn
