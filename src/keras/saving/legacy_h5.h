// Legacy HDF5 model files, as model.save("m.h5") writes them in tf.keras 2 and Keras 3
// (keras-semantics.md 7(c)), read and written. The root's model_config attribute gives the
// model, its training_config the compile arguments, and the model_weights group the
// weights, matched as Keras matches them: the i-th layer with weights in the file to the
// i-th layer with weights in the model, each layer's weights in weight_names order.
#pragma once

#include <memory>
#include <string>

namespace trainyard::keras {
class Model;
}

namespace trainyard::keras::saving {

// The model in the legacy file at `path`, with its weights; compiled from the
// training_config when `compile` and it names a loss. The optimizer's state is not
// restored (its variable names vary by TensorFlow version); a warning on stderr says so
// when the file has one. Throws IOError when the file cannot be opened; DataError naming
// the file when it is not HDF5 or has no model_config; ValueError / ShapeError naming the
// file for a config trainyard cannot build, or weights that do not fit (every mismatch by
// layer and weight, nothing assigned then).
std::unique_ptr<Model> load_legacy_h5_model(const std::string& path, bool compile);

// Writes `model` to `path` as Keras 3's save_model_to_hdf5 does: keras_version, backend,
// model_config and (compiled, with `include_optimizer`) training_config at the root, the
// weights under model_weights, and the optimizer's state under optimizer_weights once it
// is built (Keras 3.15 reloads its iteration count and learning rate; trainyard's reader
// skips it). Loss aliases Keras's legacy loader cannot resolve ("mse") are written by
// their full names. Atomic: a failure leaves the old file or none. Throws ValueError when
// the model is not built or serialize_model refuses it, IOError naming the file when it
// cannot be written.
void save_legacy_h5_model(const Model& model, const std::string& path, bool include_optimizer);

}  // namespace trainyard::keras::saving
