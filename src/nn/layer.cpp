#include "nn/layer.h"

#include "core/error.h"
#include "graph/ops/ops.h"
#include "nn/naming.h"

namespace trainyard::nn {

Layer::Layer(std::string_view class_name, std::string name)
    : class_name_(class_name),
      name_(name.empty() ? unique_name(to_snake_case(class_name)) : std::move(name)),
      policy_(global_policy()) {}

void Layer::set_dtype_policy(const DTypePolicy& policy) {
  if (built_) throw ValueError("layer '" + name_ + "': dtype must be set before it is built");
  policy_ = policy;
}

void Layer::set_dtype(DType dtype) {
  if (!is_floating(dtype)) {
    throw ValueError("layer '" + name_ + "': dtype must be a floating-point type, got " +
                     std::string(dtype_name(dtype)));
  }
  set_dtype_policy(DTypePolicy::from_dtype(dtype));
}

void Layer::require_supported_policy() const {
  const std::string& policy = policy_.name();
  if (policy_.compute_dtype() == DType::kFloat16) {
    throw ValueError(class_name_ + " '" + name_ + "' uses the " + policy +
                     " policy, which needs loss scaling (Keras's LossScaleOptimizer); trainyard "
                     "has no loss scaling yet: use mixed_bfloat16 or float32");
  }
  if (policy_.variable_dtype() != DType::kFloat32 && policy_.variable_dtype() != DType::kFloat64) {
    throw ValueError(class_name_ + " '" + name_ + "' uses the " + policy +
                     " policy; trainyard keeps variables in float32 or float64 (use "
                     "mixed_bfloat16 to compute in bfloat16)");
  }
  if (policy_.is_mixed() && !supports_mixed_precision()) {
    throw ValueError(class_name_ + " '" + name_ + "' does not support the " + policy +
                     " policy yet");
  }
}

void Layer::set_trainable(bool trainable) {
  trainable_ = trainable;
  for (Weight& weight : weights_) weight.variable->trainable = trainable && weight.trainable;
}

void Layer::build(const Shape& input_shape) {
  if (built_) {
    bool compatible = input_shape.rank() == input_shape_.rank();
    for (int64_t i = 1; compatible && i < input_shape.rank(); ++i) {
      compatible = input_shape[i] == input_shape_[i];
    }
    if (!compatible) {
      throw ShapeError("layer '" + name_ + "' was built for inputs " +
                       input_shape_.to_keras_string() + " but is called on " +
                       input_shape.to_keras_string());
    }
    return;
  }
  require_supported_policy();
  input_shape_ = input_shape.with_batch(-1);
  input_shapes_ = {input_shape_};
  build_weights(input_shape_);
  built_ = true;
}

std::vector<graph::VariablePtr> Layer::weights() const {
  std::vector<graph::VariablePtr> result = trainable_weights();
  for (auto& variable : non_trainable_weights()) result.push_back(variable);
  return result;
}

std::vector<graph::VariablePtr> Layer::trainable_weights() const {
  std::vector<graph::VariablePtr> result;
  for (const Weight& weight : weights_) {
    if (weight.variable->trainable) result.push_back(weight.variable);
  }
  return result;
}

std::vector<graph::VariablePtr> Layer::non_trainable_weights() const {
  std::vector<graph::VariablePtr> result;
  for (const Weight& weight : weights_) {
    if (!weight.variable->trainable) result.push_back(weight.variable);
  }
  return result;
}

int64_t Layer::count_params() const {
  int64_t count = 0;
  for (const Weight& weight : weights_) count += weight.variable->value.num_elements();
  return count;
}

graph::VariablePtr Layer::add_weight(const std::string& name, const Shape& shape,
                                     const Initializer& initializer, bool trainable) {
  auto variable = std::make_shared<graph::Variable>();
  variable->path = name_ + "/" + name;
  variable->value = Tensor::zeros(shape, policy_.variable_dtype());
  variable->trainable = trainable && trainable_;
  initializer.fill(variable->value);
  weights_.push_back({variable, trainable});
  return variable;
}

graph::NodeId Layer::weight_node(graph::Graph& graph, const graph::VariablePtr& weight) const {
  return compute_copy(graph, graph.add_variable(weight));
}

graph::NodeId Layer::compute_copy(graph::Graph& graph, graph::NodeId variable) const {
  if (graph.spec(variable).dtype == policy_.compute_dtype()) return variable;
  return graph.add_op(graph::ops::cast(policy_.compute_dtype()), {variable},
                      graph.node(variable).variable->path + "/cast");
}

graph::NodeId Layer::autocast(graph::Graph& graph, graph::NodeId input) const {
  const DType dtype = graph.spec(input).dtype;
  if (!is_floating(dtype) || dtype == policy_.compute_dtype()) return input;
  return graph.add_op(graph::ops::cast(policy_.compute_dtype()), {input}, name_ + "/autocast");
}

Shape Layer::compute_output_shape(std::span<const Shape> input_shapes) const {
  if (input_shapes.size() != 1) {
    throw ValueError("layer '" + name_ + "' (" + class_name_ + ") takes one input, got " +
                     std::to_string(input_shapes.size()));
  }
  return compute_output_shape(input_shapes[0]);
}

void Layer::build(std::span<const Shape> input_shapes) {
  if (input_shapes.size() == 1) {
    build(input_shapes[0]);
    return;
  }
  std::vector<Shape> shapes;
  for (const Shape& shape : input_shapes) {
    shapes.push_back(shape.rank() == 0 ? shape : shape.with_batch(-1));
  }
  if (built_) {
    bool compatible = shapes == input_shapes_;
    if (!compatible) {
      auto list = [](const std::vector<Shape>& list_shapes) {
        std::string text;
        for (const Shape& shape : list_shapes) {
          text.append(text.empty() ? "" : ", ").append(shape.to_keras_string());
        }
        return text;
      };
      throw ShapeError("layer '" + name_ + "' was built for inputs " + list(input_shapes_) +
                       " but is called on " + list(shapes));
    }
    return;
  }
  require_supported_policy();
  compute_output_shape(shapes);  // throws, naming the layer, when the shapes do not fit
  input_shapes_ = shapes;
  input_shape_ = shapes.empty() ? Shape{} : shapes[0];
  built_ = true;
}

graph::NodeId Layer::call(graph::Graph& graph, std::span<const graph::NodeId> inputs,
                          const CallContext& context) {
  if (inputs.size() != 1) {
    throw ValueError("layer '" + name_ + "' (" + class_name_ + ") takes one input, got " +
                     std::to_string(inputs.size()));
  }
  return call(graph, inputs[0], context);
}

std::vector<graph::NodeId> Layer::losses(graph::Graph&) const {
  return {};
}

}  // namespace trainyard::nn
