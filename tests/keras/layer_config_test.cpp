// Keras model configs of BatchNormalization, LayerNormalization, Embedding, Conv1D,
// ZeroPadding2D and weight regularizers: round trips that predict bit for bit, the keys and
// defaults Keras 3.15 writes (its get_config; key sets checked against the Keras-written
// fixtures in shared/fixtures/keras where they have the layer), the tf.keras 2 forms, and
// refusals naming the layer and the option.
#include <gtest/gtest.h>
#include <trainyard/keras.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "keras/model_config.h"
#include "keras/saving/h5_file.h"
#include "keras/saving/model_file.h"

namespace trainyard::keras {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// Where the Keras-written fixtures live: shared/ beside the repository (CI's layout), or the
// developers' checkout. Empty when absent.
fs::path fixture(const std::string& name) {
  std::vector<fs::path> roots;
  if (const char* source = std::getenv("TRAINYARD_SOURCE_DIR")) {
    roots.push_back(fs::path(source) / ".." / "shared" / "fixtures" / "keras");
  }
  roots.push_back("/work/shared/fixtures/keras");
  for (const auto& root : roots) {
    if (fs::exists(root / name)) return root / name;
  }
  return {};
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> keys_of(const Json& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  return keys;
}

// Values in [0, limit) as floats, or a sine ramp when limit is 0.
Tensor inputs(const Shape& shape, int64_t limit) {
  Tensor tensor = Tensor::zeros(shape);
  float* data = tensor.data<float>();
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    data[i] = limit > 0 ? float((i * 7 + 3) % limit) : float(std::sin(double(i) * 0.37));
  }
  return tensor;
}

void expect_same_bits(const Tensor& expected, const Tensor& actual) {
  std::vector<float> want = expected.to_vector<float>(), got = actual.to_vector<float>();
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(std::memcmp(&want[i], &got[i], sizeof(float)), 0) << i;
  }
}

// Reads `model`'s config back, copies its weights over and checks that the copy writes the
// same config and predicts the same bits on `x`.
void expect_round_trip(Sequential& model, const Tensor& x) {
  std::string json = to_json(model);
  Sequential loaded = model_from_json(json);
  EXPECT_EQ(to_json(loaded), json);
  ASSERT_TRUE(loaded.built());
  auto source = model.weights();
  auto target = loaded.weights();
  ASSERT_EQ(source.size(), target.size());
  for (size_t i = 0; i < source.size(); ++i) {
    EXPECT_EQ(source[i]->path, target[i]->path);
    target[i]->value.copy_from(source[i]->value);
  }
  expect_same_bits(model.predict(x, {.verbose = 0}), loaded.predict(x, {.verbose = 0}));
}

Sequential batch_norm_cnn() {
  Sequential model({layers::Conv2D(4, 3, {.padding = "same", .kernel_regularizer = "l2"}),
                    layers::BatchNormalization({.momentum = 0.5}), layers::Activation("relu"),
                    layers::ZeroPadding2D({{1, 0}, {2, 1}}), layers::MaxPooling2D(2),
                    layers::Flatten(), layers::Dense(3, {.bias_regularizer = "l1"})},
                   "bn_cnn");
  model.build(Shape{-1, 6, 6, 2});
  return model;
}

Sequential embedding_model() {
  Sequential model({layers::Embedding(20, 6), layers::LayerNormalization({.epsilon = 1e-5}),
                    layers::Conv1D(4, 3, {.padding = "causal", .dilation_rate = {1, 2}}),
                    layers::Conv1D(2, 2, {.strides = {1, 2}}), layers::Flatten(), layers::Dense(2)},
                   "embedding_model");
  model.build(Shape{-1, 7});
  return model;
}

// Moves the BatchNormalization statistics away from their initial values, so that a round
// trip that lost them would predict differently.
void train_one_epoch(Sequential& model, const Tensor& x, int64_t classes) {
  model.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy"});
  Tensor y = inputs(Shape{x.shape()[0]}, classes);
  model.fit(x, y, {.batch_size = 4, .epochs = 1, .verbose = 0});
}

TEST(LayerConfigTest, SequentialCnnWithBatchNormalizationRoundTripsBitForBit) {
  Sequential model = batch_norm_cnn();
  train_one_epoch(model, inputs(Shape{8, 6, 6, 2}, 0), 3);
  expect_round_trip(model, inputs(Shape{5, 6, 6, 2}, 0));
}

