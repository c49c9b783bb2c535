// Keras 3 weights files (model.save_weights("x.weights.h5") / model.load_weights): the HDF5
// layout Keras writes, so files move both ways between Keras and trainyard. The file holds
// a group per layer ("layers/dense/vars/0" is the first Dense layer's kernel), the model's
// own empty "vars" group, and the optimizer's state under "optimizer/vars" (keras-semantics.md
// 7(b), 7(d)). Thread safety: one call per model at a time.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace trainyard::keras {

class Model;

struct SaveWeightsOptions {
  // Also write the optimizer's state (iterations, learning rate, slots) when the model is
  // compiled and its optimizer built, as Keras always does.
  bool include_optimizer = true;
  // Extra scalar integer attributes on the file's root group; Keras ignores them.
  // BackupAndRestore records there which epoch the weights belong to.
  std::map<std::string, int64_t> root_attributes = {};
};

// Writes every weight of `model` to `path`, atomically: a crash leaves the old file or the
// new one, never a mix. Throws ValueError when `path` does not end in ".weights.h5" or the
// model is not built, IOError naming the file when it cannot be written.
void save_weights(const Model& model, const std::string& path,
                  const SaveWeightsOptions& options = {});

struct LoadWeightsOptions {
  // Load the file's optimizer state when the model's optimizer is built. false: leave the
  // optimizer as it is (the caller has said why).
  bool load_optimizer = true;
};

struct LoadWeightsResult {
  // Whether the file's optimizer state was loaded. It is skipped (with a warning on stderr,
  // as Keras warns) when the model's optimizer is not built yet: it is built by the first
  // fit() or train_on_batch().
  bool optimizer_loaded = false;
};

// Replaces the weights of `model` (and its optimizer's state, see above) with those in
// `path`. Every variable's shape and dtype are checked first: ShapeError lists every
// mismatch, missing or extra variable by layer and variable name, and nothing changes then.
// Files tf.keras 2.13 wrote (layers under "_layer_checkpoint_dependencies") are read too,
// their layer groups matched to the model's layers of the same class in order.
// Throws ValueError when the model is not built, IOError when the file cannot be opened,
// DataError naming the file when it is not HDF5, truncated or corrupt.
LoadWeightsResult load_weights(Model& model, const std::string& path,
                               const LoadWeightsOptions& options = {});

}  // namespace trainyard::keras
