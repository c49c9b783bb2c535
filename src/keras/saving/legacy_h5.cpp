#include "keras/saving/legacy_h5.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "keras/model.h"
#include "keras/model_config.h"
#include "keras/saving/h5_file.h"
#include "keras/saving/model_file.h"

namespace trainyard::keras::saving {
namespace {

using Json = nlohmann::ordered_json;

// A root attribute that h5py splits into `name`0, `name`1, ... past 64512 bytes.
std::optional<std::string> chunked_attribute(const H5File& file, const std::string& name) {
  if (std::optional<std::string> whole = file.string_attribute(".", name)) return whole;
  std::optional<std::string> text;
  for (int chunk = 0;; ++chunk) {
    std::optional<std::string> part = file.string_attribute(".", name + std::to_string(chunk));
    if (!part) return text;
    text = text.value_or("") + *part;
  }
}

// A string-list attribute that Keras splits into `name`0, `name`1, ... past 64512 bytes;
// an empty list when absent.
std::vector<std::string> chunked_list_attribute(const H5File& file, const std::string& object,
                                                const std::string& name) {
  if (std::optional<std::vector<std::string>> whole = file.string_list_attribute(object, name)) {
    return *whole;
  }
  std::vector<std::string> values;
  for (int chunk = 0;; ++chunk) {
    std::optional<std::vector<std::string>> part =
        file.string_list_attribute(object, name + std::to_string(chunk));
    if (!part) return values;
    values.insert(values.end(), part->begin(), part->end());
  }
}

// training_config as a model config's compile_config, so the config reader compiles it.
// tf.keras 2.11 registered its new optimizers as "Custom>Adam" and the like.
std::string compile_config_from_training_config(const std::string& training_config) {
  Json training = Json::parse(training_config, nullptr, /*allow_exceptions=*/false);
  if (!training.is_object()) throw ValueError("training_config is not a JSON object");
  Json compile = Json::object();
  for (const char* key : {"loss", "metrics", "loss_weights", "weighted_metrics"}) {
    if (training.contains(key)) compile[key] = training[key];
  }
  if (training.contains("optimizer_config")) {
    Json optimizer = training["optimizer_config"];
    if (optimizer.is_object() && optimizer.contains("class_name") &&
        optimizer["class_name"].is_string()) {
      std::string class_name = optimizer["class_name"];
      if (class_name.starts_with("Custom>")) optimizer["class_name"] = class_name.substr(7);
    }
    compile["optimizer"] = optimizer;
  }
  return Json{{"compile_config", compile}}.dump();
}

bool names_a_loss(const std::string& training_config) {
  Json training = Json::parse(training_config, nullptr, /*allow_exceptions=*/false);
  return training.is_object() && training.contains("loss") && !training["loss"].is_null();
}

// A weight of the model and the dataset that holds its value.
struct LegacyRead {
  std::string dataset;
  Tensor buffer;
};

// Reads the file's weights for `model` in get_weights() order, after checking every one.
std::vector<Tensor> read_weights(const H5File& file, const Model& model) {
  std::vector<std::string> names = chunked_list_attribute(file, "model_weights", "layer_names");
  std::vector<std::pair<std::string, std::vector<std::string>>> file_layers;
  for (const std::string& name : names) {
    std::string group = "model_weights/" + name;
    std::vector<std::string> weight_names =
        file.is_group(group) ? chunked_list_attribute(file, group, "weight_names")
                             : std::vector<std::string>{};
    if (!weight_names.empty()) file_layers.emplace_back(name, std::move(weight_names));
  }
  std::vector<const nn::Layer*> model_layers;
  for (const nn::LayerPtr& layer : model.layers()) {
    if (!layer->weights().empty()) model_layers.push_back(layer.get());
  }
  std::vector<std::string> problems;
  if (file_layers.size() != model_layers.size()) {
    problems.push_back("the file has " + std::to_string(file_layers.size()) +
                       " layers with weights, the model has " +
                       std::to_string(model_layers.size()));
  }
  std::vector<LegacyRead> reads;
  for (size_t i = 0; i < std::min(file_layers.size(), model_layers.size()); ++i) {
    const auto& [file_layer, weight_names] = file_layers[i];
    std::vector<graph::VariablePtr> variables = model_layers[i]->weights();
    std::string label = "layer '" + model_layers[i]->name() + "' (file layer '" + file_layer + "')";
    if (weight_names.size() != variables.size()) {
      problems.push_back(label + ": the model has " + std::to_string(variables.size()) +
                         " weights, the file has " + std::to_string(weight_names.size()));
      continue;
    }
    for (size_t w = 0; w < variables.size(); ++w) {
      std::string dataset = "model_weights/" + file_layer + "/" + weight_names[w];
      const Tensor& value = variables[w]->value;
      if (!file.is_dataset(dataset)) {
        problems.push_back(label + ": no dataset '" + dataset + "'");
        continue;
      }
      H5DatasetInfo info = file.inspect(dataset);
      if (info.dims != value.shape().dims() || info.dtype != value.dtype()) {
        problems.push_back(label + " weight '" + weight_names[w] + "': expected " +
                           std::string(dtype_name(value.dtype())) + " " +
                           value.shape().to_string() + ", the file has " + info.type_name + " " +
                           Shape(info.dims).to_string());
        continue;
      }
      reads.push_back({dataset, Tensor::zeros(value.shape(), value.dtype())});
    }
  }
  if (!problems.empty()) {
    std::string message = "'" + file.path() + "' does not fit model '" + model.name() + "':";
    for (const std::string& problem : problems) message += "\n  " + problem;
    throw ShapeError(message);
  }
  std::vector<Tensor> values;
  for (LegacyRead& read : reads) {
    file.read_dataset(read.dataset, read.buffer);
    values.push_back(read.buffer);
  }
  return values;
}

}  // namespace

std::unique_ptr<Model> load_legacy_h5_model(const std::string& path, bool compile) {
  H5File file = H5File::open_read_only(path);
  std::optional<std::string> config = chunked_attribute(file, "model_config");
  if (!config || !file.is_group("model_weights")) {
    throw DataError("'" + path +
                    "' is not a legacy Keras model file (no model_config attribute or no "
                    "model_weights group); a weights-only .h5 needs the model's config");
  }
  std::unique_ptr<Model> model;
  try {
    model = deserialize_model(*config, {.compile = false});
  } catch (const ValueError& error) {
    throw ValueError("'" + path + "' model_config: " + error.what());
  } catch (const ShapeError& error) {
    throw ShapeError("'" + path + "' model_config: " + error.what());
  }
  if (!model->built()) {
    throw ValueError("'" + path + "' model_config gives no input shape");
  }
  model->set_weights(read_weights(file, *model));

  std::optional<std::string> training = chunked_attribute(file, "training_config");
  if (compile && training && names_a_loss(*training)) {
    try {
      std::optional<CompileConfig> config =
          compile_config_from_json(compile_config_from_training_config(*training));
      CompileOptions options;
      if (config->optimizer) options.optimizer = config->optimizer;
      options.loss = config->loss;
      options.metrics = config->metrics;
      model->compile(options);
    } catch (const ValueError& error) {
      throw ValueError("'" + path + "' training_config: " + error.what());
    }
  }
  if (file.is_group("optimizer_weights")) {
    std::cerr << "load_model: '" << path
              << "': the optimizer state of legacy .h5 files is not restored; training "
                 "starts with a fresh optimizer\n";
  }
  return model;
}

}  // namespace trainyard::keras::saving
