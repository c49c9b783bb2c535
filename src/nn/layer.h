// Layer: the base of every Keras layer. A layer creates its weights once it knows its
// input shape (build), then adds its computation to a graph each time a model compiles a
// step (call). Shapes include the batch dimension, which is -1 when unknown.
// Thread safety: a layer is used by one model on one thread at a time.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "graph/graph.h"
#include "nn/dtype_policy.h"
#include "nn/initializers.h"

namespace trainyard::nn {

// What a call may depend on besides its input: Keras's `training` argument.
struct CallContext {
  bool training = false;
};

class Layer {
 public:
  // `name` empty: a unique snake_case name from the class name ("dense", "dense_1"). The
  // layer takes the global dtype policy (nn/dtype_policy.h) in force now.
  Layer(std::string_view class_name, std::string name);
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  const std::string& name() const { return name_; }
  const std::string& class_name() const { return class_name_; }
  // Keras's layer.dtype: the dtype of the layer's variables.
  DType dtype() const { return policy_.variable_dtype(); }
  // The dtype the layer computes in and returns; floating inputs are cast to it.
  DType compute_dtype() const { return policy_.compute_dtype(); }
  const DTypePolicy& dtype_policy() const { return policy_; }
  // Keras's `dtype` argument: both set the policy, before build (ValueError after).
  // set_dtype(d) is the one-dtype policy of d.
  void set_dtype_policy(const DTypePolicy& policy);
  void set_dtype(DType dtype);
  bool trainable() const { return trainable_; }
  // Moves every weight of the layer between trainable and non-trainable.
  void set_trainable(bool trainable);

  bool built() const { return built_; }
  // Creates the weights for inputs of `input_shape` ([batch, ...]); later calls check the
  // shape is compatible. Throws ShapeError naming the layer otherwise.
  void build(const Shape& input_shape);
  const Shape& input_shape() const { return input_shape_; }

  virtual Shape compute_output_shape(const Shape& input_shape) const = 0;
  // Whether the layer runs under a mixed policy (variables float32, computation bfloat16).
  // build throws ValueError naming the layer and the policy for one that does not.
  virtual bool supports_mixed_precision() const { return false; }
  // Adds the layer's ops on `input` to `graph` and returns the output node.
  // REQUIRES: built().
  virtual graph::NodeId call(graph::Graph& graph, graph::NodeId input,
                             const CallContext& context) = 0;

  // ---- several inputs -----------------------------------------------------------------
  // The path the Functional API calls, for layers that take a list of inputs (Add,
  // Concatenate). Single-input layers need not override anything: with exactly one input
  // each form below forwards to the single-input one above, and with any other count it
  // throws ValueError naming the layer. Merge layers override these three and make their
  // single-input forms throw, as Keras rejects a merge layer called on one tensor. A class
  // that overrides only the single-input forms hides these names (C++ lookup), so call them
  // through a Layer& or LayerPtr, as models do.
  //
  // The output shape for inputs of `input_shapes`.
  virtual Shape compute_output_shape(std::span<const Shape> input_shapes) const;
  // Records the input shapes (batch dimension set to -1) and checks them with
  // compute_output_shape on first use; later calls check compatibility as build(shape) does.
  // With one shape this is build(input_shapes[0]).
  void build(std::span<const Shape> input_shapes);
  // The shapes the layer was built for: one per input ({input_shape()} for single-input
  // layers). Empty before build.
  const std::vector<Shape>& input_shapes() const { return input_shapes_; }
  // Adds the layer's ops on `inputs` to `graph` and returns the output node.
  // REQUIRES: built().
  virtual graph::NodeId call(graph::Graph& graph, std::span<const graph::NodeId> inputs,
                             const CallContext& context);

  // ---- losses -------------------------------------------------------------------------
  // Keras's layer.losses for weight regularizers: adds one scalar penalty node per
  // regularized trainable weight to `graph` (reading the weight through a new variable node)
  // and returns them in weight order; empty when the layer has none. Call once per graph,
  // after build, independently of call(); the training loss adds them with ops::add_n.
  virtual std::vector<graph::NodeId> losses(graph::Graph& graph) const;

  // Weights in Keras's order: trainable first, then non-trainable, each in creation order.
  std::vector<graph::VariablePtr> weights() const;
  std::vector<graph::VariablePtr> trainable_weights() const;
  std::vector<graph::VariablePtr> non_trainable_weights() const;
  int64_t count_params() const;

 protected:
  virtual void build_weights(const Shape& /*input_shape*/) {}
  // Creates a weight named "<layer>/<name>" filled by `initializer`.
  graph::VariablePtr add_weight(const std::string& name, const Shape& shape,
                                const Initializer& initializer, bool trainable = true);
  // The graph node for a weight, read in the compute dtype: under a mixed policy a Cast of
  // the float32 variable, whose gradient flows back to the variable in float32.
  graph::NodeId weight_node(graph::Graph& graph, const graph::VariablePtr& weight) const;
  // The variable node `variable` read in the compute dtype: itself, or a Cast of it.
  graph::NodeId compute_copy(graph::Graph& graph, graph::NodeId variable) const;
  // `input` cast to the compute dtype when it is floating and in another dtype (Keras's
  // autocast); otherwise `input` itself.
  graph::NodeId autocast(graph::Graph& graph, graph::NodeId input) const;

 private:
  struct Weight {
    graph::VariablePtr variable;
    bool trainable;  // the weight's own flag; the variable's also depends on the layer's
  };

  std::string class_name_;
  std::string name_;
  // Throws ValueError unless this layer can run its policy.
  void require_supported_policy() const;

  DTypePolicy policy_;
  bool trainable_ = true;
  bool built_ = false;
  Shape input_shape_;
  std::vector<Shape> input_shapes_;
  std::vector<Weight> weights_;
};

using LayerPtr = std::shared_ptr<Layer>;

}  // namespace trainyard::nn
