// What compile() makes of its loss, loss_weights and metrics arguments for a model's outputs
// (Keras's CompileLoss and CompileMetrics): one loss, weight and metric list per output, and the
// graph nodes of the training loss
//   total = sum over outputs of weight_i * loss_i  +  the layers' regularization penalties.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "keras/options.h"
#include "nn/losses.h"

namespace trainyard::keras {

struct OutputCompileSpec {
  std::string output_name;
  nn::LossFunction loss;
  std::optional<double> loss_weight;  // unset: the loss is not scaled
  std::vector<std::string> metrics;   // as the user named them
};

// Resolves `options` against the model's outputs, validating loss names now so a typo fails at
// compile() as in Keras. Throws ValueError for no loss or two forms of one argument, a list whose
// length is not the number of outputs, a dict key that is no output name (or a loss dict missing
// one), and for metrics given as a flat list to several outputs when the list's length differs from
// the number of outputs.
std::vector<OutputCompileSpec> resolve_compile_options(
    const CompileOptions& options, const std::vector<std::string>& output_names);

// The names logs use: "<output>_loss" and "<output>_<metric>" with several outputs, the bare metric
// name with one; a name met again gets "_1", "_2", ... as Keras's CompileMetrics does. Returns one
// list of names per output, parallel to each spec's metrics.
std::vector<std::vector<std::string>> metric_log_names(std::span<const OutputCompileSpec> specs);

struct LossNodes {
  graph::NodeId total = -1;
  std::vector<graph::NodeId> per_output;  // each output's unweighted loss
};

// Keras computes losses and metrics in float32 (its Loss converts y_pred): each prediction in
// another floating dtype (bfloat16 under a mixed policy) is replaced by a Cast to `dtype`, the
// variables' dtype. predict() therefore returns `dtype` too, where Keras would return the
// compute dtype.
std::vector<graph::NodeId> predictions_for_losses(graph::Graph& graph,
                                                  std::vector<graph::NodeId> predictions,
                                                  DType dtype);

// Adds the loss of each output (kernel `losses[i]` on predictions[i] and targets[i]) and the total
// to `graph`. Weights other than 1 are applied by one [1, n] x [n, 1] product with a constant
// (non-trainable) variable holding them; with all weights 1 the total is a plain sum, and with one
// output and no penalties it is that output's loss node itself. A `sample_weight` node ([batch])
// weighs every output's per-sample losses (sum(w * loss) / batch); -1 means none. REQUIRES: the
// spans have one entry per output.
LossNodes add_loss_nodes(graph::Graph& graph, std::span<const backend::Loss> losses,
                         std::span<const std::optional<double>> weights,
                         std::span<const graph::NodeId> predictions,
                         std::span<const graph::NodeId> targets,
                         std::span<const graph::NodeId> penalties,
                         graph::NodeId sample_weight = -1);

}  // namespace trainyard::keras
