// Keras model config JSON (model.to_json() / keras.models.model_from_json) for every layer
// trainyard has: InputLayer, Dense, Conv1D, Conv2D, Max/AveragePooling2D, GlobalMax/Average-
// Pooling2D, ZeroPadding2D, Flatten, Reshape, Dropout, Activation, BatchNormalization,
// LayerNormalization and Embedding in a Sequential model, and those plus Add and Concatenate
// in a Functional one (a ReLU layer at its defaults is read as Activation("relu")); L1/L2/L1L2
// weight regularizers on Dense and the convolutions. Reads the Keras 3 form ({"module": "keras",
// "class_name": "Sequential", ...}) and the tf.keras 2 form (no module, `batch_input_shape`, dtype
// strings, list-form inbound_nodes, BatchNormalization's axis as [3], top-level
// "keras_version"/"backend"); writes the Keras 3 form with every key Keras 3.15 writes, in its
// order, so Keras 3 reads it back (keras-semantics.md section 7(a)).
//
//   keras::Sequential model = keras::model_from_json(text);   // built when the config
//   std::string json = keras::to_json(model);                  // names an input shape
//   keras::Functional graph = keras::functional_from_json(json_of_a_functional_model);
//
// Nothing is dropped silently: an option trainyard does not support is accepted only at its
// Keras default (null constraints, `mask_zero: false`, `renorm: false`, ...); any other value
// is a ValueError naming the layer and the option. A normalization axis other than the last
// is refused when the layer is built, naming the layer and the axis.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keras/functional.h"
#include "keras/sequential.h"
#include "nn/losses.h"
#include "nn/optimizers/optimizers.h"

namespace trainyard::keras {

// The Sequential model a Keras config describes. Layer and model names are kept as written
// (no unique-name counter is consulted). When the config gives an input shape (InputLayer
// `batch_shape`, tf.keras `batch_input_shape`, `build_input_shape` or `build_config`), the
// model is built for it, so its weights exist; the batch dimension is not fixed.
// Throws ValueError naming the line and column of malformed JSON; naming the layer, its class
// and the option for an unknown layer class, an unknown option, or an option trainyard does
// not support yet at a value other than Keras's default ("layer 'dense_3' (Dense): option
// kernel_regularizer = {...} is not supported by trainyard yet"); and for a Functional model
// or any other model class; and for a model too large to allocate (over 2^31 parameters).
// Throws ShapeError when the layers do not fit the input shape.
Sequential model_from_json(std::string_view json);

// The Functional model a Keras 3 config describes ({"class_name": "Functional", ...}): its
// layers, each layer's calls from its "inbound_nodes" (a call may read a layer listed later,
// as Keras allows), and the model's inputs and outputs from "input_layers" and
// "output_layers" (one [layer, node, tensor] triple or a list of them). Names are kept as
// written; the model is built, as its Input layers give every shape. Throws ValueError like
// model_from_json, and for a call or endpoint naming a layer or call the config does not
// have, a tensor index other than 0, or a Sequential config; ShapeError when a layer does not
// fit the tensors it is called on.
Functional functional_from_json(std::string_view json);

// The model class a config names: "Sequential", "Functional" (tf.keras's "Model" is given
// as "Functional"). Throws ValueError for malformed JSON, a missing class_name or a class
// trainyard has no model for.
std::string model_class_of(std::string_view json);

// What compile() takes, as a config's `compile_config` holds it.
struct CompileConfig {
  nn::OptimizerPtr optimizer;            // null: not given
  std::optional<nn::LossFunction> loss;  // unset: not given
  std::vector<std::string> metrics;      // names as Keras takes them ("accuracy")
};

// The `compile_config` of a model config (Keras 3 writes one for compiled models), or nullopt
// when there is none. Optimizers: SGD, Adam, AdamW, RMSprop (string or object); losses:
// those nn::LossFunction knows (string or object); metrics: a list of names. Throws
// ValueError like model_from_json for malformed JSON and for options trainyard does not
// support (a learning-rate schedule, clipnorm, loss_weights, ...), naming the option.
std::optional<CompileConfig> compile_config_from_json(std::string_view json);

// The Keras 3 config of `model` as model.to_json() writes it: json.dumps's spacing
// (", " and ": "), Keras's key order, dtypes as DTypePolicy objects, initializers as objects,
// activations as bare strings ("swish" as "silu"). A built model gets an InputLayer entry
// (batch_shape from its input shape), `build_input_shape` and per-layer `build_config`s.
// model_from_json(to_json(m)) has the same config. Throws ValueError for a layer class this
// file cannot write (none of trainyard's today).
std::string to_json(const Sequential& model);
// The same with a `compile_config` (optimizer, loss, metrics) as a compiled Keras model has.
std::string to_json(const Sequential& model, const CompileConfig& compile_config);

// The Keras 3 config of a Functional model as model.to_json() writes it: every layer of
// model.layers (InputLayers included) with its "name" and "inbound_nodes", then
// "input_layers" and "output_layers" (a bare triple for a single input or output).
// functional_from_json(to_json(m)) has the same config.
std::string to_json(const Functional& model);
std::string to_json(const Functional& model, const CompileConfig& compile_config);

}  // namespace trainyard::keras