TEST(LayerConfigTest, EmbeddingLayerNormalizationAndConv1DRoundTripBitForBit) {
  Sequential model = embedding_model();
  train_one_epoch(model, inputs(Shape{8, 7}, 20), 2);
  expect_round_trip(model, inputs(Shape{5, 7}, 20));
}

TEST(LayerConfigTest, KerasFilesOfTheseLayersLoadBitForBit) {
  fs::path directory =
      fs::temp_directory_path() / ("trainyard_layer_config_" + std::to_string(::getpid()));
  fs::create_directories(directory);
  for (auto make : {batch_norm_cnn, embedding_model}) {
    Sequential model = make();
    bool images = model.name() == "bn_cnn";
    Tensor x = images ? inputs(Shape{8, 6, 6, 2}, 0) : inputs(Shape{8, 7}, 20);
    train_one_epoch(model, x, images ? 3 : 2);
    std::string path = (directory / (model.name() + ".keras")).string();
    model.save(path);
    std::unique_ptr<Model> loaded = load_model(path);
    expect_same_bits(model.predict(x, {.verbose = 0}), loaded->predict(x, {.verbose = 0}));
    EXPECT_EQ(loaded->optimizer().iterations(), model.optimizer().iterations());
  }
  fs::remove_all(directory);
}

// Keras 3.15.1's get_config of each layer at its defaults (keys and values, in order), once
// built: LayerNormalization's build turns its axis into a list.
TEST(LayerConfigTest, WritesTheKeysAndDefaultsKerasWrites) {
  Sequential model(
      {layers::BatchNormalization({.name = "bn"}), layers::Flatten(),
       layers::Embedding(5, 3, {.name = "embed"}), layers::LayerNormalization({.name = "ln"}),
       layers::Conv1D(2, 3), layers::Reshape({1, 2, 2}), layers::ZeroPadding2D()},
      "defaults");
  model.build(Shape{-1, 4});
  Json root = Json::parse(to_json(model));
  const Json& layers = root["config"]["layers"];
  auto zeros = R"({"module": "keras.initializers", "class_name": "Zeros", "config": {},
                   "registered_name": null})";
  auto ones = R"({"module": "keras.initializers", "class_name": "Ones", "config": {},
                  "registered_name": null})";
  auto policy = R"({"module": "keras", "class_name": "DTypePolicy",
                    "config": {"name": "float32"}, "registered_name": null})";
  Json batch_norm =
      Json::parse(std::string(R"({"name": "bn", "trainable": true, "dtype": )") + policy +
                  R"(, "axis": -1, "momentum": 0.99, "epsilon": 0.001,
      "center": true, "scale": true, "beta_initializer": )" +
                  zeros + R"(, "gamma_initializer": )" + ones + R"(, "moving_mean_initializer": )" +
                  zeros + R"(, "moving_variance_initializer": )" + ones + R"(,
      "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null,
      "gamma_constraint": null, "synchronized": false, "renorm": false,
      "renorm_clipping": null, "renorm_momentum": 0.99})");
  EXPECT_EQ(layers[1]["config"], batch_norm);
  EXPECT_EQ(layers[1]["build_config"], Json::parse(R"({"input_shape": [null, 4]})"));
  Json embedding =
      Json::parse(std::string(R"({"name": "embed", "trainable": true, "dtype": )") + policy +
                  R"(, "input_dim": 5, "output_dim": 3, "embeddings_initializer": {
      "module": "keras.initializers", "class_name": "RandomUniform",
      "config": {"seed": null, "minval": -0.05, "maxval": 0.05}, "registered_name": null},
      "embeddings_regularizer": null, "activity_regularizer": null,
      "embeddings_constraint": null, "mask_zero": false, "quantization_config": null})");
  EXPECT_EQ(layers[3]["config"], embedding);
  Json layer_norm = Json::parse(std::string(R"({"name": "ln", "trainable": true, "dtype": )") +
                                policy + R"(, "axis": [-1], "epsilon": 0.001, "center": true,
      "scale": true, "rms_scaling": false, "beta_initializer": )" +
                                zeros + R"(, "gamma_initializer": )" + ones + R"(,
      "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null,
      "gamma_constraint": null})");
  EXPECT_EQ(layers[4]["config"], layer_norm);
  const Json& conv1d = layers[5]["config"];
  EXPECT_EQ(keys_of(conv1d),
            (std::vector<std::string>{
                "name", "trainable", "dtype", "filters", "kernel_size", "strides", "padding",
                "data_format", "dilation_rate", "groups", "activation", "use_bias",
                "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
                "activity_regularizer", "kernel_constraint", "bias_constraint"}));
  EXPECT_EQ(conv1d["kernel_size"], Json::parse("[3]"));
  EXPECT_EQ(conv1d["strides"], Json::parse("[1]"));
  EXPECT_EQ(conv1d["dilation_rate"], Json::parse("[1]"));
  EXPECT_EQ(conv1d["padding"], "valid");
  EXPECT_EQ(layers[7]["config"]["padding"], Json::parse("[[1, 1], [1, 1]]"));
  EXPECT_EQ(layers[7]["config"]["data_format"], "channels_last");
  EXPECT_EQ(layers[7]["build_config"], Json::parse(R"({"input_shape": [null, 1, 2, 2]})"));
}

