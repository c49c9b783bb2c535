#include "keras/saving/weights_layout.h"

#include <algorithm>
#include <map>

#include "backend/backend.h"
#include "core/error.h"
#include "keras/model.h"
#include "nn/naming.h"
#include "nn/optimizers/optimizers.h"

namespace trainyard::keras::saving {
namespace {

// Keras's _get_unique_name: the first "dense", then "dense_1", "dense_2", ...
std::string unique_in_file(const std::string& base, std::map<std::string, int>& used) {
  auto [it, inserted] = used.try_emplace(base, 0);
  if (inserted) return base;
  return base + "_" + std::to_string(++it->second);
}

// Slot names grouped as Keras's build() creates them: each add_optimizer_variables call
// interleaves its names per variable, and calls follow one another. Slots trainyard keeps
// but Keras never creates (RMSprop's momentum when momentum is 0) are left out.
std::vector<std::vector<std::string>> keras_slot_order(const nn::Optimizer& optimizer) {
  if (const auto* adam = dynamic_cast<const nn::Adam*>(&optimizer)) {
    std::vector<std::vector<std::string>> order{{"momentum", "velocity"}};
    if (adam->options().amsgrad) order.push_back({"velocity_hat"});
    return order;
  }
  if (const auto* rmsprop = dynamic_cast<const nn::Rmsprop*>(&optimizer)) {
    std::vector<std::vector<std::string>> order{{"velocity"}};
    if (rmsprop->options().momentum > 0) order.push_back({"momentum"});
    if (rmsprop->options().centered) order.push_back({"average_gradient"});
    return order;
  }
  if (const auto* sgd = dynamic_cast<const nn::Sgd*>(&optimizer)) {
    if (sgd->options().momentum == 0) return {};
    return {{"momentum"}};
  }
  // Any other optimizer: one call creating all its slots.
  return {optimizer.slot_names()};
}

Tensor scalar_int64(int64_t value) {
  return Tensor::from_vector<int64_t>(Shape{}, {value});
}
Tensor scalar_float32(double value) {
  return Tensor::from_vector<float>(Shape{}, {static_cast<float>(value)});
}

}  // namespace

std::vector<WeightGroup> layer_groups(const Model& model) {
  std::vector<WeightGroup> groups;
  std::map<std::string, int> used;
  for (const nn::LayerPtr& layer : model.layers()) {
    WeightGroup group;
    group.path = "layers/" + unique_in_file(nn::to_snake_case(layer->class_name()), used);
    group.name = layer->name();
    group.owner = "layer '" + layer->name() + "'";
    for (const graph::VariablePtr& variable : layer->weights()) {
      group.entries.push_back(
          {variable->path, variable->value,
           [variable](const Tensor& loaded) { backend::copy_into(loaded, variable->value); },
           nullptr});
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

WeightGroup optimizer_group(const Model& model) {
  nn::Optimizer& optimizer = model.optimizer();
  TY_CHECK(optimizer.built(), "optimizer_group needs a built optimizer");
  std::vector<graph::VariablePtr> variables = model.trainable_weights();
  const std::vector<backend::BufferSegment>& segments = optimizer.segments();
  if (segments.size() != variables.size()) {
    throw ValueError("optimizer '" + optimizer.name() + "' was built for " +
                     std::to_string(segments.size()) + " variables, but model '" + model.name() +
                     "' has " + std::to_string(variables.size()) + " trainable ones");
  }
  WeightGroup group{"optimizer", optimizer.name(), "optimizer '" + optimizer.name() + "'", {}};
  group.entries.push_back(
      {"iterations", scalar_int64(optimizer.iterations()),
       [&optimizer](const Tensor& loaded) { optimizer.set_iterations(loaded.data<int64_t>()[0]); },
       [](const Tensor& loaded) {
         int64_t value = loaded.data<int64_t>()[0];
         return value < 0 ? "iterations is negative (" + std::to_string(value) + ")"
                          : std::string();
       }});
  // With a schedule the rate is a function of iterations, not a variable Keras saves.
  if (!optimizer.learning_rate_schedule()) {
    group.entries.push_back({"learning_rate", scalar_float32(optimizer.learning_rate()),
                             [&optimizer](const Tensor& loaded) {
                               optimizer.set_learning_rate(loaded.data<float>()[0]);
                             },
                             [](const Tensor& loaded) {
                               float value = loaded.data<float>()[0];
                               return value >= 0 ? std::string()
                                                 : "learning_rate is not a number >= 0 (" +
                                                       std::to_string(value) + ")";
                             }});
  }
  const std::vector<std::string>& names = optimizer.slot_names();
  for (const std::vector<std::string>& call : keras_slot_order(optimizer)) {
    for (size_t v = 0; v < variables.size(); ++v) {
      for (const std::string& slot_name : call) {
        auto found = std::find(names.begin(), names.end(), slot_name);
        TY_CHECK(found != names.end(), "optimizer '" + optimizer.name() + "' has no slot '" +
                                           slot_name + "' where Keras has one");
        const Tensor& slot = optimizer.slots()[static_cast<size_t>(found - names.begin())];
        const Tensor& value = variables[v]->value;
        size_t offset = static_cast<size_t>(segments[v].offset) * dtype_size(slot.dtype());
        Tensor view = slot.view(offset, value.shape(), slot.dtype());
        group.entries.push_back({slot_name + " of " + variables[v]->path, view,
                                 [view](const Tensor& loaded) { backend::copy_into(loaded, view); },
                                 nullptr});
      }
    }
  }
  return group;
}

}  // namespace trainyard::keras::saving
