#include "keras/compile_loss.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"
#include "graph/ops/ops.h"

namespace trainyard::keras {
namespace {

std::string quoted_list(const std::vector<std::string>& names) {
  std::string text = "[";
  for (const std::string& name : names) text += (text.size() > 1 ? ", '" : "'") + name + "'";
  return text + "]";
}

template <typename Value>
std::vector<std::string> keys_of(const std::map<std::string, Value>& map) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : map) keys.push_back(key);
  return keys;
}

// Throws unless every key of `map` names an output.
template <typename Value>
void require_known_outputs(const std::map<std::string, Value>& map, const char* argument,
                           const std::vector<std::string>& output_names) {
  for (const auto& [key, value] : map) {
    if (std::find(output_names.begin(), output_names.end(), key) == output_names.end()) {
      throw ValueError(std::string("compile: ") + argument + " names output '" + key +
                       "', but the model's outputs are " + quoted_list(output_names));
    }
  }
}

void require_one_form(int given, const char* argument) {
  if (given > 1) {
    throw ValueError(std::string("compile: give ") + argument +
                     " in one form only (one value, a list per output or a map "
                     "by output name)");
  }
}

std::vector<nn::LossFunction> resolve_losses(const CompileOptions& options,
                                             const std::vector<std::string>& output_names) {
  size_t count = output_names.size();
  int forms = (options.loss ? 1 : 0) + (options.losses.empty() ? 0 : 1) +
              (options.loss_by_output.empty() ? 0 : 1);
  if (forms == 0) {
    throw ValueError(
        "compile: a loss is required (e.g. "
        "\"sparse_categorical_crossentropy\")");
  }
  require_one_form(forms, "the loss");
  if (options.loss) return std::vector<nn::LossFunction>(count, *options.loss);
  if (!options.losses.empty()) {
    if (options.losses.size() != count) {
      throw ValueError("compile: losses holds " + std::to_string(options.losses.size()) +
                       " losses for a model with " + std::to_string(count) + " outputs " +
                       quoted_list(output_names));
    }
    return options.losses;
  }
  std::vector<std::string> sorted_names = output_names;
  std::sort(sorted_names.begin(), sorted_names.end());
  if (keys_of(options.loss_by_output) != sorted_names) {
    throw ValueError("compile: expected keys " + quoted_list(output_names) +
                     " in loss_by_output, but found " +
                     quoted_list(keys_of(options.loss_by_output)));
  }
  std::vector<nn::LossFunction> losses;
  for (const std::string& name : output_names) losses.push_back(options.loss_by_output.at(name));
  return losses;
}

std::vector<std::optional<double>> resolve_weights(const CompileOptions& options,
                                                   const std::vector<std::string>& output_names) {
  size_t count = output_names.size();
  require_one_form(
      (options.loss_weights.empty() ? 0 : 1) + (options.loss_weights_by_output.empty() ? 0 : 1),
      "loss_weights");
  std::vector<std::optional<double>> weights(count);
  if (!options.loss_weights.empty()) {
    if (options.loss_weights.size() != count) {
      throw ValueError("compile: loss_weights must match the number of losses, got " +
                       std::to_string(count) + " losses and " +
                       std::to_string(options.loss_weights.size()) + " weights");
    }
    for (size_t i = 0; i < count; ++i) weights[i] = options.loss_weights[i];
  }
  require_known_outputs(options.loss_weights_by_output, "loss_weights_by_output", output_names);
  for (size_t i = 0; i < count; ++i) {
    auto it = options.loss_weights_by_output.find(output_names[i]);
    if (it != options.loss_weights_by_output.end()) weights[i] = it->second;
  }
  for (size_t i = 0; i < count; ++i) {
    if (weights[i] && !std::isfinite(*weights[i])) {
      throw ValueError("compile: the loss weight of output '" + output_names[i] +
                       "' must be finite, got " + std::to_string(*weights[i]));
    }
  }
  return weights;
}

std::vector<std::vector<std::string>> resolve_metrics(
    const CompileOptions& options, const std::vector<std::string>& output_names) {
  size_t count = output_names.size();
  require_one_form((options.metrics.empty() ? 0 : 1) +
                       (options.metrics_per_output.empty() ? 0 : 1) +
                       (options.metrics_by_output.empty() ? 0 : 1),
                   "metrics");
  std::vector<std::vector<std::string>> metrics(count);
  if (!options.metrics.empty()) {
    if (count == 1) {
      metrics[0] = options.metrics;
    } else if (options.metrics.size() == count) {
      for (size_t i = 0; i < count; ++i) metrics[i] = {options.metrics[i]};
    } else {
      throw ValueError("compile: metrics for a model with " + std::to_string(count) + " outputs " +
                       quoted_list(output_names) +
                       " must be one per output (or use metrics_per_output or "
                       "metrics_by_output), got " +
                       std::to_string(options.metrics.size()));
    }
  }
  if (!options.metrics_per_output.empty()) {
    if (options.metrics_per_output.size() != count) {
      throw ValueError("compile: metrics_per_output holds " +
                       std::to_string(options.metrics_per_output.size()) +
                       " lists for a model with " + std::to_string(count) + " outputs");
    }
    metrics = options.metrics_per_output;
  }
  require_known_outputs(options.metrics_by_output, "metrics_by_output", output_names);
  for (size_t i = 0; i < count; ++i) {
    auto it = options.metrics_by_output.find(output_names[i]);
    if (it != options.metrics_by_output.end()) metrics[i] = it->second;
  }
  return metrics;
}

}  // namespace