TEST(LayerConfigTest, RegularizersAreWrittenAsKerasObjectsAndReadBack) {
  Sequential model = batch_norm_cnn();
  Json root = Json::parse(to_json(model));
  const Json& conv = root["config"]["layers"][1]["config"];
  EXPECT_EQ(conv["kernel_regularizer"],
            Json::parse(R"({"module": "keras.regularizers", "class_name": "L2",
                            "config": {"l2": 0.01}, "registered_name": null})"));
  EXPECT_EQ(conv["bias_regularizer"], nullptr);
  const Json& dense = root["config"]["layers"][7]["config"];
  EXPECT_EQ(dense["bias_regularizer"]["class_name"], "L1");
  Sequential loaded = model_from_json(root.dump());
  auto* read = dynamic_cast<nn::Conv2D*>(loaded.layers()[0].get());
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(read->options().kernel_regularizer, nn::regularizers::L2(0.01));
  // The identifier form and L1L2 of tf.keras 2 configs.
  root["config"]["layers"][1]["config"]["kernel_regularizer"] = "l1_l2";
  root["config"]["layers"][7]["config"]["kernel_regularizer"] =
      Json::parse(R"({"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.5}})");
  loaded = model_from_json(root.dump());
  read = dynamic_cast<nn::Conv2D*>(loaded.layers()[0].get());
  EXPECT_EQ(read->options().kernel_regularizer, nn::regularizers::L1L2(0.01, 0.01));
  auto* read_dense = dynamic_cast<nn::Dense*>(loaded.layers()[6].get());
  ASSERT_NE(read_dense, nullptr);
  EXPECT_EQ(read_dense->options().kernel_regularizer, nn::regularizers::L1L2(0.0, 0.5));
}

// A Sequential config of an InputLayer on `batch_shape` and one layer `class_name` with
// `layer_config`.
std::string one_layer_model(const std::string& class_name, const Json& layer_config,
                            const Json& batch_shape) {
  Json config = layer_config;
  config["name"] = "it";
  Json model{{"class_name", "Sequential"},
             {"config",
              {{"name", "m"},
               {"layers",
                {{{"class_name", "InputLayer"},
                  {"config", {{"batch_shape", batch_shape}, {"name", "in"}}}},
                 {{"class_name", class_name}, {"config", config}}}}}}};
  return model.dump();
}

std::string load_error(const std::string& json) {
  try {
    model_from_json(json);
  } catch (const ValueError& error) {
    return error.what();
  }
  return "";
}

// Keras 3's synchronized=True (SyncBatchNormalization under a strategy) is read and written.
TEST(LayerConfigTest, SynchronizedBatchNormalizationRoundTrips) {
  Sequential model = model_from_json(one_layer_model(
      "BatchNormalization", Json{{"synchronized", true}}, Json::parse("[null, 4, 4, 3]")));
  auto* batch_norm = dynamic_cast<nn::BatchNormalization*>(model.layers()[0].get());
  ASSERT_NE(batch_norm, nullptr);
  EXPECT_TRUE(batch_norm->options().synchronized);
  Json written = Json::parse(to_json(model))["config"]["layers"][1]["config"];
  EXPECT_EQ(written["synchronized"], true);
}

