// Variable: a named, persistent tensor of a model (a layer weight or a moving statistic),
// with its gradient buffer when trainable. Shared by the layer that created it, the graph
// nodes that read it and the optimizer that updates it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/tensor.h"

namespace trainyard::graph {

struct Variable {
  // Keras's variable path, e.g. "dense_1/kernel".
  std::string path;
  Tensor value;
  // Same shape as value; undefined until the model packs its gradients, and for
  // non-trainable variables.
  Tensor gradient;
  bool trainable = true;
};

using VariablePtr = std::shared_ptr<Variable>;

}  // namespace trainyard::graph
