#include "keras/model_config.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "keras/input_layer.h"
#include "nn/activations.h"
#include "nn/layers/activation.h"
#include "nn/layers/conv.h"
#include "nn/layers/dense.h"
#include "nn/layers/dropout.h"
#include "nn/layers/embedding.h"
#include "nn/layers/flatten.h"
#include "nn/layers/merge.h"
#include "nn/layers/normalization.h"
#include "nn/layers/pooling.h"
#include "nn/layers/regularizers.h"
#include "nn/layers/zero_padding.h"

namespace trainyard::keras {
namespace {

// Ordered, so configs are written in Keras's key order and errors list keys as given.
using Json = nlohmann::ordered_json;

constexpr const char* kSupportedLayers =
    "InputLayer, Dense, Conv1D, Conv2D, MaxPooling2D, AveragePooling2D, GlobalMaxPooling2D, "
    "GlobalAveragePooling2D, ZeroPadding2D, Flatten, Reshape, Dropout, Activation, ReLU, "
    "BatchNormalization, LayerNormalization, Embedding, Add, Concatenate";
// Deeper nesting than any Keras config needs; refused before parsing so hostile input
// cannot exhaust the stack.
constexpr int kMaxJsonDepth = 64;
// Sizes no real model reaches, refused before anything is allocated so that a typo such as
// `units: 10000000000` is an error rather than an out-of-memory kill or an overflow.
constexpr double kMaxSampleElements = double(int64_t{1} << 40);
constexpr double kMaxParameters = double(int64_t{1} << 31);

// ---------------------------------------------------------------------------------------
// What a config says that trainyard's layer objects do not keep: the InputLayer's name and
// fixed batch size (noted on the model's first layer) and a Dropout's seed (nn::Dropout
// keeps only the seed it drew). Keyed by layer identity; weak pointers make a note die with
// its layer, so a new layer at a recycled address never inherits one.

struct LayerNote {
  std::weak_ptr<const nn::Layer> layer;
  std::optional<std::string> input_layer_name;
  std::optional<int64_t> input_batch_size;
  std::optional<uint64_t> dropout_seed;
};

class LayerNotes {
 public:
  void remember_input(const nn::LayerPtr& layer, std::optional<std::string> name,
                      std::optional<int64_t> batch_size) {
    std::lock_guard lock(mutex_);
    LayerNote& note = entry(layer);
    note.input_layer_name = std::move(name);
    note.input_batch_size = batch_size;
  }

  void remember_seed(const nn::LayerPtr& layer, uint64_t seed) {
    std::lock_guard lock(mutex_);
    entry(layer).dropout_seed = seed;
  }

  std::optional<LayerNote> find(const nn::Layer* layer) const {
    std::lock_guard lock(mutex_);
    auto it = notes_.find(layer);
    if (it == notes_.end() || it->second.layer.lock().get() != layer) return std::nullopt;
    return it->second;
  }

 private:
  // REQUIRES: mutex_ held.
  LayerNote& entry(const nn::LayerPtr& layer) {
    std::erase_if(notes_, [](const auto& item) { return item.second.layer.expired(); });
    LayerNote& note = notes_[layer.get()];
    note.layer = layer;
    return note;
  }