TEST(LayerConfigTest, RefusalsNameTheLayerAndTheOption) {
  Json image = Json::parse("[null, 4, 4, 3]");
  Json tokens = Json::parse("[null, 5]");
  struct Case {
    std::string class_name;
    Json config;
    Json shape;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"BatchNormalization",
       {{"renorm", true}},
       image,
       "layer 'it' (BatchNormalization): option renorm = true is not supported"},
      {"BatchNormalization",
       {{"gamma_regularizer", Json::parse(R"({"class_name": "L2", "config": {"l2": 0.1}})")}},
       image,
       "layer 'it' (BatchNormalization): option gamma_regularizer = "},
      {"BatchNormalization",
       {{"axis", Json::parse("[1, 2]")}},
       image,
       "layer 'it' (BatchNormalization): option axis = [1,2]"},
      {"BatchNormalization",
       {{"axis", 0}},
       image,
       "layer 'it' (BatchNormalization): option axis = 0 is the batch axis"},
      {"BatchNormalization",
       {{"momentum", 1.5}},
       image,
       "layer 'it' (BatchNormalization): option momentum = 1.5 must be in [0, 1]"},
      {"BatchNormalization",
       {{"axis", 1}},
       image,
       "BatchNormalization 'it': only the last axis (-1) is supported, got axis=1"},
      {"LayerNormalization",
       {{"rms_scaling", true}},
       image,
       "layer 'it' (LayerNormalization): option rms_scaling = true"},
      {"LayerNormalization",
       {{"epsilon", 0}},
       image,
       "layer 'it' (LayerNormalization): option epsilon = 0 must be a positive number"},
      {"LayerNormalization",
       {{"axis", 2}},
       image,
       "LayerNormalization 'it': only the last axis (-1) is supported, got axis=2"},
      {"Embedding",
       {{"input_dim", 9}, {"output_dim", 2}, {"mask_zero", true}},
       tokens,
       "layer 'it' (Embedding): option mask_zero = true is not supported"},
      {"Embedding",
       {{"input_dim", 9},
        {"output_dim", 2},
        {"embeddings_constraint", Json::parse(R"({"class_name": "NonNeg", "config": {}})")}},
       tokens,
       "layer 'it' (Embedding): option embeddings_constraint = "},
      {"Embedding",
       {{"output_dim", 2}},
       tokens,
       "layer 'it' (Embedding): options input_dim and output_dim are required"},
      {"Embedding",
       {{"input_dim", 100000000}, {"output_dim", 100}},
       tokens,
       "layer 'it' (Embedding): option input_dim = 100000000 is too large"},
      {"Conv1D",
       {{"filters", 2}, {"kernel_size", 3}, {"padding", "full"}},
       tokens,
       "layer 'it' (Conv1D): option padding = \"full\" must be"},
      {"Conv1D",
       {{"filters", 2}, {"kernel_size", Json::parse("[3, 3]")}},
       tokens,
       "layer 'it' (Conv1D): option kernel_size = [3,3] must be one integer"},
      {"Conv1D",
       {{"filters", 2}, {"kernel_size", 3}, {"data_format", "channels_first"}},
       tokens,
       "layer 'it' (Conv1D): option data_format = \"channels_first\""},
      {"Dense",
       {{"units", 2},
        {"kernel_regularizer",
         Json::parse(R"({"class_name": "OrthogonalRegularizer", "config": {"factor": 0.01}})")}},
       tokens,
       "layer 'it' (Dense): option kernel_regularizer = {\"class_name\":\"Orthogonal"},
      {"Dense",
       {{"units", 2}, {"kernel_regularizer", "l3"}},
       tokens,
       "layer 'it' (Dense): option kernel_regularizer = \"l3\" is not a regularizer"},
      {"ZeroPadding2D",
       {{"padding", -1}},
       image,
       "layer 'it' (ZeroPadding2D): option padding = -1 must hold integers from 0"},
  };
  for (const Case& c : cases) {
    std::string json = one_layer_model(c.class_name, c.config, c.shape);
    std::string message = load_error(json);
    EXPECT_NE(message.find(c.expected), std::string::npos)
        << c.class_name << " " << c.config.dump() << ": " << message;
  }
}

