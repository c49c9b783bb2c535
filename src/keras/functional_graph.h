// The layer graph of a Functional model, walked back from its outputs the way Keras's map_graph
// does (keras/src/ops/function.py), so model.layers, get_weights() and summary() come out in
// Keras's order.
#pragma once

#include <map>
#include <vector>

#include "keras/keras_tensor.h"

namespace trainyard::keras::detail {

struct GraphMap {
  // Every call between the inputs and the outputs, each after the calls it reads (Input calls
  // first): the order a step runs them in.
  std::vector<const LayerCall*> calls;
  // Each layer once: by depth (distance from the outputs), deepest first, ties in the order a
  // depth-first walk from the outputs first met them (an input no output depends on has depth 0 and
  // comes first among its depth).
  std::vector<nn::LayerPtr> layers;
  // Depth of each call (0 for the calls producing outputs).
  std::map<const LayerCall*, int> depth;
  // Index of each call among its layer's calls in this model, oldest first (Keras's node_index, as
  // "Connected to" and configs show it).
  std::map<const LayerCall*, int> node_index;
};

// Throws ValueError when an output cannot be computed from `inputs` ("Graph disconnected", naming
// the layer and the missing input), when an input is not an Input() tensor, or when two layers
// share a name.
GraphMap map_graph(const std::vector<KerasTensor>& inputs, const std::vector<KerasTensor>& outputs);

}  // namespace trainyard::keras::detail
