// trainyard's Keras-style API in one include. A Keras user should recognise every line:
//
//   namespace k = trainyard::keras;
//   auto model = k::Sequential({
//       k::layers::Flatten(),
//       k::layers::Dense(128, {.activation = "relu"}),
//       k::layers::Dense(10),
//   });
//   model.compile({.optimizer = k::optimizers::Adam({.learning_rate = 1e-3}),
//                  .loss = k::losses::SparseCategoricalCrossentropy({.from_logits = true}),
//                  .metrics = {"accuracy"}});
//   auto history = model.fit(x_train, y_train, {.batch_size = 32, .epochs = 10});
//
// The Functional API: layers called on symbolic tensors, several inputs and outputs.
//
//   auto image = k::Input({784}, "image");
//   auto tags = k::Input({20}, "tags");
//   auto features = k::layers::Concatenate()(
//       {k::layers::Dense(64, {.activation = "relu"})(image), tags});
//   k::Functional model({image, tags}, {k::layers::Dense(10, {.name = "digit"})(features),
//                                       k::layers::Dense(1, {.name = "score"})(features)});
//   model.compile({.optimizer = "adam",
//                  .losses = {k::losses::SparseCategoricalCrossentropy({.from_logits = true}),
//                             "mse"},
//                  .loss_weights = {1.0, 0.2}});
//   model.fit({x_image, x_tags}, {y_digit, y_score});
//   std::cout << model.summary();
#pragma once

#include <memory>

#include "core/random.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "data/dataset.h"
#include "data/fashion_mnist.h"
#include "keras/callbacks/backup_and_restore.h"
#include "keras/callbacks/csv_logger.h"
#include "keras/callbacks/early_stopping.h"
#include "keras/callbacks/learning_rate.h"
#include "keras/callbacks/model_checkpoint.h"
#include "keras/callbacks/terminate_on_nan.h"
#include "keras/functional.h"
#include "keras/keras_tensor.h"
#include "keras/model.h"
#include "keras/saving/model_file.h"
#include "keras/saving/weights_file.h"
#include "keras/sequential.h"
#include "nn/dtype_policy.h"
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
#include "nn/losses.h"
#include "nn/optimizers/optimizers.h"

