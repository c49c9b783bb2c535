// `trainyard model summary FILE` and `trainyard model convert SOURCE DEST [--config CONFIG]`:
// Keras model files on the command line. A file's kind comes from its name, as Keras decides:
// ".keras" (whole-model archive), ".weights.h5" (weights alone), ".json" (model config),
// ".h5" (legacy HDF5 model file, as Keras's model.save("m.h5") writes it).
// Every output is written atomically, so a failed conversion leaves no partial file.
#include "keras/model.h"

#include <iostream>
#include <memory>

#include "cli/commands/commands.h"
#include "core/error.h"
#include "keras/saving/atomic_file.h"
#include "keras/saving/keras_archive.h"
#include "keras/saving/model_file.h"
#include "keras/saving/weights_file.h"

namespace trainyard::cli {
namespace {

enum class FileKind { kKeras, kWeights, kConfig, kLegacy };

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The kind of model file `path` names. Throws ValueError naming the file for any other
// name.
FileKind kind_of(const std::string& path, const char* role) {
  if (ends_with(path, ".keras")) return FileKind::kKeras;
  if (ends_with(path, ".weights.h5")) return FileKind::kWeights;
  if (ends_with(path, ".json")) return FileKind::kConfig;
  if (ends_with(path, ".h5")) return FileKind::kLegacy;
  throw ValueError(std::string(role) + " '" + path +
                   "': unknown kind of model file; expected a name ending in .keras, "
                   ".weights.h5, .json or .h5");
}

std::unique_ptr<keras::Model> read_config(const std::string& path) {
  std::string text = keras::saving::read_small_file(path, keras::saving::kMaxConfigBytes);
  try {
    return keras::deserialize_model(text);
  } catch (const ValueError& error) {
    throw ValueError("'" + path + "': " + error.what());
  } catch (const ShapeError& error) {
    throw ShapeError("'" + path + "': " + error.what());
  }
}

// The model `path` describes, for summary: an archive or a config.
std::unique_ptr<keras::Model> model_for_summary(const std::string& path) {
  switch (kind_of(path, "model file")) {
    case FileKind::kKeras:
      return keras::load_model(path);
    case FileKind::kConfig:
      return read_config(path);
    case FileKind::kLegacy:  // the architecture and weights; compiling is not needed here
      return keras::load_model(path, {.compile = false});
    case FileKind::kWeights:
      break;
  }
  throw ValueError("'" + path +
                   "' holds weights but no model config; give the .keras archive or the "
                   "config .json");
}

// The model with weights that `source` (and `config`, for a weights file) describe.
std::unique_ptr<keras::Model> model_for_convert(const std::string& source,
                                                const std::string& config) {
  FileKind kind = kind_of(source, "source");
  if (kind == FileKind::kConfig) {
    throw ValueError("source '" + source +
                     "' is a model config without weights; convert the weights file with "
                     "--config '" +
                     source + "'");
  }
  if (kind == FileKind::kKeras || kind == FileKind::kLegacy) {
    if (!config.empty()) {
      throw ValueError("--config '" + config + "': source '" + source +
                       "' is a model file, which carries its own config");
    }
    return keras::load_model(source);
  }
  if (config.empty()) {
    throw ValueError("source '" + source +
                     "' holds weights only; give the model's architecture with --config "
                     "CONFIG (a config .json or a .keras archive)");
  }
  FileKind config_kind = kind_of(config, "--config");
  if (config_kind == FileKind::kWeights) {
    throw ValueError("--config '" + config + "' is a weights file, not a model config");
  }
  std::unique_ptr<keras::Model> model =
      config_kind == FileKind::kConfig ? read_config(config) : keras::load_model(config);
  if (!model->built()) {
    throw ValueError("--config '" + config +
                     "' gives no input shape, so the weights cannot be placed");
  }
  keras::load_weights(*model, source);
  return model;
}

// The kind of `destination`. Throws ValueError naming it when trainyard cannot write it.
FileKind writable_kind(const std::string& destination) {
  return kind_of(destination, "destination");
}

void write_model(const keras::Model& model, const std::string& destination) {
  switch (writable_kind(destination)) {
    case FileKind::kKeras:
    case FileKind::kLegacy:  // save_model picks the format from the name
      keras::save_model(model, destination);
      return;
    case FileKind::kWeights:
      keras::save_weights(model, destination);
      return;
    case FileKind::kConfig:
      keras::saving::write_text_file_atomically(destination, keras::serialize_model(model));
      return;
  }
}

}  // namespace

void add_model_commands(CLI::App& app) {
  CLI::App* model = app.add_subcommand("model", "Inspect and convert Keras model files");
  model->require_subcommand(1);

  auto file = std::make_shared<std::string>();
  CLI::App* summary = model->add_subcommand(
      "summary",
      "Print Keras's model.summary() table for a .keras archive, a legacy .h5 model file or a "
      "config .json");
  summary->add_option("FILE", *file, "The model file")->required();
  summary->callback([file] { std::cout << model_for_summary(*file)->summary(); });

  auto source = std::make_shared<std::string>();
  auto destination = std::make_shared<std::string>();
  auto config = std::make_shared<std::string>();
  CLI::App* convert = model->add_subcommand(
      "convert",
      "Convert between .keras archives, legacy .h5 model files, .weights.h5 weights files and "
      "config .json files");
  convert
      ->add_option("SOURCE", *source,
                   "A .keras archive, a legacy .h5 model file or a .weights.h5 file")
      ->required();
  convert->add_option("DEST", *destination, "A .keras, .h5, .weights.h5 or .json file to write")
      ->required();
  convert->add_option("--config", *config,
                      "The architecture for a .weights.h5 SOURCE: a config .json or a .keras "
                      "archive");
  convert->callback([source, destination, config] {
    // Check the names, then read everything; the writers replace DEST only once it is whole.
    writable_kind(*destination);
    std::unique_ptr<keras::Model> loaded = model_for_convert(*source, *config);
    write_model(*loaded, *destination);
    std::cout << "wrote " << *destination << '\n';
  });
}

}  // namespace trainyard::cli
