// Where each piece of a model's state lives in a Keras 3 weights file, shared by saving and
// loading (keras-semantics.md 7(b)): layers by their snake-cased class name made unique in
// layer order ("layers/dense", "layers/dense_1"), each layer's weights as "vars/0", "vars/1"
// in Keras's order, and the optimizer under "optimizer": iterations, the learning rate
// (unless a schedule drives it), then its slots in the order Keras's build() creates them.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace trainyard::keras {
class Model;
}

namespace trainyard::keras::saving {

// One dataset and the model state it mirrors.
struct WeightEntry {
  std::string variable;  // what messages call it: "dense_3/kernel", "velocity of dense_3/bias"
  Tensor value;          // the current value, shape and dtype the file must match
  // Stores a loaded value (same shape and dtype as `value`). Never throws once `problem`
  // accepted the value.
  std::function<void(const Tensor&)> assign;
  // Empty, or why a loaded value cannot be used (a negative learning rate). May be null.
  std::function<std::string(const Tensor&)> problem;
};

// One saveable object: its datasets live in `path` + "/vars".
struct WeightGroup {
  std::string path;   // "layers/dense_1", "optimizer"
  std::string name;   // the object's own name, stored as the "vars" group's name attribute
  std::string owner;  // for messages: "layer 'dense_4'", "optimizer 'adam'"
  std::vector<WeightEntry> entries;
};

// One group per layer of model.layers(), in order. REQUIRES: model.built().
std::vector<WeightGroup> layer_groups(const Model& model);
// The optimizer's group. REQUIRES: the model is compiled and its optimizer built; throws
// ValueError when the optimizer was built for other variables than the model's trainable ones.
WeightGroup optimizer_group(const Model& model);

}  // namespace trainyard::keras::saving