namespace trainyard::keras {

namespace layers {
inline LayerHandle<nn::Dense> Dense(int64_t units, nn::DenseOptions options = {}) {
  return std::make_shared<nn::Dense>(units, std::move(options));
}
inline LayerHandle<nn::Conv2D> Conv2D(int64_t filters, nn::Size2 kernel_size,
                                      nn::ConvOptions options = {}) {
  return std::make_shared<nn::Conv2D>(filters, kernel_size, std::move(options));
}
inline LayerHandle<nn::Conv1D> Conv1D(int64_t filters, int64_t kernel_size,
                                      nn::ConvOptions options = {}) {
  return std::make_shared<nn::Conv1D>(filters, kernel_size, std::move(options));
}
inline LayerHandle<nn::Pooling2D> MaxPooling2D(nn::Size2 pool_size = 2,
                                               nn::PoolingOptions options = {}) {
  return std::make_shared<nn::Pooling2D>(backend::PoolKind::kMax, pool_size, std::move(options));
}
// Keras 3 has no default pool size for AveragePooling2D.
inline LayerHandle<nn::Pooling2D> AveragePooling2D(nn::Size2 pool_size,
                                                   nn::PoolingOptions options = {}) {
  return std::make_shared<nn::Pooling2D>(backend::PoolKind::kAverage, pool_size,
                                         std::move(options));
}
inline LayerHandle<nn::GlobalPooling2D> GlobalAveragePooling2D(std::string name = "") {
  return std::make_shared<nn::GlobalPooling2D>(backend::PoolKind::kAverage, std::move(name));
}
inline LayerHandle<nn::GlobalPooling2D> GlobalMaxPooling2D(std::string name = "") {
  return std::make_shared<nn::GlobalPooling2D>(backend::PoolKind::kMax, std::move(name));
}
inline LayerHandle<nn::Flatten> Flatten(std::string name = "") {
  return std::make_shared<nn::Flatten>(std::move(name));
}
inline LayerHandle<nn::Reshape> Reshape(std::vector<int64_t> target_shape, std::string name = "") {
  return std::make_shared<nn::Reshape>(std::move(target_shape), std::move(name));
}
inline LayerHandle<nn::Dropout> Dropout(double rate, nn::DropoutOptions options = {}) {
  return std::make_shared<nn::Dropout>(rate, std::move(options));
}
inline LayerHandle<nn::ActivationLayer> Activation(const std::string& activation,
                                                   std::string name = "") {
  return std::make_shared<nn::ActivationLayer>(activation, std::move(name));
}
inline LayerHandle<nn::BatchNormalization> BatchNormalization(
    nn::BatchNormalizationOptions options = {}) {
  return std::make_shared<nn::BatchNormalization>(std::move(options));
}
inline LayerHandle<nn::LayerNormalization> LayerNormalization(
    nn::LayerNormalizationOptions options = {}) {
  return std::make_shared<nn::LayerNormalization>(std::move(options));
}
inline LayerHandle<nn::Embedding> Embedding(int64_t input_dim, int64_t output_dim,
                                            nn::EmbeddingOptions options = {}) {
  return std::make_shared<nn::Embedding>(input_dim, output_dim, std::move(options));
}
// Merge layers take a list of inputs (the Functional API).
inline LayerHandle<nn::Add> Add(std::string name = "") {
  return std::make_shared<nn::Add>(std::move(name));
}
inline LayerHandle<nn::Concatenate> Concatenate(int64_t axis = -1, std::string name = "") {
  return std::make_shared<nn::Concatenate>(axis, std::move(name));
}
// ZeroPadding2D(1), ZeroPadding2D({2, 1}) or ZeroPadding2D({{1, 0}, {0, 2}}).
inline LayerHandle<nn::ZeroPadding2D> ZeroPadding2D(nn::Padding2 padding = 1,
                                                    std::string name = "") {
  return std::make_shared<nn::ZeroPadding2D>(padding, std::move(name));
}
}  // namespace layers

// keras.mixed_precision: set_global_policy("mixed_bfloat16") before building layers keeps
// their variables in float32 and computes in bfloat16.
namespace mixed_precision {
using nn::DTypePolicy;
using nn::global_policy;
using nn::set_global_policy;
}  // namespace mixed_precision

namespace optimizers {
inline std::shared_ptr<nn::Sgd> SGD(nn::SgdOptions options = {}) {
  return std::make_shared<nn::Sgd>(std::move(options));
}
inline std::shared_ptr<nn::Adam> Adam(nn::AdamOptions options = {}) {
  return std::make_shared<nn::Adam>(std::move(options));
}
// Keras's AdamW: Adam with decoupled weight decay, 0.004 unless given.
inline std::shared_ptr<nn::AdamW> AdamW(nn::AdamWOptions options = {}) {
  return std::make_shared<nn::AdamW>(std::move(options));
}
inline std::shared_ptr<nn::Rmsprop> RMSprop(nn::RmspropOptions options = {}) {
  return std::make_shared<nn::Rmsprop>(std::move(options));
}
namespace schedules {
using nn::CosineDecay;
using nn::ExponentialDecay;
using nn::PiecewiseConstantDecay;
}  // namespace schedules
}  // namespace optimizers

namespace losses = nn::losses;
namespace initializers = nn::initializers;
namespace regularizers = nn::regularizers;

// keras.callbacks factories, ready for FitOptions::callbacks:
//   model.fit(x, y, {.epochs = 10, .callbacks = {k::callbacks::BackupAndRestore("backup"),
//                                               k::callbacks::ModelCheckpoint(
//                                                   "ckpt-{epoch:02d}.keras")}});
namespace callbacks {
inline std::shared_ptr<keras::EarlyStopping> EarlyStopping(EarlyStoppingOptions options = {}) {
  return std::make_shared<keras::EarlyStopping>(std::move(options));
}
inline std::shared_ptr<keras::ModelCheckpoint> ModelCheckpoint(
    std::string filepath, ModelCheckpointOptions options = {}) {
  return std::make_shared<keras::ModelCheckpoint>(std::move(filepath), std::move(options));
}
inline std::shared_ptr<keras::BackupAndRestore> BackupAndRestore(
    std::string backup_dir, BackupAndRestoreOptions options = {}) {
  return std::make_shared<keras::BackupAndRestore>(std::move(backup_dir), std::move(options));
}
}  // namespace callbacks

namespace utils {
// keras.utils.set_random_seed: makes initializers, dropout and shuffling reproducible.
inline void set_random_seed(uint64_t seed) {
  trainyard::set_random_seed(seed);
}
}  // namespace utils

}  // namespace trainyard::keras
