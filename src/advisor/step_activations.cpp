#include "advisor/step_activations.h"

#include <algorithm>
#include <string>

#include "backend/backend.h"
#include "graph/step_plan.h"
#include "keras/compile_loss.h"

namespace trainyard::advisor {
namespace {

uint64_t spec_bytes(const graph::TensorSpec& spec) {
  return static_cast<uint64_t>(spec.shape.num_elements()) * dtype_size(spec.dtype);
}

// Conv2D nodes read x [N, H, W, C] and a kernel [KH, KW, C, F] and write [N, OH, OW, F]; the
// CPU kernels unfold OH * OW rows of KH * KW * C values per sample.
void collect_conv_patches(const graph::Graph& graph, StepActivations& step) {
  for (graph::NodeId id = 0; id < graph.size(); ++id) {
    const graph::Node& node = graph.node(id);
    if (node.kind != graph::NodeKind::kOp || node.op->name().rfind("Conv2D", 0) != 0) continue;
    const Shape& kernel = graph.spec(node.inputs.at(1)).shape;
    const Shape& output = node.spec.shape;
    uint64_t rows = static_cast<uint64_t>(output[1] * output[2]);
    uint64_t depth = static_cast<uint64_t>(kernel[0] * kernel[1] * kernel[2]);
    step.conv_patch_bytes_per_sample.push_back(rows * depth * dtype_size(node.spec.dtype));
  }
}

// bfloat16 ops other than casts: their inputs and output as float32 (backend/cpu's
// Float32Staging), the largest one.
void collect_float32_staging(const graph::Graph& graph, StepActivations& step) {
  for (graph::NodeId id = 0; id < graph.size(); ++id) {
    const graph::Node& node = graph.node(id);
    if (node.kind != graph::NodeKind::kOp || node.op->name().rfind("Cast", 0) == 0) continue;
    bool bfloat16 = node.spec.dtype == DType::kBFloat16;
    int64_t elements = node.spec.shape.num_elements();
    for (graph::NodeId input : node.inputs) {
      bfloat16 = bfloat16 || graph.spec(input).dtype == DType::kBFloat16;
      elements += graph.spec(input).shape.num_elements();
    }
    if (bfloat16) {
      step.float32_staging_bytes =
          std::max(step.float32_staging_bytes, static_cast<uint64_t>(elements) * sizeof(float));
    }
  }
}

}  // namespace

StepActivations plan_step_activations(const keras::Model& model, int64_t batch_size) {
  DType dtype = DType::kFloat32;
  for (const auto& variable : model.trainable_weights()) dtype = variable->value.dtype();

  graph::Graph graph;
  std::vector<graph::NodeId> inputs;
  const std::vector<Shape>& shapes = model.input_shapes();
  for (size_t i = 0; i < shapes.size(); ++i) {
    inputs.push_back(
        graph.add_input("x_" + std::to_string(i), {shapes[i].with_batch(batch_size), dtype}));
  }
  // Model::call only adds nodes for layers already built; it changes no weight.
  auto& callable = const_cast<keras::Model&>(model);
  std::vector<graph::NodeId> predictions = keras::predictions_for_losses(
      graph, callable.call(graph, inputs, nn::CallContext{.training = true}), dtype);

  std::vector<backend::Loss> losses;
  std::vector<std::optional<double>> weights;
  std::vector<graph::NodeId> targets;
  for (graph::NodeId prediction : predictions) {
    const Shape& shape = graph.spec(prediction).shape;
    const bool sparse_labels = shape.rank() == 2 && shape[1] > 1;
    Shape target_shape = sparse_labels ? Shape{batch_size} : shape;
    targets.push_back(graph.add_input("y", {target_shape, dtype}));
    losses.push_back(sparse_labels
                         ? backend::Loss{backend::LossKind::kSparseCategoricalCrossentropy,
                                         /*from_logits=*/true}
                         : backend::Loss{});
    weights.push_back(std::nullopt);
  }
  std::vector<graph::NodeId> penalties;
  for (const auto& layer : model.layers()) {
    for (graph::NodeId penalty : layer->losses(graph)) penalties.push_back(penalty);
  }
  keras::LossNodes loss =
      keras::add_loss_nodes(graph, losses, weights, predictions, targets, penalties, -1);

  graph::PlanRequest request{.outputs = predictions, .loss = loss.total};
  StepActivations step;
  const graph::PlannedStep planned =
      graph::StepPlan::measure(graph, request, backend::cpu_backend());
  step.arena_bytes = planned.arena_bytes;
  step.calls = static_cast<int64_t>(planned.forward_calls + planned.backward_calls);
  for (graph::NodeId id : inputs) step.batch_buffer_bytes.push_back(spec_bytes(graph.spec(id)));
  for (graph::NodeId id : targets) step.batch_buffer_bytes.push_back(spec_bytes(graph.spec(id)));
  for (uint64_t bytes : step.batch_buffer_bytes) step.batch_bytes += bytes;
  collect_conv_patches(graph, step);
  collect_float32_staging(graph, step);
  return step;
}

}  // namespace trainyard::advisor
