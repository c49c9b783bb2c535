#include "nn/layers/dropout.h"

#include "core/error.h"
#include "core/random.h"
#include "graph/ops/ops.h"

namespace trainyard::nn {

Dropout::Dropout(double rate, DropoutOptions options)
    : Layer("Dropout", options.name),
      rate_(rate),
      seed_(options.seed.value_or(next_random_seed())) {
  if (!(rate >= 0.0 && rate <= 1.0)) {
    throw ValueError("Dropout '" + name() + "': rate must be in [0, 1], got " +
                     std::to_string(rate));
  }
}

graph::NodeId Dropout::call(graph::Graph& graph, graph::NodeId input, const CallContext& context) {
  input = autocast(graph, input);
  if (!context.training || rate_ == 0.0) return input;
  return graph.add_op(graph::ops::dropout(rate_, seed_), {input}, name());
}

}  // namespace trainyard::nn
