// Keras's weight regularizers (keras-semantics.md section 1.11) as a value type, and the
// helper layers use to add their penalties to a graph. penalty = l1 * sum |w| + l2 * sum w^2,
// with no 1/2 on the L2 term. Build one from a Keras identifier or with the factories:
//
//   Dense(64, {.kernel_regularizer = "l2"})                          // L2(0.01)
//   Dense(64, {.kernel_regularizer = regularizers::L1L2(1e-5, 1e-4)})
#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"

namespace trainyard::nn {

struct Regularizer {
  // Keras's class, for model configs: "L1", "L2" or "L1L2".
  std::string class_name = "L1L2";
  double l1 = 0.0;
  double l2 = 0.0;

  Regularizer() = default;  // L1L2(l1=0, l2=0), Keras's class defaults
  // "l1" -> L1(0.01), "l2" -> L2(0.01), "l1_l2" -> L1L2(0.01, 0.01); the class names "L1",
  // "L2", "L1L2" give the class defaults (0.01, 0.01, and 0 / 0). Throws ValueError naming
  // an unknown identifier and listing the known ones.
  Regularizer(const char* identifier);         // NOLINT(google-explicit-constructor)
  Regularizer(const std::string& identifier);  // NOLINT(google-explicit-constructor)

  bool operator==(const Regularizer&) const = default;
};

namespace regularizers {
// Each throws ValueError unless its factors are finite and >= 0, as Keras does.
Regularizer L1(double l1 = 0.01);
Regularizer L2(double l2 = 0.01);
Regularizer L1L2(double l1 = 0.0, double l2 = 0.0);
}  // namespace regularizers

// Appends to `losses` the penalty node of `regularizer` on `weight`, reading the weight
// through a new variable node of `graph`, named "<weight path>/regularizer". Does nothing
// when the weight is absent (a layer without bias) or not trainable: Keras's layer.losses
// only regularizes trainable weights.
void add_weight_penalty(graph::Graph& graph, const graph::VariablePtr& weight,
                        const Regularizer& regularizer, std::vector<graph::NodeId>& losses);

}  // namespace trainyard::nn
