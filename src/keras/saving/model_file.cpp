#include "keras/saving/model_file.h"

#include <ctime>
#include <iostream>

#include "core/error.h"
#include "keras/functional.h"
#include "keras/model_config.h"
#include "keras/saving/h5_file.h"
#include "keras/saving/keras_archive.h"
#include "keras/saving/keras_version.h"
#include "keras/saving/legacy_h5.h"
#include "keras/saving/private_directory.h"
#include "keras/saving/weights_file.h"
#include "keras/sequential.h"
#include "keras/trainer.h"

namespace trainyard::keras {
namespace {

using saving::kKerasFormatVersion;

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// metadata.json as Keras writes it: {"keras_version": ..., "date_saved": local time}.
std::string metadata_json() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char date[32];
  std::strftime(date, sizeof(date), "%Y-%m-%d@%H:%M:%S", &local);
  return std::string("{\"keras_version\": \"") + kKerasFormatVersion + "\", \"date_saved\": \"" +
         date + "\"}";
}

CompileConfig compile_config_of(const Model& model) {
  const std::vector<OutputCompileSpec>& specs = model.trainer().output_specs();
  if (specs.size() != 1) {
    throw ValueError("save: model '" + model.name() + "' is compiled for " +
                     std::to_string(specs.size()) +
                     " outputs; trainyard cannot write a compile_config for several outputs yet");
  }
  if (specs[0].loss_weight) {
    throw ValueError("save: model '" + model.name() +
                     "' has a loss weight; trainyard cannot write loss_weights yet");
  }
  CompileConfig config;
  // The model keeps owning its optimizer; the config only reads it while it is written.
  config.optimizer = nn::OptimizerPtr(&model.optimizer(), [](nn::Optimizer*) {});
  config.loss = specs[0].loss;
  config.metrics = specs[0].metrics;
  return config;
}

// The model and the compile_config it was compiled from.
struct Deserialized {
  std::unique_ptr<Model> model;
  std::optional<CompileConfig> compile;
};

Deserialized deserialize(std::string_view json, const DeserializeOptions& options) {
  Deserialized result;
  std::string class_name = model_class_of(json);
  if (class_name == "Sequential") {
    result.model = std::make_unique<Sequential>(model_from_json(json));
  } else {
    result.model = std::make_unique<Functional>(functional_from_json(json));
  }
  if (!options.compile) return result;
  result.compile = compile_config_from_json(json);
  if (!result.compile || !result.compile->loss) return result;
  CompileOptions compile;
  if (result.compile->optimizer) compile.optimizer = result.compile->optimizer;
  compile.loss = result.compile->loss;
  compile.metrics = result.compile->metrics;
  result.model->compile(compile);
  return result;
}

int64_t parameter_bytes(const Model& model) {
  int64_t bytes = 0;
  for (const graph::VariablePtr& variable : model.weights()) {
    bytes += static_cast<int64_t>(variable->value.nbytes());
  }
  return bytes;
}

// The largest model.weights.h5 the model could need: its weights, up to three optimizer
// slots per weight (AMSGrad's), and room for HDF5's own structures.
uint64_t weights_entry_bound(const Model& model) {
  return 5 * static_cast<uint64_t>(parameter_bytes(model)) + (uint64_t{64} << 20);
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// Rethrows the exception being handled with `prefix` in front of its message and the
// private temporary path spelled as the archive entry it came from; the type is kept.
[[noreturn]] void rethrow_in_context(const std::string& prefix, const std::string& temporary,
                                     const std::string& shown) {
  auto message = [&](const Error& error) {
    return prefix +
           (temporary.empty() ? error.what() : replace_all(error.what(), temporary, shown));
  };
  try {
    throw;
  } catch (const ShapeError& error) {
    throw ShapeError(message(error));
  } catch (const DataError& error) {
    throw DataError(message(error));
  } catch (const IOError& error) {
    throw IOError(message(error));
  } catch (const ValueError& error) {
    throw ValueError(message(error));
  }
}

bool file_has_optimizer_state(const std::string& weights_file) {
  saving::H5File file = saving::H5File::open_read_only(weights_file);
  return file.is_group("optimizer/vars") && !file.children("optimizer/vars").empty();
}

}  // namespace

std::string serialize_model(const Model& model) {
  const auto* sequential = dynamic_cast<const Sequential*>(&model);
  const auto* functional = dynamic_cast<const Functional*>(&model);
  TY_CHECK(sequential || functional, "a model is either Sequential or Functional");
  if (!model.compiled()) return sequential ? to_json(*sequential) : to_json(*functional);
  CompileConfig compile = compile_config_of(model);
  return sequential ? to_json(*sequential, compile) : to_json(*functional, compile);
}

std::unique_ptr<Model> deserialize_model(std::string_view json, const DeserializeOptions& options) {
  return deserialize(json, options).model;
}

void save_model(const Model& model, const std::string& path, const SaveModelOptions& options) {
  if (ends_with(path, ".h5") && !ends_with(path, ".weights.h5")) {
    saving::save_legacy_h5_model(model, path, options.include_optimizer);
    return;
  }
  if (!ends_with(path, ".keras")) {
    throw ValueError(
        "save: the filename must end in `.keras` (or `.h5` for the legacy HDF5 "
        "format), got '" +
        path + "' (weights alone: save_weights with a `.weights.h5` name)");
  }
  if (!model.built()) {
    throw ValueError("save: model '" + model.name() +
                     "' is not built yet; build it (build(), fit() or predict()) first");
  }
  std::string config = serialize_model(model);
  saving::PrivateDirectory scratch;
  std::string weights = scratch.file(saving::kWeightsEntry);
  save_weights(model, weights, {.include_optimizer = options.include_optimizer});
  saving::write_keras_archive(path, metadata_json(), config, weights);
}

void Model::save(const std::string& path) const {
  save_model(*this, path);
}

std::unique_ptr<Model> load_model(const std::string& path, const LoadModelOptions& options) {
  if (ends_with(path, ".h5") && !ends_with(path, ".weights.h5")) {
    return saving::load_legacy_h5_model(path, options.compile);
  }
  if (!ends_with(path, ".keras")) {
    throw ValueError("load_model: '" + path +
                     "' does not end in `.keras` or `.h5`; trainyard reads Keras model "
                     "archives and legacy .h5 model files (weights alone: load_weights with "
                     "a `.weights.h5` file)");
  }
  saving::KerasArchiveText text = saving::read_keras_archive_text(path);
  Deserialized loaded;
  try {
    loaded = deserialize(text.config, {.compile = options.compile});
  } catch (const Error&) {
    rethrow_in_context("load_model: '" + path + "' entry 'config.json': ", "", "");
  }
  Model& model = *loaded.model;
  if (!model.built()) {
    throw ValueError("load_model: '" + path +
                     "' entry 'config.json' gives no input shape, so its weights cannot be "
                     "placed");
  }

  saving::PrivateDirectory scratch;
  std::string weights = scratch.file(saving::kWeightsEntry);
  saving::extract_keras_weights(path, weights, weights_entry_bound(model));
  try {
    bool restore_optimizer = false;
    if (model.compiled() && file_has_optimizer_state(weights)) {
      if (loaded.compile && loaded.compile->optimizer) {
        model.trainer().build_optimizer();
        restore_optimizer = true;
      } else {
        std::cerr << "load_model: skipping the optimizer state in '" << path
                  << "': its compile_config does not name the optimizer, so model '" << model.name()
                  << "' was compiled with the default '" << model.optimizer().name() << "'\n";
      }
    }
    load_weights(model, weights, {.load_optimizer = restore_optimizer});
  } catch (const Error&) {
    rethrow_in_context("load_model: '" + path + "': ", weights, saving::kWeightsEntry);
  }
  return std::move(loaded.model);
}

}  // namespace trainyard::keras
