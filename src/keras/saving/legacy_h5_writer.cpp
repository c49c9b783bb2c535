// Writes legacy .h5 model files the way Keras 3's legacy_h5_format.save_model_to_hdf5 does
// (keras-semantics.md 7(c)); the layout was checked against a file Keras 3.15.1 wrote.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "keras/model.h"
#include "keras/saving/atomic_file.h"
#include "keras/saving/h5_file.h"
#include "keras/saving/keras_version.h"
#include "keras/saving/legacy_h5.h"
#include "keras/saving/model_file.h"
#include "keras/saving/weights_layout.h"

namespace trainyard::keras::saving {
namespace {

using Json = nlohmann::ordered_json;

// Keras splits a string-list attribute whose NumPy array (fixed-width bytes) would pass
// this many bytes into name0, name1, ...: HDF5's object header cannot hold more.
constexpr size_t kObjectHeaderLimit = 64512;

// trainyard's weights have TensorFlow's layouts (channels-last kernels); "backend" tells
// loaders which layouts to expect, and only a Theano file would need converting.
constexpr const char* kBackend = "tensorflow";

// The model's config and its compile_config, as serialize_model writes them.
struct LegacyConfigs {
  std::string model_config;                    // {"class_name": ..., "config": ...}
  std::optional<std::string> training_config;  // the compile arguments, when compiled
};

// Keras 3.15's legacy loader cannot compile from the short loss names that are aliases
// of metric functions ("mse" fails with "Could not deserialize 'keras.metrics.mse'", even
// in a file Keras wrote itself), so those are written by their full names, which every
// Keras and trainyard reads.
Json loadable_loss(const Json& loss) {
  static const std::map<std::string, std::string> kFullNames{
      {"mse", "mean_squared_error"},
      {"mae", "mean_absolute_error"},
      {"mape", "mean_absolute_percentage_error"},
      {"msle", "mean_squared_logarithmic_error"},
      {"kld", "kl_divergence"},
      {"bce", "binary_crossentropy"}};
  if (!loss.is_string()) return loss;
  auto full = kFullNames.find(loss.get<std::string>());
  return full == kFullNames.end() ? loss : Json(full->second);
}

LegacyConfigs legacy_configs(const Model& model, bool include_optimizer) {
  Json full = Json::parse(serialize_model(model));
  LegacyConfigs configs;
  configs.model_config =
      Json{{"class_name", full.at("class_name")}, {"config", full.at("config")}}.dump();
  if (!include_optimizer || !full.contains("compile_config")) return configs;
  const Json& compile = full["compile_config"];
  Json training = Json::object();
  for (const char* key : {"loss", "loss_weights", "metrics", "weighted_metrics"}) {
    training[key] = compile.contains(key) ? compile[key] : Json();
  }
  training["loss"] = loadable_loss(training["loss"]);
  training["run_eagerly"] = false;
  training["steps_per_execution"] = 1;
  training["jit_compile"] = false;
  if (compile.contains("optimizer") && compile["optimizer"].is_object()) {
    const Json& optimizer = compile["optimizer"];
    training["optimizer_config"] = {{"class_name", optimizer.at("class_name")},
                                    {"config", optimizer.at("config")}};
  }
  configs.training_config = training.dump();
  return configs;
}

// Writes `values` as Keras's save_attributes_to_hdf5_group does: whole, or split evenly
// (as numpy.array_split splits) into as few chunks as keep each under the header limit.
void write_string_list(H5File& file, const std::string& group, const std::string& name,
                       const std::vector<std::string>& values) {
  size_t width = 0;
  for (const std::string& value : values) width = std::max(width, value.size());
  for (const std::string& value : values) {
    if (value.size() > kObjectHeaderLimit) {
      throw ValueError("save: the name '" + value.substr(0, 64) + "...' in attribute '" + name +
                       "' is longer than " + std::to_string(kObjectHeaderLimit) +
                       " bytes; legacy .h5 files cannot hold it");
    }
  }
  size_t chunks = 1;
  auto largest_chunk = [&] { return (values.size() + chunks - 1) / chunks * width; };
  while (largest_chunk() > kObjectHeaderLimit) ++chunks;
  if (chunks == 1) {
    file.set_string_list_attribute(group, name, values);
    return;
  }
  size_t begin = 0;
  for (size_t chunk = 0; chunk < chunks; ++chunk) {
    size_t size = values.size() / chunks + (chunk < values.size() % chunks ? 1 : 0);
    std::vector<std::string> part(values.begin() + static_cast<std::ptrdiff_t>(begin),
                                  values.begin() + static_cast<std::ptrdiff_t>(begin + size));
    file.set_string_list_attribute(group, name + std::to_string(chunk), part);
    begin += size;
  }
}

// A group holding `names` as its weight_names and each value at the path its name gives.
void write_weights(H5File& file, const std::string& group, const std::vector<std::string>& names,
                   const std::vector<Tensor>& values) {
  file.create_group(group);
  write_string_list(file, group, "weight_names", names);
  for (size_t i = 0; i < names.size(); ++i) file.write_dataset(group + "/" + names[i], values[i]);
}

// model_weights: one group per layer, named by the layer, its weights at
// "<model>/<layer>/<weight>" as Keras 3 names a variable's path.
void write_model_weights(H5File& file, const Model& model) {
  file.create_group("model_weights");
  std::vector<std::string> layer_names;
  for (const nn::LayerPtr& layer : model.layers()) layer_names.push_back(layer->name());
  write_string_list(file, "model_weights", "layer_names", layer_names);
  file.set_string_attribute("model_weights", "backend", kBackend, H5StringEncoding::kAscii);
  file.set_string_attribute("model_weights", "keras_version", kKerasFormatVersion,
                            H5StringEncoding::kAscii);
  std::vector<const nn::Layer*> sorted;
  for (const nn::LayerPtr& layer : model.layers()) sorted.push_back(layer.get());
  std::sort(sorted.begin(), sorted.end(),
            [](const nn::Layer* a, const nn::Layer* b) { return a->name() < b->name(); });
  for (const nn::Layer* layer : sorted) {
    std::vector<std::string> names;
    std::vector<Tensor> values;
    for (const graph::VariablePtr& variable : layer->weights()) {
      names.push_back(model.name() + "/" + variable->path);
      values.push_back(variable->value);
    }
    write_weights(file, "model_weights/" + layer->name(), names, values);
  }
  // The model's own variables, outside any layer; trainyard models have none.
  write_weights(file, "model_weights/top_level_model_weights", {}, {});
}

// Keras's name for an optimizer variable: "adam/iteration", "adam/learning_rate",
// "adam/sequential_dense_kernel_momentum".
std::string optimizer_weight_name(const std::string& optimizer, const std::string& model,
                                  const std::string& variable) {
  if (variable == "iterations") return optimizer + "/iteration";
  size_t of = variable.find(" of ");
  if (of == std::string::npos) return optimizer + "/" + variable;
  std::string path = model + "/" + variable.substr(of + 4);
  std::replace(path.begin(), path.end(), '/', '_');
  return optimizer + "/" + path + "_" + variable.substr(0, of);
}

// optimizer_weights, in the order Keras's optimizer.set_weights expects them.
void write_optimizer_weights(H5File& file, const Model& model) {
  WeightGroup optimizer = optimizer_group(model);
  std::vector<std::string> names;
  std::vector<Tensor> values;
  for (const WeightEntry& entry : optimizer.entries) {
    names.push_back(optimizer_weight_name(optimizer.name, model.name(), entry.variable));
    values.push_back(entry.value);
  }
  write_weights(file, "optimizer_weights", names, values);
}

}  // namespace

void save_legacy_h5_model(const Model& model, const std::string& path, bool include_optimizer) {
  if (!model.built()) {
    throw ValueError("save: model '" + model.name() +
                     "' is not built yet; build it (build(), fit() or predict()) first");
  }
  LegacyConfigs configs = legacy_configs(model, include_optimizer);
  bool optimizer_state = include_optimizer && model.compiled() && model.optimizer().built();
  write_file_atomically(path, [&](const std::string& temporary) {
    H5File file = H5File::create(temporary);
    file.set_string_attribute(".", "keras_version", kKerasFormatVersion);
    file.set_string_attribute(".", "backend", kBackend);
    file.set_string_attribute(".", "model_config", configs.model_config, H5StringEncoding::kAscii);
    if (configs.training_config) {
      file.set_string_attribute(".", "training_config", *configs.training_config,
                                H5StringEncoding::kAscii);
    }
    write_model_weights(file, model);
    if (optimizer_state) write_optimizer_weights(file, model);
    file.close();
  });
}

}  // namespace trainyard::keras::saving