std::vector<OutputCompileSpec> resolve_compile_options(
    const CompileOptions& options, const std::vector<std::string>& output_names) {
  TY_CHECK(!output_names.empty(), "resolve_compile_options for a model without outputs");
  std::vector<nn::LossFunction> losses = resolve_losses(options, output_names);
  std::vector<std::optional<double>> weights = resolve_weights(options, output_names);
  std::vector<std::vector<std::string>> metrics = resolve_metrics(options, output_names);
  std::vector<OutputCompileSpec> specs;
  for (size_t i = 0; i < output_names.size(); ++i) {
    losses[i].validate();
    specs.push_back({output_names[i], losses[i], weights[i], metrics[i]});
  }
  return specs;
}

std::vector<std::vector<std::string>> metric_log_names(std::span<const OutputCompileSpec> specs) {
  std::map<std::string, int> seen;
  std::vector<std::vector<std::string>> names;
  for (const OutputCompileSpec& spec : specs) {
    names.emplace_back();
    for (const std::string& metric : spec.metrics) {
      std::string name = specs.size() > 1 ? spec.output_name + "_" + metric : metric;
      int& uses = seen[name];
      names.back().push_back(uses == 0 ? name : name + "_" + std::to_string(uses));
      ++uses;
    }
  }
  return names;
}

std::vector<graph::NodeId> predictions_for_losses(graph::Graph& graph,
                                                  std::vector<graph::NodeId> predictions,
                                                  DType dtype) {
  for (graph::NodeId& prediction : predictions) {
    const DType given = graph.spec(prediction).dtype;
    if (!is_floating(given) || given == dtype) continue;
    prediction = graph.add_op(graph::ops::cast(dtype), {prediction},
                              graph.node(prediction).name + "/" + std::string(dtype_name(dtype)));
  }
  return predictions;
}

LossNodes add_loss_nodes(graph::Graph& graph, std::span<const backend::Loss> losses,
                         std::span<const std::optional<double>> weights,
                         std::span<const graph::NodeId> predictions,
                         std::span<const graph::NodeId> targets,
                         std::span<const graph::NodeId> penalties, graph::NodeId sample_weight) {
  size_t count = losses.size();
  TY_CHECK(count > 0 && weights.size() == count && predictions.size() == count &&
               targets.size() == count,
           "add_loss_nodes needs one loss, weight, prediction and target per "
           "output");
  LossNodes nodes;
  for (size_t i = 0; i < count; ++i) {
    std::string name = count == 1 ? "loss" : "loss_" + std::to_string(i);
    std::vector<graph::NodeId> inputs = {predictions[i], targets[i]};
    if (sample_weight >= 0) inputs.push_back(sample_weight);
    nodes.per_output.push_back(graph.add_op(graph::ops::loss(losses[i]), inputs, name));
  }

  bool weighted = std::any_of(weights.begin(), weights.end(),
                              [](const std::optional<double>& w) { return w && *w != 1.0; });
  std::vector<graph::NodeId> terms;
  if (!weighted) {
    terms = nodes.per_output;
  } else {
    // [loss_0, ..., loss_{n-1}] @ [[w_0], ..., [w_{n-1}]]: the weights live in a constant variable,
    // so the product's backward hands each loss w_i times the upstream gradient.
    std::vector<graph::NodeId> parts;
    for (graph::NodeId loss : nodes.per_output) {
      parts.push_back(graph.add_op(graph::ops::reshape(Shape{1}), {loss}, "loss_as_vector"));
    }
    graph::NodeId row =
        count == 1 ? parts[0] : graph.add_op(graph::ops::concatenate(0), parts, "losses");
    DType dtype = graph.spec(nodes.per_output[0]).dtype;
    auto variable = std::make_shared<graph::Variable>();
    variable->path = "compile_loss/loss_weights";
    variable->trainable = false;
    variable->value = Tensor::zeros(Shape{static_cast<int64_t>(count), 1}, dtype);
    for (size_t i = 0; i < count; ++i) {
      double weight = weights[i].value_or(1.0);
      if (dtype == DType::kFloat64) {
        variable->value.data<double>()[i] = weight;
      } else {
        TY_CHECK(dtype == DType::kFloat32, "loss weights for an unsupported dtype");
        variable->value.data<float>()[i] = static_cast<float>(weight);
      }
    }
    graph::NodeId weight_node = graph.add_variable(variable);
    terms.push_back(graph.add_op(graph::ops::affine(), {row, weight_node}, "weighted_losses"));
  }
  terms.insert(terms.end(), penalties.begin(), penalties.end());
  nodes.total = terms.size() == 1 && !weighted
                    ? terms[0]
                    : graph.add_op(graph::ops::add_n(), terms, "total_loss");
  return nodes;
}

}  // namespace trainyard::keras