TEST(LayerConfigTest, ReadsTheTfKeras2FormsOfTheseLayers) {
  // tf.keras 2 writes BatchNormalization's axis as a list, dtype as a string, initializers
  // without module, Embedding's input_length, and no renorm keys unless renorm is on.
  std::string json = R"({"class_name": "Sequential", "config": {"name": "sequential",
    "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6],
        "dtype": "float32", "sparse": false, "ragged": false, "name": "embedding_input"}},
      {"class_name": "Embedding", "config": {"name": "embedding", "trainable": true,
        "batch_input_shape": [null, 6], "dtype": "float32", "input_dim": 10, "output_dim": 4,
        "embeddings_initializer": {"class_name": "RandomUniform",
          "config": {"minval": -0.05, "maxval": 0.05, "seed": null}},
        "embeddings_regularizer": null, "activity_regularizer": null,
        "embeddings_constraint": null, "mask_zero": false, "input_length": 6}},
      {"class_name": "BatchNormalization", "config": {"name": "batch_normalization",
        "trainable": true, "dtype": "float32", "axis": [2], "momentum": 0.9,
        "epsilon": 0.001, "center": true, "scale": false,
        "beta_initializer": {"class_name": "Zeros", "config": {}},
        "gamma_initializer": {"class_name": "Ones", "config": {}},
        "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
        "moving_variance_initializer": {"class_name": "Ones", "config": {}},
        "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null,
        "gamma_constraint": null}},
      {"class_name": "LayerNormalization", "config": {"name": "layer_normalization",
        "trainable": true, "dtype": "float32", "axis": [2], "epsilon": 0.001,
        "center": true, "scale": true,
        "beta_initializer": {"class_name": "Zeros", "config": {}},
        "gamma_initializer": {"class_name": "Ones", "config": {}},
        "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null,
        "gamma_constraint": null}}]},
    "keras_version": "2.11.0", "backend": "tensorflow"})";
  Sequential model = model_from_json(json);
  ASSERT_TRUE(model.built());
  auto* embedding = dynamic_cast<nn::Embedding*>(model.layers()[0].get());
  auto* batch_norm = dynamic_cast<nn::BatchNormalization*>(model.layers()[1].get());
  auto* layer_norm = dynamic_cast<nn::LayerNormalization*>(model.layers()[2].get());
  ASSERT_TRUE(embedding && batch_norm && layer_norm);
  EXPECT_EQ(embedding->input_dim(), 10);
  EXPECT_EQ(batch_norm->options().axis, 2);
  EXPECT_EQ(batch_norm->options().momentum, 0.9);
  EXPECT_FALSE(batch_norm->options().scale);
  EXPECT_EQ(batch_norm->gamma(), nullptr);
  EXPECT_EQ(layer_norm->options().axis, 2);
  EXPECT_EQ(model.count_params(), 10 * 4 + 3 * 4 + 2 * 4);
  Json written = Json::parse(to_json(model));
  EXPECT_EQ(written["config"]["layers"][2]["config"]["axis"], 2);
  EXPECT_EQ(written["config"]["layers"][2]["config"]["dtype"]["class_name"], "DTypePolicy");
}

TEST(LayerConfigTest, TfKeras2FunctionalConv1DFixtureLoadsAndKeepsKerasKeys) {
  fs::path path = fixture("tfkeras2_functional_conv1d.to_json.json");
  if (path.empty()) {
    GTEST_SKIP() << "shared/fixtures/keras/tfkeras2_functional_conv1d.to_json.json absent";
  }
  std::string text = read_text(path);
  Functional model = functional_from_json(text);
  ASSERT_EQ(model.layers().size(), 2u);
  auto* conv = dynamic_cast<nn::Conv1D*>(model.layers()[1].get());
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->filters(), 1);
  EXPECT_EQ(conv->kernel_size(), 3);
  EXPECT_EQ(model.count_params(), 3 * 5 + 1);
  // tf.keras 2.11 and Keras 3 write the same Conv1D keys; trainyard writes each with the
  // fixture's value (initializers gain Keras 3's module and registered_name).
  Json expected = Json::parse(text)["config"]["layers"][1]["config"];
  Json written = Json::parse(to_json(model))["config"]["layers"][1]["config"];
  EXPECT_EQ(keys_of(written), keys_of(expected));
  for (const auto& [key, value] : expected.items()) {
    if (key == "dtype" || key.ends_with("_initializer")) continue;
    EXPECT_EQ(written[key], value) << key;
  }
  EXPECT_EQ(written["kernel_initializer"]["class_name"], "GlorotUniform");
}