  mutable std::mutex mutex_;
  std::map<const nn::Layer*, LayerNote> notes_;
};

LayerNotes& layer_notes() {
  static LayerNotes notes;
  return notes;
}

// ---------------------------------------------------------------------------------------
// JSON text.

std::string line_column(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(offset - line_start + 1);
}

void check_depth(std::string_view text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        throw ValueError("model config JSON is nested more than " + std::to_string(kMaxJsonDepth) +
                         " levels deep at " + line_column(text, i));
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

Json parse_json(std::string_view text) {
  check_depth(text);
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& error) {
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line 1, column 2:
    // syntax error while parsing value - ..."; keep the part after the position.
    std::string detail = error.what();
    size_t column = detail.find("column ");
    size_t colon = detail.find(": ", column == std::string::npos ? 0 : column);
    if (colon != std::string::npos) detail = detail.substr(colon + 2);
    size_t offset = error.byte > 0 ? error.byte - 1 : 0;
    throw ValueError("model config JSON is malformed at " + line_column(text, offset) + ": " +
                     detail);
  }
}

// json.dumps with its default separators (", " and ": ") and ensure_ascii, as Keras's
// to_json writes.
void dump_python(const Json& value, std::string& out) {
  if (value.is_object()) {
    out += '{';
    bool first = true;
    for (const auto& [key, item] : value.items()) {
      if (!first) out += ", ";
      first = false;
      out += Json(key).dump(-1, ' ', true);
      out += ": ";
      dump_python(item, out);
    }
    out += '}';
  } else if (value.is_array()) {
    out += '[';
    for (size_t i = 0; i < value.size(); ++i) {
      if (i > 0) out += ", ";
      dump_python(value[i], out);
    }
    out += ']';
  } else {
    out += value.dump(-1, ' ', true);
  }
}

std::string dump_python(const Json& value) {
  std::string out;
  dump_python(value, out);
  return out;
}

// A value as an error message quotes it: compact, cut short when long.
std::string brief(const Json& value) {
  std::string text = value.dump(-1, ' ', true);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

// ---------------------------------------------------------------------------------------
// Reading one JSON object of a config, key by key. Every key must be taken; finish() then
// accepts the rest only when null (Keras's "not set"), so no option is dropped silently.

class ConfigObject {
 public:
  ConfigObject(const Json& value, std::string context) : context_(std::move(context)) {
    if (!value.is_object()) {
      throw ValueError(context_ + ": expected a JSON object, got " + brief(value));
    }
    value_ = &value;
  }

  const std::string& context() const { return context_; }

  // The value of `key`, or null when absent; marks it as read.
  const Json* take(const std::string& key) {
    taken_.push_back(key);
    auto it = value_->find(key);
    if (it == value_->end() || it->is_null()) return nullptr;
    return &*it;
  }

  [[noreturn]] void fail(const std::string& key, const Json& value, const std::string& why) const {
    throw ValueError(context_ + ": option " + key + " = " + brief(value) + " " + why);
  }
  [[noreturn]] void unsupported(const std::string& key, const Json& value) const {
    fail(key, value, "is not supported by trainyard yet");
  }

  std::optional<std::string> string(const std::string& key) {
    const Json* value = take(key);
    if (!value) return std::nullopt;
    if (!value->is_string()) fail(key, *value, "must be a string");
    return value->get<std::string>();
  }
  std::optional<bool> boolean(const std::string& key) {
    const Json* value = take(key);
    if (!value) return std::nullopt;
    if (!value->is_boolean()) fail(key, *value, "must be true or false");
    return value->get<bool>();
  }
  std::optional<double> number(const std::string& key) {
    const Json* value = take(key);
    if (!value) return std::nullopt;
    if (!value->is_number()) fail(key, *value, "must be a number");
    return value->get<double>();
  }
  std::optional<int64_t> integer(const std::string& key) {
    const Json* value = take(key);
    if (!value) return std::nullopt;
    if (value->is_number_unsigned() && value->get<uint64_t>() > uint64_t(INT64_MAX)) {
      fail(key, *value, "is out of range");
    }
    if (!value->is_number_integer()) fail(key, *value, "must be an integer");
    return value->get<int64_t>();
  }
  std::optional<uint64_t> seed(const std::string& key) {
    const Json* value = take(key);
    if (!value) return std::nullopt;
    if (!value->is_number_unsigned()) {
      if (value->is_number_integer()) fail(key, *value, "must not be negative");
      unsupported(key, *value);  // a SeedGenerator object
    }
    return value->get<uint64_t>();
  }
  // Accepts `key` only absent, null or equal to `expected` (Keras's default).
  void require_default(const std::string& key, const Json& expected) {
    const Json* value = take(key);
    if (value && *value != expected) unsupported(key, *value);
  }
  // Accepts `key` at any value: it does not change what trainyard computes.
  void ignore(const std::string& key) { take(key); }

  // Throws for the first key not taken whose value is not null.
  void finish() const {
    for (const auto& [key, item] : value_->items()) {
      if (item.is_null()) continue;
      if (std::find(taken_.begin(), taken_.end(), key) == taken_.end()) unsupported(key, item);
    }
  }

 private:
  const Json* value_ = nullptr;
  std::string context_;
  std::vector<std::string> taken_;
};

// ---------------------------------------------------------------------------------------
// Values shared by layers.

// Which dtype spellings a config field may hold.
enum class DTypeField {
  kLayer,   // a layer's policy: float32 or mixed_bfloat16
  kInput,   // an InputLayer's dtype: float32
  kTensor,  // a Keras tensor's dtype: float32, or bfloat16 after a mixed_bfloat16 layer
};

// Keras's dtype: a name, null, or a policy object ({"class_name": "DTypePolicy", "config":
// {"name": "mixed_bfloat16"}}; tf.keras writes "Policy"). Returns the policy named, nullopt
// when absent (the global policy applies); anything `field` does not allow is refused.
std::optional<nn::DTypePolicy> read_dtype(ConfigObject& object,
                                          DTypeField field = DTypeField::kLayer) {
  const Json* value = object.take("dtype");
  if (!value || value->is_null()) return std::nullopt;
  std::string name;
  if (value->is_string()) {
    name = value->get<std::string>();
  } else if (value->is_object() && value->contains("config") && value->at("config").is_object() &&
             value->at("config").contains("name") && value->at("config").at("name").is_string()) {
    name = value->at("config").at("name").get<std::string>();
  }
  const bool allowed = name == "float32" ||
                       (field == DTypeField::kLayer && name == "mixed_bfloat16") ||
                       (field == DTypeField::kTensor && name == "bfloat16");
  if (!allowed) object.unsupported("dtype", *value);
  return nn::DTypePolicy::parse(name);
}

Json dtype_policy(const nn::DTypePolicy& policy) {
  return Json{{"module", "keras"},
              {"class_name", "DTypePolicy"},
              {"config", {{"name", policy.name()}}},
              {"registered_name", nullptr}};
}

// A shape list: null means an unknown dimension (-1).
std::vector<int64_t> read_shape(ConfigObject& object, const std::string& key, const Json& value) {
  if (!value.is_array()) object.fail(key, value, "must be a list of dimensions");
  std::vector<int64_t> dims;
  for (const Json& dim : value) {
    if (dim.is_null()) {
      dims.push_back(-1);
    } else if (dim.is_number_integer() && dim.get<int64_t>() > 0) {
      dims.push_back(dim.get<int64_t>());
    } else {
      object.fail(key, value, "must hold positive integers or null");
    }
  }
  double elements = 1;
  for (size_t i = 1; i < dims.size(); ++i) elements *= double(std::max<int64_t>(dims[i], 1));
  if (elements > kMaxSampleElements) object.fail(key, value, "is too large");
  return dims;
}

Json shape_json(const std::vector<int64_t>& dims) {
  Json list = Json::array();
  for (int64_t dim : dims) list.push_back(dim < 0 ? Json(nullptr) : Json(dim));
  return list;
}

// Keras's activation: a built-in's name. Custom or parameterized activations (objects) are
// not supported.
std::string read_activation(ConfigObject& object, const std::string& key, bool required) {
  const Json* value = object.take(key);
  if (!value) {
    if (required) throw ValueError(object.context() + ": option " + key + " is required");
    return "linear";
  }
  if (!value->is_string()) object.unsupported(key, *value);
  std::string name = value->get<std::string>();
  try {
    nn::parse_activation(name);
  } catch (const ValueError& error) {
    object.fail(key, *value, std::string("is not an activation trainyard knows: ") + error.what());
  }
  return name;
}

std::string activation_json(const std::string& name) {
  if (name.empty()) return "linear";
  if (name == "swish") return "silu";
  return name;
}

// ---------------------------------------------------------------------------------------
// Initializers: {"module": "keras.initializers", "class_name": "GlorotUniform", "config":
// {"seed": null, ...}} or an identifier string ("glorot_uniform").

struct InitializerClass {
  const char* class_name;
  const char* identifier;  // nn::Initializer::name
};

constexpr InitializerClass kInitializerClasses[] = {
    {"GlorotUniform", "glorot_uniform"},
    {"GlorotNormal", "glorot_normal"},
    {"HeUniform", "he_uniform"},
    {"HeNormal", "he_normal"},
    {"LecunUniform", "lecun_uniform"},
    {"LecunNormal", "lecun_normal"},
    {"Zeros", "zeros"},
    {"Ones", "ones"},
    {"Constant", "constant"},
    {"RandomNormal", "random_normal"},
    {"RandomUniform", "random_uniform"},
    {"TruncatedNormal", "truncated_normal"},
    {"VarianceScaling", "variance_scaling"},
};

bool is_fixed_variance_scaling(const std::string& identifier) {
  return identifier == "glorot_uniform" || identifier == "glorot_normal" ||
         identifier == "he_uniform" || identifier == "he_normal" || identifier == "lecun_uniform" ||
         identifier == "lecun_normal";
}

nn::Initializer read_initializer(ConfigObject& layer, const std::string& key,
                                 const std::string& fallback) {
  const Json* value = layer.take(key);
  if (!value) return nn::Initializer(fallback);
  if (value->is_string()) {
    std::string identifier = value->get<std::string>();
    if (identifier == "uniform") identifier = "random_uniform";
    if (identifier == "normal") identifier = "random_normal";
    for (const auto& known : kInitializerClasses) {
      if (identifier == known.identifier || identifier == known.class_name) {
        return nn::Initializer(std::string(known.identifier));
      }
    }
    layer.unsupported(key, *value);
  }
  if (!value->is_object()) layer.unsupported(key, *value);
  ConfigObject object(*value, layer.context() + ": " + key);
  std::optional<std::string> class_name = object.string("class_name");
  const char* identifier = nullptr;
  for (const auto& known : kInitializerClasses) {
    if (class_name == known.class_name) identifier = known.identifier;
  }
  if (!identifier) layer.unsupported(key, *value);
  object.ignore("module");
  object.ignore("registered_name");

  nn::Initializer initializer{std::string(identifier)};
  const Json empty = Json::object();
  const Json* config_value = object.take("config");
  ConfigObject config(config_value ? *config_value : empty, layer.context() + ": " + key);
  std::string name = identifier;
  if (name != "zeros" && name != "ones" && name != "constant") {
    initializer.seed = config.seed("seed");
  }
  if (name == "constant") initializer.value = config.number("value").value_or(0.0);
  if (name == "random_normal" || name == "truncated_normal") {
    initializer.mean = config.number("mean").value_or(0.0);
    initializer.stddev = config.number("stddev").value_or(0.05);
  }
  if (name == "random_uniform") {
    initializer.minval = config.number("minval").value_or(-0.05);
    initializer.maxval = config.number("maxval").value_or(0.05);
  }
  if (name == "variance_scaling") {
    initializer.scale = config.number("scale").value_or(1.0);
    initializer.mode = config.string("mode").value_or("fan_in");
    initializer.distribution = config.string("distribution").value_or("truncated_normal");
    if (initializer.distribution == "normal") initializer.distribution = "truncated_normal";
    if (!(initializer.scale > 0)) config.fail("scale", initializer.scale, "must be positive");
    if (initializer.mode != "fan_in" && initializer.mode != "fan_out" &&
        initializer.mode != "fan_avg") {
      config.fail("mode", initializer.mode, "must be fan_in, fan_out or fan_avg");
    }
    if (initializer.distribution != "truncated_normal" &&
        initializer.distribution != "untruncated_normal" && initializer.distribution != "uniform") {
      config.fail("distribution", initializer.distribution,
                  "must be truncated_normal, untruncated_normal or uniform");
    }
  }
  // tf.keras 2 wrote "dtype" into initializer configs.
  if (const Json* dtype = config.take("dtype")) {
    if (*dtype != "float32") config.unsupported("dtype", *dtype);
  }
  // input_axes / output_axes: only null (the default) passes finish().
  config.finish();
  object.finish();
  return initializer;
}

Json initializer_json(const nn::Initializer& initializer) {
  std::string identifier = initializer.name;
  if (identifier == "uniform") identifier = "random_uniform";
  const char* class_name = nullptr;
  for (const auto& known : kInitializerClasses) {
    if (identifier == known.identifier) class_name = known.class_name;
  }
  if (!class_name) {
    throw ValueError("to_json: initializer '" + initializer.name + "' has no Keras class");
  }
  Json seed = initializer.seed ? Json(*initializer.seed) : Json(nullptr);
  Json config = Json::object();
  if (is_fixed_variance_scaling(identifier)) {
    config = {{"seed", seed}, {"input_axes", nullptr}, {"output_axes", nullptr}};
  } else if (identifier == "constant") {
    config = {{"value", initializer.value}};
  } else if (identifier == "random_normal" || identifier == "truncated_normal") {
    config = {{"seed", seed}, {"mean", initializer.mean}, {"stddev", initializer.stddev}};
  } else if (identifier == "random_uniform") {
    config = {{"seed", seed}, {"minval", initializer.minval}, {"maxval", initializer.maxval}};
  } else if (identifier == "variance_scaling") {
    config = {{"seed", seed},
              {"scale", initializer.scale},
              {"mode", initializer.mode},
              {"distribution", initializer.distribution},
              {"input_axes", nullptr},
              {"output_axes", nullptr}};
  }
  return Json{{"module", "keras.initializers"},
              {"class_name", class_name},
              {"config", config},
              {"registered_name", nullptr}};
}

// ---------------------------------------------------------------------------------------
// Regularizers: {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.01},
// "registered_name": null}, an identifier string ("l2"), or null for none.

std::optional<nn::Regularizer> read_regularizer(ConfigObject& layer, const std::string& key) {
  const Json* value = layer.take(key);
  if (!value) return std::nullopt;
  try {
    if (value->is_string()) return nn::Regularizer(value->get<std::string>());
  } catch (const ValueError& error) {
    layer.fail(key, *value, std::string("is not a regularizer trainyard knows: ") + error.what());
  }
  if (!value->is_object()) layer.unsupported(key, *value);
  ConfigObject object(*value, layer.context() + ": " + key);
  std::string class_name = object.string("class_name").value_or("");
  object.ignore("module");
  object.ignore("registered_name");
  const Json empty = Json::object();
  const Json* config_value = object.take("config");
  ConfigObject config(config_value ? *config_value : empty, layer.context() + ": " + key);
  if (class_name != "L1" && class_name != "L2" && class_name != "L1L2") {
    layer.unsupported(key, *value);  // OrthogonalRegularizer or a user's class
  }
  std::optional<nn::Regularizer> regularizer;
  try {
    if (class_name == "L1") {
      regularizer = nn::regularizers::L1(config.number("l1").value_or(0.01));
    } else if (class_name == "L2") {
      regularizer = nn::regularizers::L2(config.number("l2").value_or(0.01));
    } else {
      double l1 = config.number("l1").value_or(0.0);
      regularizer = nn::regularizers::L1L2(l1, config.number("l2").value_or(0.0));
    }
  } catch (const ValueError& error) {
    layer.fail(key, *value, std::string("is invalid: ") + error.what());
  }
  config.finish();
  object.finish();
  return regularizer;
}

Json regularizer_json(const std::optional<nn::Regularizer>& regularizer) {
  if (!regularizer) return nullptr;
  Json config = Json::object();
  if (regularizer->class_name == "L1") {
    config = {{"l1", regularizer->l1}};
  } else if (regularizer->class_name == "L2") {
    config = {{"l2", regularizer->l2}};
  } else {
    config = {{"l1", regularizer->l1}, {"l2", regularizer->l2}};
  }
  return Json{{"module", "keras.regularizers"},
              {"class_name", regularizer->class_name},
              {"config", config},
              {"registered_name", nullptr}};
}

// ---------------------------------------------------------------------------------------
// Layers.

struct ModelInput {
  std::vector<int64_t> batch_shape;  // batch first; -1 unknown
  std::string layer_name;            // the InputLayer's, when the config has one
};

std::string layer_context(const Json& entry, size_t index) {
  std::string name = "layers[" + std::to_string(index) + "]";
  std::string class_name = "?";
  if (entry.is_object()) {
    auto config = entry.find("config");
    if (config != entry.end() && config->is_object()) {
      auto found = config->find("name");
      if (found != config->end() && found->is_string()) name = found->get<std::string>();
    }
    auto found = entry.find("class_name");
    if (found != entry.end() && found->is_string()) class_name = found->get<std::string>();
  }
  return "layer '" + name + "' (" + class_name + ")";
}

ModelInput read_input_layer(ConfigObject& config) {
  ModelInput input;
  input.layer_name = config.string("name").value_or("input_layer");
  const Json* batch_shape = config.take("batch_shape");
  const char* key = "batch_shape";
  if (!batch_shape) {
    batch_shape = config.take("batch_input_shape");
    key = "batch_input_shape";
  }
  if (batch_shape) {
    input.batch_shape = read_shape(config, key, *batch_shape);
  } else if (const Json* shape = config.take("shape")) {
    input.batch_shape = read_shape(config, "shape", *shape);
    input.batch_shape.insert(input.batch_shape.begin(), config.integer("batch_size").value_or(-1));
  } else {
    throw ValueError(config.context() + ": option batch_shape is required");
  }
  if (input.batch_shape.empty()) {
    throw ValueError(config.context() + ": batch_shape needs at least the batch dimension");
  }
  read_dtype(config, DTypeField::kInput);
  config.require_default("sparse", false);
  config.require_default("ragged", false);
  config.require_default("optional", false);
  config.finish();
  return input;
}

// The kernel-and-bias options Dense, Conv1D and Conv2D share; `Options` is nn::DenseOptions
// or nn::ConvOptions, which name them alike.
template <typename Options>
void read_kernel_options(ConfigObject& config, Options& options) {
  options.activation = read_activation(config, "activation", false);
  options.use_bias = config.boolean("use_bias").value_or(true);
  options.kernel_initializer = read_initializer(config, "kernel_initializer", "glorot_uniform");
  options.bias_initializer = read_initializer(config, "bias_initializer", "zeros");
  options.kernel_regularizer = read_regularizer(config, "kernel_regularizer");
  options.bias_regularizer = read_regularizer(config, "bias_regularizer");
}

nn::LayerPtr read_dense(ConfigObject& config, const std::string& name) {
  std::optional<int64_t> units = config.integer("units");
  if (!units) throw ValueError(config.context() + ": option units is required");
  if (*units <= 0) config.fail("units", *units, "must be a positive integer");
  if (double(*units) > kMaxParameters) config.fail("units", *units, "is too large");
  nn::DenseOptions options;
  options.name = name;
  read_kernel_options(config, options);
  // activity_regularizer, constraints, quantization_config, lora_rank: only null.
  config.finish();
  return std::make_shared<nn::Dense>(*units, std::move(options));
}

// A window size as Keras writes it: [height, width] (or one integer for both).
std::optional<nn::Size2> read_size2(ConfigObject& config, const std::string& key) {
  const Json* value = config.take(key);
  if (!value) return std::nullopt;
  auto positive = [&](const Json& item) {
    if (!item.is_number_integer() || item.get<int64_t>() <= 0 || item.get<int64_t>() > 65536) {
      config.fail(key, *value, "must hold positive integers up to 65536");
    }
    return item.get<int64_t>();
  };
  if (value->is_number()) return nn::Size2(positive(*value));
  if (!value->is_array() || value->size() != 2) {
    config.fail(key, *value, "must be a list of two integers");
  }
  return nn::Size2(positive((*value)[0]), positive((*value)[1]));
}

std::string read_padding(ConfigObject& config) {
  std::string padding = config.string("padding").value_or("valid");
  if (padding != "valid" && padding != "same") {
    config.fail("padding", padding, "must be \"valid\" or \"same\"");
  }
  return padding;
}

// The options Conv1D and Conv2D share, after the window (strides, padding and dilation).
void read_conv_options(ConfigObject& config, nn::ConvOptions& options) {
  config.require_default("groups", 1);
  read_kernel_options(config, options);
  // activity_regularizer, constraints, lora_rank: only null.
  config.finish();
}

nn::LayerPtr read_conv2d(ConfigObject& config, const std::string& name) {
  std::optional<int64_t> filters = config.integer("filters");
  if (!filters) throw ValueError(config.context() + ": option filters is required");
  if (*filters <= 0) config.fail("filters", *filters, "must be a positive integer");
  std::optional<nn::Size2> kernel_size = read_size2(config, "kernel_size");
  if (!kernel_size) throw ValueError(config.context() + ": option kernel_size is required");
  if (double(kernel_size->height) * double(kernel_size->width) * double(*filters) >
      kMaxParameters) {
    config.fail("filters", *filters, "is too large for its kernel size");
  }
  nn::ConvOptions options;
  options.name = name;
  options.strides = read_size2(config, "strides").value_or(1);
  options.padding = read_padding(config);
  config.require_default("data_format", "channels_last");
  options.dilation_rate = read_size2(config, "dilation_rate").value_or(1);
  read_conv_options(config, options);
  return std::make_shared<nn::Conv2D>(*filters, *kernel_size, std::move(options));
}

// A 1-D window size as Keras writes it: [3] (a tuple of one), or 3.
std::optional<int64_t> read_size1(ConfigObject& config, const std::string& key) {
  const Json* value = config.take(key);
  if (!value) return std::nullopt;
  const Json* item = value;
  if (value->is_array()) {
    if (value->size() != 1) config.fail(key, *value, "must be one integer or a list of one");
    item = &(*value)[0];
  }
  if (!item->is_number_integer() || item->get<int64_t>() <= 0 || item->get<int64_t>() > 65536) {
    config.fail(key, *value, "must be a positive integer up to 65536");
  }
  return item->get<int64_t>();
}

nn::LayerPtr read_conv1d(ConfigObject& config, const std::string& name) {
  std::optional<int64_t> filters = config.integer("filters");
  if (!filters) throw ValueError(config.context() + ": option filters is required");
  if (*filters <= 0) config.fail("filters", *filters, "must be a positive integer");
  std::optional<int64_t> kernel_size = read_size1(config, "kernel_size");
  if (!kernel_size) throw ValueError(config.context() + ": option kernel_size is required");
  if (double(*kernel_size) * double(*filters) > kMaxParameters) {
    config.fail("filters", *filters, "is too large for its kernel size");
  }
  nn::ConvOptions options;
  options.name = name;
  options.strides = nn::Size2(1, read_size1(config, "strides").value_or(1));
  options.padding = config.string("padding").value_or("valid");
  if (options.padding != "valid" && options.padding != "same" && options.padding != "causal") {
    config.fail("padding", options.padding, "must be \"valid\", \"same\" or \"causal\"");
  }
  config.require_default("data_format", "channels_last");
  options.dilation_rate = nn::Size2(1, read_size1(config, "dilation_rate").value_or(1));
  read_conv_options(config, options);
  return std::make_shared<nn::Conv1D>(*filters, *kernel_size, std::move(options));
}

nn::LayerPtr read_pooling2d(ConfigObject& config, const std::string& name, backend::PoolKind kind) {
  // Keras's MaxPooling2D defaults to 2x2; AveragePooling2D requires a size.
  std::optional<nn::Size2> pool_size = read_size2(config, "pool_size");
  if (!pool_size && kind == backend::PoolKind::kAverage) {
    throw ValueError(config.context() + ": option pool_size is required");
  }
  nn::PoolingOptions options;
  options.name = name;
  options.strides = read_size2(config, "strides");
  options.padding = read_padding(config);
  config.require_default("data_format", "channels_last");
  config.finish();
  return std::make_shared<nn::Pooling2D>(kind, pool_size.value_or(2), std::move(options));
}

nn::LayerPtr read_global_pooling2d(ConfigObject& config, const std::string& name,
                                   backend::PoolKind kind) {
  config.require_default("data_format", "channels_last");
  config.require_default("keepdims", false);
  config.finish();
  return std::make_shared<nn::GlobalPooling2D>(kind, name);
}

nn::LayerPtr read_dropout(ConfigObject& config, const std::string& name,
                          std::optional<uint64_t>& seed) {
  std::optional<double> rate = config.number("rate");
  if (!rate) throw ValueError(config.context() + ": option rate is required");
  if (!(*rate >= 0.0 && *rate <= 1.0)) config.fail("rate", *rate, "must be in [0, 1]");
  seed = config.seed("seed");
  // noise_shape: only null.
  config.finish();
  return std::make_shared<nn::Dropout>(*rate, nn::DropoutOptions{.seed = seed, .name = name});
}

nn::LayerPtr read_flatten(ConfigObject& config, const std::string& name) {
  // channels_first transposes to channels-last before flattening, which trainyard's Flatten
  // does not do.
  config.require_default("data_format", "channels_last");
  config.finish();
  return std::make_shared<nn::Flatten>(name);
}

nn::LayerPtr read_reshape(ConfigObject& config, const std::string& name) {
  const Json* value = config.take("target_shape");
  if (!value) throw ValueError(config.context() + ": option target_shape is required");
  if (!value->is_array()) config.fail("target_shape", *value, "must be a list of integers");
  std::vector<int64_t> target;
  double elements = 1;
  for (const Json& dim : *value) {
    if (!dim.is_number_integer()) config.fail("target_shape", *value, "must hold integers");
    target.push_back(dim.get<int64_t>());
    elements *= std::abs(double(target.back()));
  }
  if (elements > kMaxSampleElements) config.fail("target_shape", *value, "is too large");
  config.finish();
  try {
    return std::make_shared<nn::Reshape>(std::move(target), name);
  } catch (const ValueError& error) {
    config.fail("target_shape", *value, std::string("is invalid: ") + error.what());
  }
}

nn::LayerPtr read_activation_layer(ConfigObject& config, const std::string& name) {
  std::string activation = read_activation(config, "activation", true);
  config.finish();
  return std::make_shared<nn::ActivationLayer>(activation, name);
}

// Keras's ReLU layer at its defaults is the relu activation; trainyard has no ReLU class, so it
// becomes an Activation layer computing the same thing (and is written back as one).
nn::LayerPtr read_relu_layer(ConfigObject& config, const std::string& name) {
  config.require_default("max_value", nullptr);
  config.require_default("negative_slope", 0.0);
  config.require_default("threshold", 0.0);
  config.finish();
  return std::make_shared<nn::ActivationLayer>("relu", name);
}

nn::LayerPtr read_concatenate(ConfigObject& config, const std::string& name) {
  int64_t axis = config.integer("axis").value_or(-1);
  config.finish();
  return std::make_shared<nn::Concatenate>(axis, name);
}

// A normalization axis: an integer, or a list of one (tf.keras 2 writes BatchNormalization's
// as [3]). Several axes are refused; whether the one given is the last is checked when the
// layer is built, where its input's rank is known.
int64_t read_axis(ConfigObject& config) {
  const Json* value = config.take("axis");
  if (!value) return -1;
  const Json* item = value;
  if (value->is_array() && value->size() == 1) item = &(*value)[0];
  if (!item->is_number_integer()) {
    config.fail("axis", *value,
                "is not supported by trainyard yet (only the last axis, one integer)");
  }
  int64_t axis = item->get<int64_t>();
  if (axis == 0) config.fail("axis", *value, "is the batch axis; trainyard normalizes the last");
  return axis;
}

std::optional<double> read_positive(ConfigObject& config, const std::string& key) {
  const Json* value = config.take(key);
  if (!value) return std::nullopt;
  if (!value->is_number() || !(value->get<double>() > 0)) {
    config.fail(key, *value, "must be a positive number");
  }
  return value->get<double>();
}

nn::LayerPtr read_batch_normalization(ConfigObject& config, const std::string& name) {
  nn::BatchNormalizationOptions options;
  options.name = name;
  options.axis = read_axis(config);
  options.momentum = config.number("momentum").value_or(0.99);
  if (!(options.momentum >= 0 && options.momentum <= 1)) {
    config.fail("momentum", options.momentum, "must be in [0, 1]");
  }
  options.epsilon = read_positive(config, "epsilon").value_or(1e-3);
  options.center = config.boolean("center").value_or(true);
  options.scale = config.boolean("scale").value_or(true);
  options.beta_initializer = read_initializer(config, "beta_initializer", "zeros");
  options.gamma_initializer = read_initializer(config, "gamma_initializer", "ones");
  options.moving_mean_initializer = read_initializer(config, "moving_mean_initializer", "zeros");
  options.moving_variance_initializer =
      read_initializer(config, "moving_variance_initializer", "ones");
  options.synchronized = config.boolean("synchronized").value_or(false);
  config.require_default("renorm", false);
  config.ignore("renorm_momentum");  // used only with renorm
  config.ignore("fused");            // tf.keras 2: which kernel computes it, not what
  // beta/gamma regularizers and constraints, renorm_clipping, virtual_batch_size: only null.
  config.finish();
  return std::make_shared<nn::BatchNormalization>(std::move(options));
}

nn::LayerPtr read_layer_normalization(ConfigObject& config, const std::string& name) {
  nn::LayerNormalizationOptions options;
  options.name = name;
  options.axis = read_axis(config);
  options.epsilon = read_positive(config, "epsilon").value_or(1e-3);
  options.center = config.boolean("center").value_or(true);
  options.scale = config.boolean("scale").value_or(true);
  config.require_default("rms_scaling", false);
  options.beta_initializer = read_initializer(config, "beta_initializer", "zeros");
  options.gamma_initializer = read_initializer(config, "gamma_initializer", "ones");
  // beta/gamma regularizers and constraints: only null.
  config.finish();
  return std::make_shared<nn::LayerNormalization>(std::move(options));
}

nn::LayerPtr read_embedding(ConfigObject& config, const std::string& name) {
  std::optional<int64_t> input_dim = config.integer("input_dim");
  std::optional<int64_t> output_dim = config.integer("output_dim");
  if (!input_dim || !output_dim) {
    throw ValueError(config.context() + ": options input_dim and output_dim are required");
  }
  if (*input_dim <= 0) config.fail("input_dim", *input_dim, "must be a positive integer");
  if (*output_dim <= 0) config.fail("output_dim", *output_dim, "must be a positive integer");
  if (double(*input_dim) * double(*output_dim) > kMaxParameters) {
    config.fail("input_dim", *input_dim, "is too large for its output_dim");
  }
  nn::EmbeddingOptions options;
  options.name = name;
  options.embeddings_initializer = read_initializer(config, "embeddings_initializer", "uniform");
  config.require_default("mask_zero", false);
  config.ignore("input_length");  // tf.keras 2; Keras 3 ignores it too
  // embeddings regularizer and constraint, activity_regularizer, quantization_config,
  // lora_rank: only null.
  config.finish();
  return std::make_shared<nn::Embedding>(*input_dim, *output_dim, std::move(options));
}

// ZeroPadding2D's padding: n, [height, width] or [[top, bottom], [left, right]].
nn::LayerPtr read_zero_padding2d(ConfigObject& config, const std::string& name) {
  const Json* value = config.take("padding");
  auto amount = [&](const Json& item) {
    if (!item.is_number_integer() || item.get<int64_t>() < 0 || item.get<int64_t>() > 65536) {
      config.fail("padding", *value, "must hold integers from 0 to 65536");
    }
    return item.get<int64_t>();
  };
  auto pair = [&](const Json& item) -> std::pair<int64_t, int64_t> {
    if (item.is_array() && item.size() == 2) return {amount(item[0]), amount(item[1])};
    int64_t both = amount(item);
    return {both, both};
  };
  std::optional<nn::Padding2> padding;
  if (!value) {
    padding = nn::Padding2(1);
  } else if (value->is_array() && value->size() == 2) {
    padding = nn::Padding2(pair((*value)[0]), pair((*value)[1]));
  } else if (value->is_number()) {
    padding = nn::Padding2(amount(*value));
  } else {
    config.fail("padding", *value, "must be an integer, [height, width] or two pairs");
  }
  config.require_default("data_format", "channels_last");
  config.finish();
  return std::make_shared<nn::ZeroPadding2D>(*padding, name);
}

// One entry of a config's "layers", read: the layer it makes, or an InputLayer's shape.
struct LayerEntry {
  std::string context;                                    // "layer 'dense' (Dense)"
  nn::LayerPtr layer;                                     // null for an InputLayer
  std::optional<ModelInput> input;                        // InputLayer only
  std::optional<std::vector<int64_t>> batch_input_shape;  // tf.keras 2 puts one on layer 0
  std::optional<uint64_t> dropout_seed;
  const Json* inbound_nodes = nullptr;  // Functional configs: the layer's calls
};

// `functional` also takes the "name" and "inbound_nodes" Functional configs put beside the
// layer's "config".
LayerEntry read_layer_entry(const Json& entry, size_t index, bool functional) {
  ConfigObject outer(entry, layer_context(entry, index));
  LayerEntry result;
  result.context = outer.context();
  std::optional<std::string> class_name = outer.string("class_name");
  if (!class_name) throw ValueError(outer.context() + ": class_name is required");
  outer.ignore("module");
  outer.ignore("registered_name");
  outer.ignore("build_config");  // derived again from the model's input shape
  std::optional<std::string> outer_name;
  if (functional) {
    outer_name = outer.string("name");
    result.inbound_nodes = outer.take("inbound_nodes");
  }
  const Json empty = Json::object();
  const Json* config_value = outer.take("config");
  ConfigObject config(config_value ? *config_value : empty, outer.context());
  outer.finish();

  if (*class_name == "InputLayer") {
    result.input = read_input_layer(config);
    if (outer_name && *outer_name != result.input->layer_name) {
      throw ValueError(outer.context() + ": name '" + *outer_name +
                       "' differs from the config's name '" + result.input->layer_name + "'");
    }
    return result;
  }
  std::string name = config.string("name").value_or("");
  if (outer_name && *outer_name != name) {
    throw ValueError(outer.context() + ": name '" + *outer_name +
                     "' differs from the config's name '" + name + "'");
  }
  bool trainable = config.boolean("trainable").value_or(true);
  std::optional<nn::DTypePolicy> policy = read_dtype(config);
  if (const Json* shape = config.take("batch_input_shape")) {
    result.batch_input_shape = read_shape(config, "batch_input_shape", *shape);
  }
  if (*class_name == "Dense") {
    result.layer = read_dense(config, name);
  } else if (*class_name == "Conv2D") {
    result.layer = read_conv2d(config, name);
  } else if (*class_name == "Conv1D") {
    result.layer = read_conv1d(config, name);
  } else if (*class_name == "BatchNormalization") {
    result.layer = read_batch_normalization(config, name);
  } else if (*class_name == "LayerNormalization") {
    result.layer = read_layer_normalization(config, name);
  } else if (*class_name == "Embedding") {
    result.layer = read_embedding(config, name);
  } else if (*class_name == "ZeroPadding2D") {
    result.layer = read_zero_padding2d(config, name);
  } else if (*class_name == "MaxPooling2D" || *class_name == "AveragePooling2D") {
    result.layer = read_pooling2d(
        config, name,
        *class_name == "MaxPooling2D" ? backend::PoolKind::kMax : backend::PoolKind::kAverage);
  } else if (*class_name == "GlobalMaxPooling2D" || *class_name == "GlobalAveragePooling2D") {
    result.layer =
        read_global_pooling2d(config, name,
                              *class_name == "GlobalMaxPooling2D" ? backend::PoolKind::kMax
                                                                  : backend::PoolKind::kAverage);
  } else if (*class_name == "Dropout") {
    result.layer = read_dropout(config, name, result.dropout_seed);
  } else if (*class_name == "Flatten") {
    result.layer = read_flatten(config, name);
  } else if (*class_name == "Reshape") {
    result.layer = read_reshape(config, name);
  } else if (*class_name == "Activation") {
    result.layer = read_activation_layer(config, name);
  } else if (*class_name == "ReLU") {
    result.layer = read_relu_layer(config, name);
  } else if (*class_name == "Add") {
    config.finish();
    result.layer = std::make_shared<nn::Add>(name);
  } else if (*class_name == "Concatenate") {
    result.layer = read_concatenate(config, name);
  } else {
    throw ValueError(config.context() + ": layer class " + *class_name +
                     " is not supported by trainyard yet (supported: " + kSupportedLayers + ")");
  }
  if (!trainable) result.layer->set_trainable(false);
  if (policy) result.layer->set_dtype_policy(*policy);
  return result;
}

// Builds every layer of `layers`; fills `input` from an InputLayer or a tf.keras
// `batch_input_shape` on the first layer.
std::vector<nn::LayerPtr> read_layers(const Json& layers, std::optional<ModelInput>& input,
                                      std::vector<std::pair<nn::LayerPtr, uint64_t>>& seeds) {
  if (!layers.is_array()) {
    throw ValueError("model config (Sequential): layers must be a list, got " + brief(layers));
  }
  std::vector<nn::LayerPtr> result;
  for (size_t i = 0; i < layers.size(); ++i) {
    LayerEntry entry = read_layer_entry(layers[i], i, false);
    if (entry.input) {
      if (i != 0 || input) throw ValueError(entry.context + ": an InputLayer may only come first");
      input = entry.input;
      continue;
    }
    if (dynamic_cast<const nn::Add*>(entry.layer.get()) ||
        dynamic_cast<const nn::Concatenate*>(entry.layer.get())) {
      throw ValueError(entry.context +
                       ": a merge layer takes several inputs, so it needs a "
                       "Functional model, not a Sequential one");
    }
    if (entry.batch_input_shape && result.empty() && !input) {
      if (entry.batch_input_shape->empty()) {
        throw ValueError(entry.context + ": option batch_input_shape = [] needs a batch dimension");
      }
      input = ModelInput{*entry.batch_input_shape, "input_layer"};
    }
    if (entry.dropout_seed) seeds.emplace_back(entry.layer, *entry.dropout_seed);
    result.push_back(std::move(entry.layer));
  }
  return result;
}

Json size2_json(const nn::Size2& size) {
  return Json::array({size.height, size.width});
}

// Conv1D's and Conv2D's keys after dilation_rate, in Keras's order.
void write_conv_options(const nn::ConvOptions& options, Json& config) {
  config["groups"] = 1;
  config["activation"] = activation_json(options.activation);
  config["use_bias"] = options.use_bias;
  config["kernel_initializer"] = initializer_json(options.kernel_initializer);
  config["bias_initializer"] = initializer_json(options.bias_initializer);
  config["kernel_regularizer"] = regularizer_json(options.kernel_regularizer);
  config["bias_regularizer"] = regularizer_json(options.bias_regularizer);
  for (const char* key : {"activity_regularizer", "kernel_constraint", "bias_constraint"}) {
    config[key] = nullptr;
  }
}

void write_batch_normalization(const nn::BatchNormalizationOptions& options, Json& config) {
  config["axis"] = options.axis;
  config["momentum"] = options.momentum;
  config["epsilon"] = options.epsilon;
  config["center"] = options.center;
  config["scale"] = options.scale;
  config["beta_initializer"] = initializer_json(options.beta_initializer);
  config["gamma_initializer"] = initializer_json(options.gamma_initializer);
  config["moving_mean_initializer"] = initializer_json(options.moving_mean_initializer);
  config["moving_variance_initializer"] = initializer_json(options.moving_variance_initializer);
  for (const char* key :
       {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"}) {
    config[key] = nullptr;
  }
  config["synchronized"] = options.synchronized;
  config["renorm"] = false;
  config["renorm_clipping"] = nullptr;
  config["renorm_momentum"] = 0.99;
}

// Keras's LayerNormalization turns an integer axis into a list of one when it is built.
void write_layer_normalization(const nn::LayerNormalizationOptions& options, bool built,
                               Json& config) {
  config["axis"] = built ? Json::array({options.axis}) : Json(options.axis);
  config["epsilon"] = options.epsilon;
  config["center"] = options.center;
  config["scale"] = options.scale;
  config["rms_scaling"] = false;
  config["beta_initializer"] = initializer_json(options.beta_initializer);
  config["gamma_initializer"] = initializer_json(options.gamma_initializer);
  for (const char* key :
       {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"}) {
    config[key] = nullptr;
  }
}

Json layer_json(const nn::Layer& layer) {
  Json config{{"name", layer.name()}, {"trainable", layer.trainable()}};
  config["dtype"] = dtype_policy(layer.dtype_policy());
  bool has_build_config = false;  // Keras records one for layers built when first called
  if (auto* dense = dynamic_cast<const nn::Dense*>(&layer)) {
    const nn::DenseOptions& options = dense->options();
    config["units"] = dense->units();
    config["activation"] = activation_json(options.activation);
    config["use_bias"] = options.use_bias;
    config["kernel_initializer"] = initializer_json(options.kernel_initializer);
    config["bias_initializer"] = initializer_json(options.bias_initializer);
    config["kernel_regularizer"] = regularizer_json(options.kernel_regularizer);
    config["bias_regularizer"] = regularizer_json(options.bias_regularizer);
    for (const char* key : {"kernel_constraint", "bias_constraint", "quantization_config"}) {
      config[key] = nullptr;
    }
    has_build_config = true;
  } else if (auto* conv = dynamic_cast<const nn::Conv2D*>(&layer)) {
    const nn::ConvOptions& options = conv->options();
    config["filters"] = conv->filters();
    config["kernel_size"] = size2_json(conv->kernel_size());
    config["strides"] = size2_json(options.strides);
    config["padding"] = options.padding;
    config["data_format"] = "channels_last";
    config["dilation_rate"] = size2_json(options.dilation_rate);
    write_conv_options(options, config);
    has_build_config = true;
  } else if (auto* conv1d = dynamic_cast<const nn::Conv1D*>(&layer)) {
    const nn::ConvOptions& options = conv1d->options();
    config["filters"] = conv1d->filters();
    config["kernel_size"] = Json::array({conv1d->kernel_size()});
    config["strides"] = Json::array({options.strides.width});
    config["padding"] = options.padding;
    config["data_format"] = "channels_last";
    config["dilation_rate"] = Json::array({options.dilation_rate.width});
    write_conv_options(options, config);
    has_build_config = true;
  } else if (auto* batch_norm = dynamic_cast<const nn::BatchNormalization*>(&layer)) {
    write_batch_normalization(batch_norm->options(), config);
    has_build_config = true;
  } else if (auto* layer_norm = dynamic_cast<const nn::LayerNormalization*>(&layer)) {
    write_layer_normalization(layer_norm->options(), layer.built(), config);
    has_build_config = true;
  } else if (auto* embedding = dynamic_cast<const nn::Embedding*>(&layer)) {
    config["input_dim"] = embedding->input_dim();
    config["output_dim"] = embedding->output_dim();
    config["embeddings_initializer"] =
        initializer_json(embedding->options().embeddings_initializer);
    for (const char* key :
         {"embeddings_regularizer", "activity_regularizer", "embeddings_constraint"}) {
      config[key] = nullptr;
    }
    config["mask_zero"] = false;
    config["quantization_config"] = nullptr;
    has_build_config = true;
  } else if (auto* zero_padding = dynamic_cast<const nn::ZeroPadding2D*>(&layer)) {
    const nn::Padding2& padding = zero_padding->padding();
    config["padding"] = Json::array(
        {Json::array({padding.top, padding.bottom}), Json::array({padding.left, padding.right})});
    config["data_format"] = "channels_last";
    has_build_config = true;
  } else if (auto* pooling = dynamic_cast<const nn::Pooling2D*>(&layer)) {
    const nn::PoolingOptions& options = pooling->options();
    config["pool_size"] = size2_json(pooling->pool_size());
    config["padding"] = options.padding;
    config["strides"] = size2_json(options.strides.value_or(pooling->pool_size()));
    config["data_format"] = "channels_last";
  } else if (dynamic_cast<const nn::GlobalPooling2D*>(&layer)) {
    config["data_format"] = "channels_last";
    config["keepdims"] = false;
  } else if (auto* dropout = dynamic_cast<const nn::Dropout*>(&layer)) {
    std::optional<LayerNote> note = layer_notes().find(&layer);
    config["rate"] = dropout->rate();
    config["seed"] = note && note->dropout_seed ? Json(*note->dropout_seed) : Json(nullptr);
    config["noise_shape"] = nullptr;
  } else if (dynamic_cast<const nn::Flatten*>(&layer)) {
    config["data_format"] = "channels_last";
    has_build_config = true;
  } else if (auto* reshape = dynamic_cast<const nn::Reshape*>(&layer)) {
    config["target_shape"] = reshape->target_shape();
  } else if (auto* activation = dynamic_cast<const nn::ActivationLayer*>(&layer)) {
    config["activation"] = activation_json(activation->activation());
  } else if (dynamic_cast<const nn::Add*>(&layer)) {
    has_build_config = true;
  } else if (auto* concatenate = dynamic_cast<const nn::Concatenate*>(&layer)) {
    config["axis"] = concatenate->axis();
    has_build_config = true;
  } else {
    throw ValueError("to_json: layer '" + layer.name() + "' (" + layer.class_name() +
                     ") has no Keras config writer yet");
  }
  Json entry{{"module", "keras.layers"},
             {"class_name", layer.class_name()},
             {"config", config},
             {"registered_name", nullptr}};
  if (has_build_config && layer.built()) {
    // Layers taking a list record one shape per input.
    Json shapes = Json::array();
    for (const Shape& shape : layer.input_shapes()) shapes.push_back(shape_json(shape.dims()));
    bool list =
        dynamic_cast<const nn::Add*>(&layer) || dynamic_cast<const nn::Concatenate*>(&layer);
    entry["build_config"] = {
        {"input_shape", list ? shapes : shape_json(layer.input_shape().dims())}};
  }
  return entry;
}

// ---------------------------------------------------------------------------------------
// Models.

// About how many values `layer`'s weights hold for inputs of `input_shape` (the largest
// layers' exactly), to refuse a model too large to allocate before allocating it.
double weight_count(const nn::Layer& layer, const Shape& input_shape) {
  double features = input_shape.rank() > 0 ? double(std::max<int64_t>(input_shape[-1], 1)) : 1.0;
  if (auto* dense = dynamic_cast<const nn::Dense*>(&layer)) {
    return (features + 1.0) * double(dense->units());
  }
  if (auto* conv = dynamic_cast<const nn::Conv2D*>(&layer)) {
    const nn::Size2& kernel = conv->kernel_size();
    return (double(kernel.height) * double(kernel.width) * features + 1.0) *
           double(conv->filters());
  }
  if (auto* conv1d = dynamic_cast<const nn::Conv1D*>(&layer)) {
    return (double(conv1d->kernel_size()) * features + 1.0) * double(conv1d->filters());
  }
  if (auto* embedding = dynamic_cast<const nn::Embedding*>(&layer)) {
    return double(embedding->input_dim()) * double(embedding->output_dim());
  }
  if (dynamic_cast<const nn::BatchNormalization*>(&layer)) return 4.0 * features;
  if (dynamic_cast<const nn::LayerNormalization*>(&layer)) return 2.0 * features;
  return 0.0;
}

// Throws ValueError when the weights for `input_shape` would exceed kMaxParameters, before
// any is allocated; ShapeError (from the layers) when the layers do not fit the shape.
void check_model_size(const Sequential& model, const Shape& input_shape) {
  Shape shape = input_shape;
  double parameters = 0;
  for (const auto& layer : model.layers()) {
    Shape output = layer->compute_output_shape(shape);
    parameters += weight_count(*layer, shape);
    if (double(output.drop_front(1).num_elements()) > kMaxSampleElements) {
      throw ValueError("model config: layer '" + layer->name() + "' would output " +
                       output.to_keras_string() + ", too large to run");
    }
    shape = output;
  }
  if (parameters > kMaxParameters) {
    throw ValueError("model config: the model would hold " + std::to_string(int64_t(parameters)) +
                     " parameters for inputs " + input_shape.to_keras_string() +
                     ", more than trainyard's limit of " + std::to_string(int64_t(kMaxParameters)));
  }
}

Sequential read_sequential(const Json& root) {
  ConfigObject top(root, "model config");
  std::optional<std::string> class_name = top.string("class_name");
  if (!class_name) throw ValueError("model config: class_name is required");
  if (*class_name == "Functional" || *class_name == "Model") {
    throw ValueError("model config: a " + *class_name +
                     " model is not a Sequential one; read it with functional_from_json");
  }
  if (*class_name != "Sequential") {
    throw ValueError("model config: model class " + *class_name +
                     " is not supported by trainyard yet (only Sequential)");
  }
  top.ignore("module");
  top.ignore("registered_name");
  top.ignore("keras_version");
  top.ignore("backend");
  top.ignore("compile_config");  // read by compile_config_from_json
  std::optional<std::vector<int64_t>> built_shape;
  if (const Json* build_config = top.take("build_config")) {
    ConfigObject build(*build_config, "model config: build_config");
    if (const Json* shape = build.take("input_shape")) {
      built_shape = read_shape(build, "input_shape", *shape);
    }
    build.finish();
  }
  const Json* config_value = top.take("config");
  if (!config_value) throw ValueError("model config: config is required");
  top.finish();

  std::optional<ModelInput> input;
  std::vector<std::pair<nn::LayerPtr, uint64_t>> seeds;
  std::vector<nn::LayerPtr> layers;
  std::string name;
  if (config_value->is_array()) {
    // Keras 2.0-2.1 wrote a Sequential's config as the bare list of layers.
    layers = read_layers(*config_value, input, seeds);
  } else {
    ConfigObject config(*config_value, "model config (Sequential)");
    name = config.string("name").value_or("");
    config.require_default("trainable", true);
    read_dtype(config);
    if (const Json* shape = config.take("build_input_shape")) {
      built_shape = read_shape(config, "build_input_shape", *shape);
    }
    const Json* layer_list = config.take("layers");
    if (!layer_list) throw ValueError("model config (Sequential): layers is required");
    config.finish();
    layers = read_layers(*layer_list, input, seeds);
  }
  if (layers.empty()) throw ValueError("model config (Sequential): the model has no layers");

  nn::LayerPtr first = layers.front();
  Sequential model(std::move(layers), std::move(name));
  for (const auto& [layer, seed] : seeds) layer_notes().remember_seed(layer, seed);
  if (!input && built_shape && !built_shape->empty()) input = ModelInput{*built_shape, ""};
  if (input) {
    Shape shape(input->batch_shape);
    layer_notes().remember_input(
        first, input->layer_name.empty() ? std::nullopt : std::optional(input->layer_name),
        shape[0] > 0 ? std::optional(shape[0]) : std::nullopt);
    try {
      check_model_size(model, shape.with_batch(-1));
      model.build(shape.with_batch(-1));
    } catch (const ShapeError& error) {
      throw ShapeError("model config: the layers do not fit the input shape " +
                       shape.with_batch(-1).to_keras_string() + ": " + error.what());
    }
  }
  return model;
}

Json sequential_json(const Sequential& model) {
  Json layers = Json::array();
  const auto& model_layers = model.layers();
  std::optional<std::vector<int64_t>> input_shape;
  if (!model_layers.empty() && model.built()) {
    const nn::Layer& first = *model_layers.front();
    std::optional<LayerNote> note = layer_notes().find(&first);
    std::vector<int64_t> dims = first.input_shape().dims();
    if (note && note->input_batch_size) dims[0] = *note->input_batch_size;
    input_shape = dims;
    std::string input_name =
        note && note->input_layer_name ? *note->input_layer_name : std::string("input_layer");
    layers.push_back({{"module", "keras.layers"},
                      {"class_name", "InputLayer"},
                      {"config",
                       {{"batch_shape", shape_json(dims)},
                        {"dtype", std::string(dtype_name(first.dtype()))},
                        {"sparse", false},
                        {"ragged", false},
                        {"name", input_name},
                        {"optional", false}}},
                      {"registered_name", nullptr}});
  }
  for (const auto& layer : model_layers) layers.push_back(layer_json(*layer));

  Json config{{"name", model.name()}, {"trainable", true}};
  config["dtype"] = dtype_policy(nn::DTypePolicy());
  config["layers"] = layers;
  if (input_shape) config["build_input_shape"] = shape_json(*input_shape);
  Json root{{"module", "keras"},
            {"class_name", "Sequential"},
            {"config", config},
            {"registered_name", nullptr}};
  if (input_shape) root["build_config"] = {{"input_shape", shape_json(*input_shape)}};
  return root;
}

// ---------------------------------------------------------------------------------------
// Functional models: each layer entry also lists its calls ("inbound_nodes"), each call's
// arguments as tensors named by [layer, node index, tensor index] ("keras_history").

struct TensorRef {
  std::string layer;
  int64_t node = 0;
};

TensorRef read_history(const Json& value, const std::string& context) {
  bool ok = value.is_array() && value.size() == 3 && value[0].is_string() &&
            value[1].is_number_integer() && value[1].get<int64_t>() >= 0 &&
            value[2].is_number_integer();
  if (!ok) {
    throw ValueError(context + ": expected [layer name, node index, tensor index], got " +
                     brief(value));
  }
  if (value[2].get<int64_t>() != 0) {
    throw ValueError(context + ": tensor index " + brief(value[2]) +
                     " is not supported (trainyard's layers have one output)");
  }
  return {value[0].get<std::string>(), value[1].get<int64_t>()};
}

// {"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history"}}.
TensorRef read_keras_tensor(const Json& value, const std::string& context) {
  ConfigObject object(value, context);
  if (object.string("class_name") != "__keras_tensor__") {
    throw ValueError(context + ": expected a __keras_tensor__, got " + brief(value));
  }
  const Json* config = object.take("config");
  if (!config) throw ValueError(context + ": the tensor's config is required");
  object.finish();
  ConfigObject tensor(*config, context);
  tensor.ignore("shape");  // follows from the layers
  read_dtype(tensor, DTypeField::kTensor);
  const Json* history = tensor.take("keras_history");
  if (!history) throw ValueError(context + ": keras_history is required");
  tensor.finish();
  return read_history(*history, context);
}

// One tf.keras 2 inbound node: a list of [layer, node index, tensor index, kwargs], one per
// input tensor (several for a merge layer).
std::vector<TensorRef> read_legacy_node(const Json& node, const std::string& context) {
  if (node.empty()) throw ValueError(context + ": a call needs at least one input tensor");
  std::vector<TensorRef> tensors;
  for (const Json& input : node) {
    if (!input.is_array() || (input.size() != 3 && input.size() != 4)) {
      throw ValueError(context + ": expected [layer name, node index, tensor index, kwargs], got " +
                       brief(input));
    }
    tensors.push_back(read_history(Json::array({input[0], input[1], input[2]}), context));
    if (input.size() == 4) {
      ConfigObject keywords(input[3], context + " kwargs");
      keywords.ignore("training");  // fit, evaluate and predict set it per step
      keywords.finish();            // a mask: only null
    }
  }
  return tensors;
}

// One inbound node: {"args": [tensor] or [[tensor, ...]], "kwargs": {...}}.
std::vector<TensorRef> read_node(const Json& node, const std::string& context) {
  if (node.is_array()) return read_legacy_node(node, context);
  ConfigObject object(node, context);
  const Json* args = object.take("args");
  if (!args || !args->is_array() || args->size() != 1) {
    throw ValueError(context + ": args must hold the layer's one argument, got " +
                     (args ? brief(*args) : std::string("nothing")));
  }
  if (const Json* kwargs = object.take("kwargs")) {
    ConfigObject keywords(*kwargs, context + " kwargs");
    keywords.ignore("training");  // fit, evaluate and predict set it per step
    keywords.finish();            // a mask: only null
  }
  object.finish();
  const Json& argument = (*args)[0];
  std::vector<TensorRef> tensors;
  if (argument.is_array()) {
    for (const Json& tensor : argument) tensors.push_back(read_keras_tensor(tensor, context));
  } else {
    tensors.push_back(read_keras_tensor(argument, context));
  }
  return tensors;
}

// What reading a Functional config keeps per layer entry: the layer and what its calls made.
struct FunctionalEntry {
  LayerEntry entry;
  size_t calls_done = 0;
  std::vector<KerasTensor> outputs;  // by node index
};

// Calls `layer` on `inputs` after checking, before any weight exists, that its output and
// the model's parameters stay within trainyard's limits.
KerasTensor call_checked(const FunctionalEntry& item, const std::vector<KerasTensor>& inputs,
                         double& parameters) {
  const nn::Layer& layer = *item.entry.layer;
  std::vector<Shape> shapes;
  for (const KerasTensor& input : inputs) shapes.push_back(input.shape());
  Shape output;
  try {
    output = layer.compute_output_shape(std::span<const Shape>(shapes));
  } catch (const ShapeError& error) {
    throw ShapeError(item.entry.context + ": the layer does not fit its inputs: " + error.what());
  }
  if (double(output.drop_front(1).num_elements()) > kMaxSampleElements) {
    throw ValueError("model config: layer '" + layer.name() + "' would output " +
                     output.to_keras_string() + ", too large to run");
  }
  if (!layer.built()) parameters += weight_count(layer, shapes[0]);
  if (parameters > kMaxParameters) {
    throw ValueError("model config: the model would hold more than trainyard's limit of " +
                     std::to_string(int64_t(kMaxParameters)) + " parameters");
  }
  return call_layer(item.entry.layer, inputs);
}

// Makes every layer's calls in config order; a call whose inputs a later entry makes (a
// shared layer's second call, say) waits for a later pass, as Keras's loader does.
void make_calls(std::vector<FunctionalEntry>& items, const std::map<std::string, size_t>& by_name) {
  double parameters = 0;
  bool progress = true;
  while (progress) {
    progress = false;
    for (FunctionalEntry& item : items) {
      const Json* nodes = item.entry.inbound_nodes;
      if (item.entry.input || !nodes) continue;
      bool ready = true;
      while (ready && item.calls_done < nodes->size()) {
        std::string context =
            item.entry.context + ": inbound_nodes[" + std::to_string(item.calls_done) + "]";
        std::vector<KerasTensor> inputs;
        for (const TensorRef& ref : read_node((*nodes)[item.calls_done], context)) {
          auto found = by_name.find(ref.layer);
          if (found == by_name.end()) {
            throw ValueError(context + ": reads layer '" + ref.layer +
                             "', which is not in the model");
          }
          const FunctionalEntry& source = items[found->second];
          ready = ready && ref.node < int64_t(source.outputs.size());
          if (ready) inputs.push_back(source.outputs[size_t(ref.node)]);
        }
        if (!ready) break;
        item.outputs.push_back(call_checked(item, inputs, parameters));
        ++item.calls_done;
        progress = true;
      }
    }
  }
  for (const FunctionalEntry& item : items) {
    const Json* nodes = item.entry.inbound_nodes;
    if (!item.entry.input && nodes && item.calls_done < nodes->size()) {
      throw ValueError(item.entry.context + ": inbound_nodes[" + std::to_string(item.calls_done) +
                       "] reads a call no layer of the config makes (or a cycle)");
    }
  }
}

// input_layers / output_layers: one [layer, node, tensor] or a list of them.
std::vector<KerasTensor> read_endpoints(const Json& value, const char* key,
                                        const std::vector<FunctionalEntry>& items,
                                        const std::map<std::string, size_t>& by_name) {
  std::string context = std::string("model config (Functional): ") + key;
  std::vector<const Json*> refs;
  if (value.is_array() && !value.empty() && value[0].is_string()) {
    refs.push_back(&value);
  } else if (value.is_array()) {
    for (const Json& ref : value) refs.push_back(&ref);
  } else {
    throw ValueError(context + " must be a list, got " + brief(value));
  }
  std::vector<KerasTensor> tensors;
  for (const Json* ref : refs) {
    TensorRef tensor = read_history(*ref, context);
    auto found = by_name.find(tensor.layer);
    if (found == by_name.end() || tensor.node >= int64_t(items[found->second].outputs.size())) {
      throw ValueError(context + " names " + brief(*ref) + ", which the config never makes");
    }
    tensors.push_back(items[found->second].outputs[size_t(tensor.node)]);
  }
  return tensors;
}

Functional read_functional(const Json& root) {
  ConfigObject top(root, "model config");
  top.ignore("class_name");  // checked by the caller
  top.ignore("module");
  top.ignore("registered_name");
  top.ignore("keras_version");
  top.ignore("backend");
  top.ignore("build_config");    // the Input layers give the shapes
  top.ignore("compile_config");  // read by compile_config_from_json
  const Json* config_value = top.take("config");
  if (!config_value) throw ValueError("model config: config is required");
  top.finish();
  ConfigObject config(*config_value, "model config (Functional)");
  std::string name = config.string("name").value_or("");
  config.require_default("trainable", true);
  const Json* layers = config.take("layers");
  const Json* input_layers = config.take("input_layers");
  const Json* output_layers = config.take("output_layers");
  if (!layers || !input_layers || !output_layers) {
    throw ValueError(
        "model config (Functional): layers, input_layers and output_layers are required");
  }
  config.finish();
  if (!layers->is_array()) {
    throw ValueError("model config (Functional): layers must be a list, got " + brief(*layers));
  }

  std::vector<FunctionalEntry> items;
  std::map<std::string, size_t> by_name;
  for (size_t i = 0; i < layers->size(); ++i) {
    FunctionalEntry item{read_layer_entry((*layers)[i], i, true)};
    std::string layer_name =
        item.entry.input ? item.entry.input->layer_name : item.entry.layer->name();
    if (!by_name.emplace(layer_name, i).second) {
      throw ValueError(item.entry.context + ": the name '" + layer_name + "' is used twice");
    }
    if (item.entry.input) {
      const std::vector<int64_t>& dims = item.entry.input->batch_shape;
      try {
        item.outputs.push_back(
            Input(Shape(std::vector<int64_t>(dims.begin() + 1, dims.end())), layer_name));
      } catch (const ValueError& error) {
        throw ValueError(item.entry.context + ": " + error.what());
      }
    } else if (item.entry.inbound_nodes && !item.entry.inbound_nodes->is_array()) {
      throw ValueError(item.entry.context + ": inbound_nodes must be a list, got " +
                       brief(*item.entry.inbound_nodes));
    }
    if (item.entry.dropout_seed)
      layer_notes().remember_seed(item.entry.layer, *item.entry.dropout_seed);
    items.push_back(std::move(item));
  }
  make_calls(items, by_name);
  return Functional(read_endpoints(*input_layers, "input_layers", items, by_name),
                    read_endpoints(*output_layers, "output_layers", items, by_name),
                    std::move(name));
}

Json keras_tensor_json(const KerasTensor& tensor, const detail::GraphMap& map) {
  Json history = Json::array({tensor.name(), map.node_index.at(tensor.producer().get()), 0});
  return {{"class_name", "__keras_tensor__"},
          {"config",
           {{"shape", shape_json(tensor.shape().dims())},
            {"dtype", std::string(dtype_name(tensor.layer()->compute_dtype()))},
            {"keras_history", history}}}};
}

Json endpoints_json(const std::vector<KerasTensor>& tensors, const detail::GraphMap& map) {
  Json list = Json::array();
  for (const KerasTensor& tensor : tensors) {
    list.push_back(Json::array({tensor.name(), map.node_index.at(tensor.producer().get()), 0}));
  }
  // Keras writes a model built from single tensors with bare [layer, node, tensor] triples.
  return list.size() == 1 ? list[0] : list;
}

Json functional_json(const Functional& model) {
  const detail::GraphMap& map = model.graph_map();
  std::map<const nn::Layer*, std::vector<const detail::LayerCall*>> calls;
  for (const detail::LayerCall* call : map.calls) calls[call->layer.get()].push_back(call);
  Json layers = Json::array();
  for (const nn::LayerPtr& layer : model.layers()) {
    Json entry;
    if (dynamic_cast<const InputLayer*>(layer.get())) {
      entry = {{"module", "keras.layers"},
               {"class_name", "InputLayer"},
               {"config",
                {{"batch_shape", shape_json(layer->input_shape().dims())},
                 {"dtype", std::string(dtype_name(layer->dtype()))},
                 {"sparse", false},
                 {"ragged", false},
                 {"name", layer->name()},
                 {"optional", false}}},
               {"registered_name", nullptr}};
    } else {
      entry = layer_json(*layer);
    }
    entry["name"] = layer->name();
    Json nodes = Json::array();
    std::vector<const detail::LayerCall*>& layer_calls = calls[layer.get()];
    std::sort(layer_calls.begin(), layer_calls.end(), [&](const auto* a, const auto* b) {
      return map.node_index.at(a) < map.node_index.at(b);
    });
    bool list = dynamic_cast<const nn::Add*>(layer.get()) ||
                dynamic_cast<const nn::Concatenate*>(layer.get());
    for (const detail::LayerCall* call : layer_calls) {
      if (call->inputs.empty()) continue;  // an Input's own call
      Json tensors = Json::array();
      for (const KerasTensor& input : call->inputs)
        tensors.push_back(keras_tensor_json(input, map));
      Json kwargs = Json::object();
      // Keras records the symbolic call of a Dropout as training=False.
      if (dynamic_cast<const nn::Dropout*>(layer.get())) kwargs["training"] = false;
      nodes.push_back({{"args", list ? Json::array({tensors}) : tensors}, {"kwargs", kwargs}});
    }
    entry["inbound_nodes"] = nodes;
    layers.push_back(entry);
  }
  Json config{{"name", model.name()}, {"trainable", true}};
  config["layers"] = layers;
  config["input_layers"] = endpoints_json(model.inputs(), map);
  config["output_layers"] = endpoints_json(model.outputs(), map);
  return {{"module", "keras.src.models.functional"},
          {"class_name", "Functional"},
          {"config", config},
          {"registered_name", "Functional"},
          {"build_config", {{"input_shape", nullptr}}}};
}

// ---------------------------------------------------------------------------------------
// compile_config.

// clipnorm, global_clipnorm and clipvalue of an optimizer config. Keras clips only when a
// value is set and above zero, so null, 0 and negative values all mean "no clipping".
nn::ClipOptions read_clip_options(ConfigObject& config) {
  auto positive = [&](const char* key) -> std::optional<double> {
    std::optional<double> value = config.number(key);
    if (value && *value > 0) return value;
    return std::nullopt;
  };
  return nn::ClipOptions{.clipnorm = positive("clipnorm"),
                         .clipvalue = positive("clipvalue"),
                         .global_clipnorm = positive("global_clipnorm")};
}

template <typename Options>
void set_clip_options(Options& options, const nn::ClipOptions& clip) {
  options.clipnorm = clip.clipnorm;
  options.clipvalue = clip.clipvalue;
  options.global_clipnorm = clip.global_clipnorm;
}

nn::OptimizerPtr read_optimizer(const Json& value) {
  if (value.is_string()) {
    try {
      return nn::make_optimizer(value.get<std::string>());
    } catch (const ValueError& error) {
      throw ValueError(std::string("compile_config: optimizer: ") + error.what());
    }
  }
  ConfigObject object(value, "compile_config: optimizer");
  std::string class_name = object.string("class_name").value_or("");
  object.ignore("module");
  object.ignore("registered_name");
  const Json empty = Json::object();
  const Json* config_value = object.take("config");
  object.finish();
  ConfigObject config(config_value ? *config_value : empty,
                      "compile_config: optimizer " + class_name);
  std::string name = config.string("name").value_or("");
  const Json* learning_rate_value = config.take("learning_rate");
  if (learning_rate_value && !learning_rate_value->is_number()) {
    config.unsupported("learning_rate", *learning_rate_value);  // a schedule
  }
  std::optional<double> learning_rate;
  if (learning_rate_value) learning_rate = learning_rate_value->get<double>();
  double weight_decay = config.number("weight_decay").value_or(0.0);
  nn::ClipOptions clip = read_clip_options(config);
  // Options that change nothing unless set; null passes finish().
  config.require_default("use_ema", false);
  config.ignore("ema_momentum");  // used only with use_ema
  config.require_default("is_legacy_optimizer", false);
  config.require_default("decay", 0.0);
  config.ignore("jit_compile");

  nn::OptimizerPtr optimizer;
  if (class_name == "SGD") {
    nn::SgdOptions options{.name = name};
    options.learning_rate = learning_rate.value_or(0.01);
    options.momentum = config.number("momentum").value_or(0.0);
    options.nesterov = config.boolean("nesterov").value_or(false);
    options.weight_decay = weight_decay;
    config.finish();
    set_clip_options(options, clip);
    optimizer = std::make_shared<nn::Sgd>(options);
  } else if (class_name == "Adam" || class_name == "AdamW") {
    nn::AdamOptions options{.name = name};
    options.learning_rate = learning_rate.value_or(0.001);
    options.beta_1 = config.number("beta_1").value_or(0.9);
    options.beta_2 = config.number("beta_2").value_or(0.999);
    options.epsilon = config.number("epsilon").value_or(1e-7);
    options.amsgrad = config.boolean("amsgrad").value_or(false);
    config.finish();
    set_clip_options(options, clip);
    if (class_name == "Adam") {
      options.weight_decay = weight_decay;
      optimizer = std::make_shared<nn::Adam>(options);
    } else {
      nn::AdamWOptions adamw{
          options.learning_rate,
          options.beta_1,
          options.beta_2,
          options.epsilon,
          options.amsgrad,
          config_value && config_value->contains("weight_decay") ? weight_decay : 0.004,
          name};
      set_clip_options(adamw, clip);
      optimizer = std::make_shared<nn::AdamW>(adamw);
    }
  } else if (class_name == "RMSprop") {
    nn::RmspropOptions options{.name = name};
    options.learning_rate = learning_rate.value_or(0.001);
    options.rho = config.number("rho").value_or(0.9);
    options.momentum = config.number("momentum").value_or(0.0);
    options.epsilon = config.number("epsilon").value_or(1e-7);
    options.centered = config.boolean("centered").value_or(false);
    options.weight_decay = weight_decay;
    config.finish();
    set_clip_options(options, clip);
    optimizer = std::make_shared<nn::Rmsprop>(options);
  } else {
    throw ValueError("compile_config: optimizer class " + brief(class_name) +
                     " is not supported by trainyard yet (supported: SGD, Adam, AdamW, RMSprop)");
  }
  return optimizer;
}

struct LossClass {
  const char* class_name;
  const char* identifier;
  bool crossentropy;
  bool label_smoothing;
};

constexpr LossClass kLossClasses[] = {
    {"MeanSquaredError", "mean_squared_error", false, false},
    {"MeanAbsoluteError", "mean_absolute_error", false, false},
    {"BinaryCrossentropy", "binary_crossentropy", true, true},
    {"CategoricalCrossentropy", "categorical_crossentropy", true, true},
    {"SparseCategoricalCrossentropy", "sparse_categorical_crossentropy", true, false},
};

const LossClass* loss_class_of(const std::string& identifier) {
  static const std::map<std::string, std::string> kAliases{
      {"mse", "mean_squared_error"},
      {"mae", "mean_absolute_error"},
      {"bce", "binary_crossentropy"},
      {"cce", "categorical_crossentropy"},
      {"scce", "sparse_categorical_crossentropy"}};
  auto alias = kAliases.find(identifier);
  const std::string& canonical = alias == kAliases.end() ? identifier : alias->second;
  for (const auto& known : kLossClasses) {
    if (canonical == known.identifier) return &known;
  }
  return nullptr;
}

nn::LossFunction read_loss(const Json& value) {
  nn::LossFunction loss;
  if (value.is_string()) {
    loss = nn::LossFunction(value.get<std::string>());
  } else {
    ConfigObject object(value, "compile_config: loss");
    std::string class_name = object.string("class_name").value_or("");
    object.ignore("module");
    object.ignore("registered_name");
    const Json empty = Json::object();
    const Json* config_value = object.take("config");
    object.finish();
    const LossClass* known = nullptr;
    for (const auto& entry : kLossClasses) {
      if (class_name == entry.class_name) known = &entry;
    }
    if (!known) {
      throw ValueError("compile_config: loss class " + brief(class_name) +
                       " is not supported by trainyard yet");
    }
    ConfigObject config(config_value ? *config_value : empty, "compile_config: loss " + class_name);
    loss.name = known->identifier;
    config.ignore("name");
    std::optional<std::string> reduction = config.string("reduction");
    if (reduction && *reduction != "sum_over_batch_size" && *reduction != "auto" &&
        *reduction != "mean") {
      config.unsupported("reduction", *reduction);
    }
    if (known->crossentropy) loss.from_logits = config.boolean("from_logits").value_or(false);
    if (known->label_smoothing) loss.label_smoothing = config.number("label_smoothing").value_or(0);
    if (known->crossentropy) config.require_default("axis", -1);
    config.finish();
  }
  try {
    loss.validate();
  } catch (const ValueError& error) {
    throw ValueError(std::string("compile_config: loss: ") + error.what());
  }
  return loss;
}

// One compile metric as trainyard names it: a string as Keras takes it; a Keras 3 metric
// object by its class; tf.keras 2's MeanMetricWrapper by the name it was compiled under
// ("acc", which trainyard resolves from the shapes as tf.keras did from the loss) or its fn.
std::string read_metric(const Json& metric) {
  if (metric.is_string()) return metric.get<std::string>();
  ConfigObject object(metric, "compile_config: metrics");
  std::optional<std::string> class_name = object.string("class_name");
  object.ignore("module");
  object.ignore("registered_name");
  const Json empty = Json::object();
  const Json* config_value = object.take("config");
  object.finish();
  ConfigObject config(config_value ? *config_value : empty,
                      "compile_config: metrics " + class_name.value_or("?"));
  std::optional<std::string> name = config.string("name");
  config.ignore("dtype");
  if (class_name == "MeanMetricWrapper") {
    std::optional<std::string> fn = config.string("fn");
    config.finish();
    if (!fn) throw ValueError(config.context() + ": fn is required");
    const bool named_accuracy = name == "acc" || name == "accuracy";
    return named_accuracy && fn->ends_with("accuracy") ? *name : *fn;
  }
  static const std::map<std::string, std::string> kClasses = {
      {"BinaryAccuracy", "binary_accuracy"},
      {"CategoricalAccuracy", "categorical_accuracy"},
      {"SparseCategoricalAccuracy", "sparse_categorical_accuracy"},
      {"MeanSquaredError", "mean_squared_error"},
      {"MeanAbsoluteError", "mean_absolute_error"}};
  auto known = class_name ? kClasses.find(*class_name) : kClasses.end();
  if (known == kClasses.end()) {
    throw ValueError("compile_config: metrics: metric class " +
                     (class_name ? *class_name : std::string("(none)")) +
                     " is not supported by trainyard yet (known: MeanMetricWrapper, " +
                     "BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, " +
                     "MeanSquaredError, MeanAbsoluteError, or a metric name)");
  }
  config.ignore("threshold");  // BinaryAccuracy's, 0.5 as trainyard's
  config.finish();
  return known->second;
}

// compile_config's metrics: a list, or tf.keras 2's list of lists, one per output (trainyard
// compiles one metric list for all outputs, so per-output lists must agree).
std::vector<std::string> read_metrics(const Json& metrics) {
  auto fail = [&] {
    throw ValueError("compile_config: metrics = " + brief(metrics) +
                     " must be a list of metrics, or one list per output");
  };
  if (!metrics.is_array()) fail();
  std::vector<std::string> names;
  bool nested = !metrics.empty() && metrics[0].is_array();
  for (const Json& entry : metrics) {
    if (entry.is_array() != nested) fail();
    if (!nested) {
      names.push_back(read_metric(entry));
      continue;
    }
    std::vector<std::string> output_names;
    for (const Json& metric : entry) output_names.push_back(read_metric(metric));
    if (&entry == &metrics[0]) {
      names = output_names;
    } else if (output_names != names) {
      throw ValueError("compile_config: metrics: per-output metric lists differ (" +
                       brief(metrics) + "); trainyard compiles one list for every output");
    }
  }
  return names;
}

Json optimizer_json(const nn::Optimizer& optimizer) {
  Json config{{"name", optimizer.name()}, {"learning_rate", optimizer.learning_rate()}};
  bool adamw = dynamic_cast<const nn::AdamW*>(&optimizer) != nullptr;
  config["weight_decay"] =
      optimizer.weight_decay() == 0.0 && !adamw ? Json(nullptr) : Json(optimizer.weight_decay());
  auto clip_json = [](const std::optional<double>& value) {
    return value ? Json(*value) : Json(nullptr);
  };
  config["clipnorm"] = clip_json(optimizer.clipnorm());
  config["global_clipnorm"] = clip_json(optimizer.global_clipnorm());
  config["clipvalue"] = clip_json(optimizer.clipvalue());
  config["use_ema"] = false;
  config["ema_momentum"] = 0.99;
  config["ema_overwrite_frequency"] = nullptr;
  config["loss_scale_factor"] = nullptr;
  config["gradient_accumulation_steps"] = nullptr;
  std::string class_name;
  if (auto* sgd = dynamic_cast<const nn::Sgd*>(&optimizer)) {
    class_name = "SGD";
    config["momentum"] = sgd->options().momentum;
    config["nesterov"] = sgd->options().nesterov;
  } else if (auto* adam = dynamic_cast<const nn::Adam*>(&optimizer)) {
    class_name = adamw ? "AdamW" : "Adam";
    config["beta_1"] = adam->options().beta_1;
    config["beta_2"] = adam->options().beta_2;
    config["epsilon"] = adam->options().epsilon;
    config["amsgrad"] = adam->options().amsgrad;
  } else if (auto* rmsprop = dynamic_cast<const nn::Rmsprop*>(&optimizer)) {
    class_name = "RMSprop";
    config["rho"] = rmsprop->options().rho;
    config["momentum"] = rmsprop->options().momentum;
    config["epsilon"] = rmsprop->options().epsilon;
    config["centered"] = rmsprop->options().centered;
  } else {
    throw ValueError("to_json: optimizer '" + optimizer.name() + "' has no Keras config writer");
  }
  return Json{{"module", "keras.optimizers"},
              {"class_name", class_name},
              {"config", config},
              {"registered_name", nullptr}};
}

Json loss_json(const nn::LossFunction& loss) {
  if (!loss.from_logits && loss.label_smoothing == 0.0) return loss.name;
  const LossClass* known = loss_class_of(loss.name);
  if (!known || !known->crossentropy) {
    throw ValueError("to_json: loss '" + loss.name +
                     "' with from_logits or label_smoothing has no Keras class; name the "
                     "crossentropy (binary, categorical or sparse_categorical)");
  }
  Json config{{"name", known->identifier},
              {"reduction", "sum_over_batch_size"},
              {"from_logits", loss.from_logits}};
  if (known->label_smoothing) {
    config["label_smoothing"] = loss.label_smoothing;
  } else {
    config["ignore_class"] = nullptr;
  }
  config["axis"] = -1;
  return Json{{"module", "keras.losses"},
              {"class_name", known->class_name},
              {"config", config},
              {"registered_name", nullptr}};
}

Json compile_json(const CompileConfig& compile) {
  Json config = Json::object();
  if (compile.optimizer) config["optimizer"] = optimizer_json(*compile.optimizer);
  config["loss"] = compile.loss ? loss_json(*compile.loss) : Json(nullptr);
  config["loss_weights"] = nullptr;
  config["metrics"] = compile.metrics.empty() ? Json(nullptr) : Json(compile.metrics);
  config["weighted_metrics"] = nullptr;
  config["run_eagerly"] = false;
  config["steps_per_execution"] = 1;
  config["jit_compile"] = false;
  return config;
}

}  // namespace

Sequential model_from_json(std::string_view json) {
  return read_sequential(parse_json(json));
}

Functional functional_from_json(std::string_view json) {
  Json root = parse_json(json);
  ConfigObject top(root, "model config");
  std::optional<std::string> class_name = top.string("class_name");
  if (class_name != "Functional" && class_name != "Model") {
    throw ValueError("model config: expected a Functional model, got " +
                     (class_name ? "class " + *class_name : std::string("no class_name")) +
                     (class_name == "Sequential" ? "; read it with model_from_json" : ""));
  }
  return read_functional(root);
}

std::string model_class_of(std::string_view json) {
  Json root = parse_json(json);
  ConfigObject top(root, "model config");
  std::optional<std::string> class_name = top.string("class_name");
  if (!class_name) throw ValueError("model config: class_name is required");
  if (*class_name == "Sequential" || *class_name == "Functional") return *class_name;
  if (*class_name == "Model") return "Functional";
  throw ValueError("model config: model class " + *class_name +
                   " is not supported by trainyard yet (only Sequential and Functional)");
}

std::optional<CompileConfig> compile_config_from_json(std::string_view json) {
  Json root = parse_json(json);
  if (!root.is_object()) return std::nullopt;
  auto found = root.find("compile_config");
  if (found == root.end() || found->is_null()) return std::nullopt;
  ConfigObject object(*found, "compile_config");
  CompileConfig compile;
  if (const Json* optimizer = object.take("optimizer"))
    compile.optimizer = read_optimizer(*optimizer);
  if (const Json* loss = object.take("loss")) compile.loss = read_loss(*loss);
  if (const Json* metrics = object.take("metrics")) compile.metrics = read_metrics(*metrics);
  // Neither changes what is computed, only how often Python runs between steps.
  object.ignore("run_eagerly");
  object.ignore("steps_per_execution");
  object.ignore("jit_compile");
  // loss_weights and weighted_metrics: only null.
  object.finish();
  return compile;
}

std::string to_json(const Sequential& model) {
  return dump_python(sequential_json(model));
}

std::string to_json(const Sequential& model, const CompileConfig& compile_config) {
  Json root = sequential_json(model);
  root["compile_config"] = compile_json(compile_config);
  return dump_python(root);
}

std::string to_json(const Functional& model) {
  return dump_python(functional_json(model));
}

std::string to_json(const Functional& model, const CompileConfig& compile_config) {
  Json root = functional_json(model);
  root["compile_config"] = compile_json(compile_config);
  return dump_python(root);
}

}  // namespace trainyard::keras
