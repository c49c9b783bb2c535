#include "keras/functional_graph.h"

#include <algorithm>
#include <set>

#include "core/error.h"
#include "keras/input_layer.h"

namespace trainyard::keras::detail {
namespace {

bool is_input_call(const LayerCall& call) {
  return dynamic_cast<const InputLayer*>(call.layer.get()) != nullptr;
}

// Keras's _build_map: a depth-first walk from the outputs that lists every call after the calls it
// reads, and numbers layers in the order it first meets them.
class Walk {
 public:
  explicit Walk(const std::set<const LayerCall*>& declared_inputs)
      : declared_inputs_(declared_inputs) {}

  void visit(const KerasTensor& tensor, const LayerCall* consumer) {
    const LayerCall* call = tensor.producer().get();
    if (finished_.count(call)) return;
    if (is_input_call(*call) && !declared_inputs_.count(call)) {
      throw ValueError("Graph disconnected: the output of Input '" + call->layer->name() +
                       "' feeds layer '" +
                       (consumer ? consumer->layer->name() : call->layer->name()) +
                       "' but is not among the model's inputs");
    }
    layer_index_.emplace(call->layer.get(), static_cast<int>(layer_index_.size()));
    layers_.emplace(call->layer.get(), call->layer);
    for (const KerasTensor& input : call->inputs) visit(input, call);
    finished_.insert(call);
    calls_.push_back(call);
  }

  std::vector<const LayerCall*> calls_;  // inputs -> outputs
  std::map<const nn::Layer*, int> layer_index_;
  std::map<const nn::Layer*, nn::LayerPtr> layers_;

 private:
  const std::set<const LayerCall*>& declared_inputs_;
  std::set<const LayerCall*> finished_;
};

}  // namespace

GraphMap map_graph(const std::vector<KerasTensor>& inputs,
                   const std::vector<KerasTensor>& outputs) {
  std::set<const LayerCall*> declared;
  for (const KerasTensor& input : inputs) {
    if (!input.defined() || !is_input_call(*input.producer())) {
      throw ValueError("Functional: every input must be a tensor returned by Input()" +
                       (input.defined() ? ", got the output of layer '" + input.name() + "'"
                                        : std::string(", got an undefined tensor")));
    }
    if (!declared.insert(input.producer().get()).second) {
      throw ValueError("Functional: input '" + input.name() + "' is given twice");
    }
  }
  Walk walk(declared);
  for (const KerasTensor& output : outputs) {
    if (!output.defined()) throw ValueError("Functional: an output tensor is undefined");
    walk.visit(output, nullptr);
  }

  // Depths, from the outputs back: a call is one deeper than its deepest consumer, and a shared
  // layer takes the largest depth of its calls.
  GraphMap map;
  std::set<const LayerCall*> in_graph(walk.calls_.begin(), walk.calls_.end());
  std::map<const nn::Layer*, int> layer_depth;
  for (auto it = walk.calls_.rbegin(); it != walk.calls_.rend(); ++it) {
    const LayerCall* call = *it;
    int depth = map.depth.emplace(call, 0).first->second;
    auto [entry, inserted] = layer_depth.emplace(call->layer.get(), depth);
    depth = std::max(depth, entry->second);
    entry->second = depth;
    map.depth[call] = depth;
    for (const KerasTensor& input : call->inputs) {
      const LayerCall* parent = input.producer().get();
      if (!in_graph.count(parent)) continue;
      int& parent_depth = map.depth.emplace(parent, 0).first->second;
      parent_depth = std::max(parent_depth, depth + 1);
    }
  }
  // Inputs no output depends on still belong to the model (Keras keeps them).
  for (const KerasTensor& input : inputs) {
    const LayerCall* call = input.producer().get();
    if (layer_depth.count(call->layer.get())) continue;
    layer_depth[call->layer.get()] = 0;
    walk.layer_index_[call->layer.get()] = -1;
    walk.layers_[call->layer.get()] = call->layer;
    map.depth[call] = 0;
    walk.calls_.insert(walk.calls_.begin(), call);
  }
  map.calls = walk.calls_;

  std::vector<const nn::Layer*> order;
  for (const auto& [layer, depth] : layer_depth) order.push_back(layer);
  std::sort(order.begin(), order.end(), [&](const nn::Layer* a, const nn::Layer* b) {
    if (layer_depth[a] != layer_depth[b]) return layer_depth[a] > layer_depth[b];
    return walk.layer_index_[a] < walk.layer_index_[b];
  });
  std::set<std::string> names;
  for (const nn::Layer* layer : order) {
    if (!names.insert(layer->name()).second) {
      throw ValueError("Functional: the name \"" + layer->name() +
                       "\" is used by more than one layer in the model; all layer names "
                       "should be unique");
    }
    map.layers.push_back(walk.layers_.at(layer));
  }

  std::map<const nn::Layer*, std::vector<const LayerCall*>> calls_of_layer;
  for (const LayerCall* call : map.calls) calls_of_layer[call->layer.get()].push_back(call);
  for (auto& [layer, calls] : calls_of_layer) {
    std::sort(calls.begin(), calls.end(),
              [](const LayerCall* a, const LayerCall* b) { return a->sequence < b->sequence; });
    for (size_t i = 0; i < calls.size(); ++i) map.node_index[calls[i]] = static_cast<int>(i);
  }
  return map;
}

}  // namespace trainyard::keras::detail