TEST(LayerConfigTest, ReadsTfKeras2ListFormInboundNodes) {
  // tf.keras 2 lists a call's inputs as [layer, node, tensor, kwargs]; a merge has several.
  Json config = Json::parse(R"({"class_name": "Functional", "config": {"name": "m", "layers": [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "dtype": "float32",
      "sparse": false, "ragged": false, "name": "a"}, "name": "a", "inbound_nodes": []},
    {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "dtype": "float32",
      "sparse": false, "ragged": false, "name": "b"}, "name": "b", "inbound_nodes": []},
    {"class_name": "Add", "config": {"name": "add", "trainable": true, "dtype": "float32"},
      "name": "add", "inbound_nodes": [[["a", 0, 0, {}], ["b", 0, 0, {}]]]}],
    "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["add", 0, 0]]},
    "keras_version": "2.11.0", "backend": "tensorflow"})");
  Functional model = functional_from_json(config.dump());
  Tensor a = inputs(Shape{2, 3}, 0), b = inputs(Shape{2, 3}, 5);
  std::vector<float> sum = model.predict(Tensors{a, b}, {.verbose = 0})[0].to_vector<float>();
  for (size_t i = 0; i < sum.size(); ++i) {
    EXPECT_EQ(sum[i], a.to_vector<float>()[i] + b.to_vector<float>()[i]) << i;
  }
  config["config"]["layers"][2]["inbound_nodes"][0][1][3] = Json{{"mask", true}};
  try {
    functional_from_json(config.dump());
    ADD_FAILURE() << "a mask argument was accepted";
  } catch (const ValueError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("layer 'add' (Add): inbound_nodes[0] kwargs: option mask = true"),
              std::string::npos)
        << message;
  }
}

TEST(LayerConfigTest, TfKeras2BatchNormalizationFixtureKeepsKerasKeys) {
  fs::path path = fixture("tfkeras2_functional_cnn_bn.h5");
  if (path.empty()) GTEST_SKIP() << "shared/fixtures/keras/tfkeras2_functional_cnn_bn.h5 absent";
  saving::H5File file = saving::H5File::open_read_only(path.string());
  std::optional<std::string> text = file.string_attribute("/", "model_config");
  ASSERT_TRUE(text.has_value());
  Json expected;
  Json model_config = Json::parse(*text);
  for (const Json& layer : model_config["config"]["layers"]) {
    if (layer["class_name"] == "BatchNormalization") expected = layer["config"];
  }
  ASSERT_TRUE(expected.is_object()) << "the fixture has no BatchNormalization";
  std::string json =
      one_layer_model("BatchNormalization", expected, Json::parse("[null, 5, 5, 4]"));
  Sequential model = model_from_json(json);
  auto* batch_norm = dynamic_cast<nn::BatchNormalization*>(model.layers()[0].get());
  ASSERT_NE(batch_norm, nullptr);
  EXPECT_EQ(batch_norm->options().momentum, expected["momentum"].get<double>());
  EXPECT_EQ(batch_norm->options().epsilon, expected["epsilon"].get<double>());
  // Keras 3 writes the tf.keras 2 keys and adds synchronized and the renorm ones.
  Json written = Json::parse(to_json(model))["config"]["layers"][1]["config"];
  std::vector<std::string> tf_keras_keys = keys_of(expected);
  std::vector<std::string> keras3_keys = keys_of(written);
  std::vector<std::string> added(keras3_keys.begin() + std::ptrdiff_t(tf_keras_keys.size()),
                                 keras3_keys.end());
  keras3_keys.resize(tf_keras_keys.size());
  EXPECT_EQ(keras3_keys, tf_keras_keys);
  EXPECT_EQ(added, (std::vector<std::string>{"synchronized", "renorm", "renorm_clipping",
                                             "renorm_momentum"}));
  EXPECT_EQ(written["axis"], expected["axis"][0]);
}

}  // namespace
}  // namespace trainyard::keras
