// Whole-model files: model.save("x.keras") and keras.models.load_model("x.keras") in Keras
// 3's archive format (keras-semantics.md 7(b)), and the model config with its
// compile_config that such a file carries. A reloaded model predicts bit for bit what the
// saved one did and, with its optimizer state, trains on exactly as the saved one would.
//
//   model.save("model.keras");
//   std::unique_ptr<keras::Model> copy = keras::load_model("model.keras");
//
// Thread safety: one call per model at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace trainyard::keras {

class Model;

// The Keras 3 config of `model` (Sequential or Functional) as config.json holds it, with
// a compile_config (optimizer, loss, metrics) when the model is compiled. Throws
// ValueError for a compiled model whose compile arguments the config cannot express yet
// (several outputs, loss weights), and as to_json does.
std::string serialize_model(const Model& model);

struct DeserializeOptions {
  // Compile the model from the config's compile_config when it names a loss (with RMSprop,
  // Keras's default, when it names no optimizer). A compile_config without a loss leaves
  // the model uncompiled: trainyard cannot compile without one.
  bool compile = true;
};

// The model a Keras config describes, Sequential or Functional, built when the config
// gives its input shapes. Throws ValueError / ShapeError as model_from_json,
// functional_from_json and compile_config_from_json do.
std::unique_ptr<Model> deserialize_model(std::string_view json,
                                         const DeserializeOptions& options = {});

struct SaveModelOptions {
  // Also save the optimizer's state (iterations, learning rate, slots) once it is built.
  bool include_optimizer = true;
};

// Writes `model` to `path` as a Keras 3 archive: metadata.json, config.json (with the
// compile_config) and model.weights.h5 (with the optimizer state); a path ending in ".h5"
// (not ".weights.h5") is written as a legacy HDF5 model file instead (legacy_h5.h). Atomic:
// a failure or a crash leaves the old file or none, never a partial file. Throws ValueError
// when `path` ends in neither or the model is not built, IOError naming the file when it
// cannot be written, ValueError as serialize_model does.
void save_model(const Model& model, const std::string& path, const SaveModelOptions& options = {});

struct LoadModelOptions {
  // Compile from the archive's compile_config (see DeserializeOptions) and, when the
  // config names the optimizer, restore its state so training continues where it stopped.
  bool compile = true;
};

// The model in the Keras archive at `path`, with its weights and optimizer state; a path
// ending in ".h5" (not ".weights.h5") is read as a legacy model file instead (legacy_h5.h,
// without the optimizer state). Layers
// are matched as Keras 3 writes them, and as tf.keras 2.13 wrote them
// ("_layer_checkpoint_dependencies"). The optimizer state is skipped, with a warning on
// stderr as Keras gives, when the compile_config does not name the optimizer it belongs
// to. Throws IOError when the file cannot be read; DataError naming the file and the
// entry for a hostile or damaged archive (see keras_archive.h), a weights entry larger
// than the model could need, or corrupt HDF5; ValueError / ShapeError naming the file for
// a config trainyard cannot build or weights that do not fit it (every mismatch by layer
// and variable). Nothing is written outside a private temporary directory.
std::unique_ptr<Model> load_model(const std::string& path, const LoadModelOptions& options = {});

}  // namespace trainyard::keras
