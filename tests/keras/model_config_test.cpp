// Keras model config JSON: round trips, real Keras output (shared/fixtures/keras), and the
// errors for what trainyard cannot load yet.
#include "keras/model_config.h"

#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nn/naming.h"

namespace trainyard::keras {
namespace {

using Json = nlohmann::ordered_json;

// Where the Keras-written fixtures live: shared/ beside the repository (CI's layout), or the
// developers' checkout. Empty when absent.
std::filesystem::path fixture(const std::string& name) {
  std::vector<std::filesystem::path> roots;
  if (const char* source = std::getenv("TRAINYARD_SOURCE_DIR")) {
    roots.push_back(std::filesystem::path(source) / ".." / "shared" / "fixtures" / "keras");
  }
  roots.push_back("/work/shared/fixtures/keras");
  for (const auto& root : roots) {
    if (std::filesystem::exists(root / name)) return root / name;
  }
  return {};
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The message model_from_json throws for `json` (empty when it does not throw ValueError).
std::string load_error(const std::string& json) {
  try {
    model_from_json(json);
  } catch (const ValueError& error) {
    return error.what();
  }
  return "";
}

// The message compile_config_from_json throws for `json` (empty when it does not throw
// ValueError).
std::string compile_error(const std::string& json) {
  try {
    compile_config_from_json(json);
  } catch (const ValueError& error) {
    return error.what();
  }
  return "";
}

// A Keras 3 config of one Dense layer on [null, 3] inputs, with `dense_config` merged into
// the layer's config.
std::string dense_model(const Json& dense_config) {
  Json config{{"name", "dense_3"}, {"trainable", true}, {"dtype", "float32"}, {"units", 2}};
  for (const auto& [key, value] : dense_config.items()) config[key] = value;
  Json model{
      {"module", "keras"},
      {"class_name", "Sequential"},
      {"config",
       {{"name", "sequential"},
        {"layers",
         {{{"module", "keras.layers"},
           {"class_name", "InputLayer"},
           {"config", {{"batch_shape", {nullptr, 3}}, {"dtype", "float32"}, {"name", "in"}}}},
          {{"module", "keras.layers"}, {"class_name", "Dense"}, {"config", config}}}}}}};
  return model.dump();
}

Tensor ramp(const Shape& shape, double step) {
  Tensor tensor = Tensor::zeros(shape);
  float* data = tensor.data<float>();
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    data[i] = static_cast<float>(std::sin(double(i) * step));
  }
  return tensor;
}

Sequential every_layer_model() {
  nn::DenseOptions first{.activation = "relu", .name = "hidden"};
  first.kernel_initializer = nn::initializers::RandomNormal(0.0, 0.1, 3);
  first.bias_initializer = nn::initializers::Constant(0.25);
  nn::DenseOptions second{.activation = "swish", .use_bias = false};
  second.kernel_initializer = nn::initializers::VarianceScaling(2.0, "fan_out", "uniform", 5);
  Sequential model(
      {layers::Flatten(), layers::Dense(12, first), layers::Dropout(0.25, {.seed = 7}),
       layers::Dense(10, second), layers::Reshape({2, 5}), layers::Activation("softmax")},
      "every_layer");
  model.build(Shape{-1, 4, 4});
  return model;
}

TEST(ModelConfigTest, RoundTripKeepsTheConfigAndThePredictions) {
  Sequential original = every_layer_model();
  std::string json = to_json(original);
  Sequential loaded = model_from_json(json);
  EXPECT_EQ(to_json(loaded), json);
  ASSERT_TRUE(loaded.built());
  EXPECT_EQ(loaded.name(), "every_layer");

  auto source = original.weights();
  auto target = loaded.weights();
  ASSERT_EQ(source.size(), target.size());
  for (size_t i = 0; i < source.size(); ++i) {
    EXPECT_EQ(source[i]->path, target[i]->path);
    target[i]->value.copy_from(source[i]->value);
  }
  Tensor x = ramp(Shape{7, 4, 4}, 0.37);
  std::vector<float> expected = original.predict(x).to_vector<float>();
  std::vector<float> actual = loaded.predict(x).to_vector<float>();
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(std::memcmp(&expected[i], &actual[i], sizeof(float)), 0) << i;
  }
}

TEST(ModelConfigTest, WritesKeras3FormAsJsonDumpsDoes) {
  std::string json = to_json(every_layer_model());
  // json.dumps's default separators and Keras's top-level key order.
  EXPECT_EQ(json.rfind(R"({"module": "keras", "class_name": "Sequential", "config": {"name": )", 0),
            0u)
      << json.substr(0, 120);
  Json root = Json::parse(json);
  EXPECT_EQ(root["registered_name"], nullptr);
  EXPECT_EQ(root["build_config"]["input_shape"], Json::parse("[null, 4, 4]"));
  const Json& layers = root["config"]["layers"];
  ASSERT_EQ(layers.size(), 7u);
  EXPECT_EQ(layers[0]["class_name"], "InputLayer");
  EXPECT_EQ(layers[0]["config"]["batch_shape"], Json::parse("[null, 4, 4]"));
  EXPECT_EQ(layers[0]["config"]["dtype"], "float32");  // a plain string for InputLayer

  // Dense: Keras's get_config keys in order (keras-semantics.md 1.2, quantization_config
  // since 3.13); the dtype as a DTypePolicy object; activations as bare strings.
  const Json& dense = layers[2];
  EXPECT_EQ(dense["module"], "keras.layers");
  std::vector<std::string> keys;
  for (const auto& [key, value] : dense["config"].items()) keys.push_back(key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"name", "trainable", "dtype", "units", "activation",
                                      "use_bias", "kernel_initializer", "bias_initializer",
                                      "kernel_regularizer", "bias_regularizer", "kernel_constraint",
                                      "bias_constraint", "quantization_config"}));
  EXPECT_EQ(dense["config"]["dtype"],
            Json::parse(R"({"module": "keras", "class_name": "DTypePolicy",
                            "config": {"name": "float32"}, "registered_name": null})"));
  EXPECT_EQ(dense["config"]["kernel_initializer"],
            Json::parse(R"({"module": "keras.initializers", "class_name": "RandomNormal",
                            "config": {"seed": 3, "mean": 0.0, "stddev": 0.1},
                            "registered_name": null})"));
  EXPECT_EQ(dense["config"]["bias_initializer"]["class_name"], "Constant");
  EXPECT_EQ(dense["config"]["bias_initializer"]["config"]["value"], 0.25);
  EXPECT_EQ(dense["build_config"]["input_shape"], Json::parse("[null, 16]"));
  EXPECT_EQ(layers[4]["config"]["activation"], "silu");  // "swish" is written as "silu"
  EXPECT_EQ(layers[4]["config"]["kernel_initializer"]["config"]["mode"], "fan_out");
  EXPECT_EQ(layers[3].count("build_config"), 0u);  // Dropout is built when created
  EXPECT_EQ(layers[5]["config"]["target_shape"], Json::parse("[2, 5]"));
  EXPECT_EQ(layers[6]["config"]["activation"], "softmax");
}

TEST(ModelConfigTest, UnbuiltModelHasNoInputLayer) {
  Sequential model({layers::Dense(3, {.name = "only"})}, "unbuilt");
  Json root = Json::parse(to_json(model));
  EXPECT_EQ(root["config"]["layers"].size(), 1u);
  EXPECT_EQ(root.count("build_config"), 0u);
  Sequential loaded = model_from_json(root.dump());
  EXPECT_FALSE(loaded.built());
  EXPECT_EQ(loaded.layers()[0]->name(), "only");
}

TEST(ModelConfigTest, KerasFixtureLoadsBuildsAndWritesBackByteForByte) {
  std::filesystem::path path = fixture("keras3_sequential_mlp.to_json.json");
  if (path.empty())
    GTEST_SKIP() << "shared/fixtures/keras/keras3_sequential_mlp.to_json.json absent";
  std::string text = read_text(path);
  Sequential model = model_from_json(text);
  ASSERT_TRUE(model.built());
  EXPECT_EQ(model.name(), "sequential_1");
  EXPECT_EQ(model.layers().front()->input_shape(), (Shape{-1, 8}));
  std::vector<std::string> names;
  for (const auto& layer : model.layers()) names.push_back(layer->name());
  EXPECT_EQ(names,
            (std::vector<std::string>{"dense_3", "dropout_2", "dense_4", "dropout_3", "dense_5"}));
  EXPECT_EQ(model.count_params(), 289);  // SOURCES.md: 8->16->8->1

  std::optional<CompileConfig> compile = compile_config_from_json(text);
  ASSERT_TRUE(compile.has_value());
  ASSERT_TRUE(compile->loss.has_value());
  EXPECT_EQ(compile->loss->name, "binary_crossentropy");
  EXPECT_EQ(compile->metrics, (std::vector<std::string>{"accuracy"}));
  EXPECT_EQ(compile->optimizer, nullptr);
  // Keras 3.15.1 wrote this file; trainyard writes the same bytes.
  EXPECT_EQ(to_json(model, *compile), text);
  Json without_compile = Json::parse(text);
  without_compile.erase("compile_config");
  EXPECT_EQ(Json::parse(to_json(model)), without_compile);
}

TEST(ModelConfigTest, TfKerasFixturesWithMissingLayersNameTheLayer) {
  std::filesystem::path conv2d = fixture("tfkeras2_sequential_conv2d.to_json.json");
  std::filesystem::path conv1d = fixture("tfkeras2_functional_conv1d.to_json.json");
  if (conv2d.empty() || conv1d.empty()) GTEST_SKIP() << "tf.keras 2 fixtures absent";
  std::string message = load_error(read_text(conv2d));
  // Its kernel initializer is a user's Python function.
  EXPECT_NE(message.find("layer 'conv2d' (Conv2D): option kernel_initializer = \"random_kernel\""),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("not supported by trainyard yet"), std::string::npos) << message;
  message = load_error(read_text(conv1d));
  EXPECT_NE(message.find("Functional"), std::string::npos) << message;
}

TEST(ModelConfigTest, ReadsTfKeras2Form) {
  std::string json = R"({"class_name": "Sequential", "config": {"name": "sequential",
    "layers": [{"class_name": "Dense", "config": {"name": "dense", "trainable": true,
      "batch_input_shape": [null, 3], "dtype": "float32", "units": 2, "activation": "linear",
      "use_bias": true,
      "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": 11}},
      "bias_initializer": {"class_name": "Zeros", "config": {}},
      "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null,
      "kernel_constraint": null, "bias_constraint": null}},
     {"class_name": "Dropout", "config": {"name": "dropout", "trainable": true,
      "dtype": "float32", "rate": 0.5, "noise_shape": null, "seed": null}}]},
    "keras_version": "2.11.0", "backend": "tensorflow"})";
  Sequential model = model_from_json(json);
  ASSERT_TRUE(model.built());
  EXPECT_EQ(model.layers()[0]->input_shape(), (Shape{-1, 3}));
  auto* dense = dynamic_cast<nn::Dense*>(model.layers()[0].get());
  ASSERT_NE(dense, nullptr);
  EXPECT_EQ(dense->options().kernel_initializer.name, "glorot_uniform");
  EXPECT_EQ(dense->options().kernel_initializer.seed, std::optional<uint64_t>(11));
  Json written = Json::parse(to_json(model));
  EXPECT_EQ(written["module"], "keras");
  EXPECT_EQ(written["config"]["layers"][0]["config"]["name"], "input_layer");
  EXPECT_EQ(written["config"]["layers"][1]["config"]["kernel_initializer"]["config"]["seed"], 11);
}

TEST(ModelConfigTest, ConfigNamesAreKeptWithoutTouchingTheNameCounter) {
  nn::clear_session();
  Sequential model = model_from_json(dense_model(Json::object()));
  EXPECT_EQ(model.layers()[0]->name(), "dense_3");
  // The counter never saw "dense": a new unnamed Dense is still the first.
  EXPECT_EQ(layers::Dense(1)->name(), "dense");
  EXPECT_EQ(Json::parse(to_json(model))["config"]["layers"][0]["config"]["name"], "in");
}

TEST(ModelConfigTest, DefaultValuedOptionsAreAccepted) {
  Json defaults{
      {"kernel_regularizer", nullptr},
      {"bias_regularizer", nullptr},
      {"activity_regularizer", nullptr},
      {"quantization_config", nullptr},
      {"trainable", true},
      {"lora_rank", nullptr},
      {"dtype", Json::parse(R"({"class_name": "Policy", "config": {"name": "float32"}})")}};
  EXPECT_EQ(load_error(dense_model(defaults)), "");
  Sequential frozen = model_from_json(dense_model({{"trainable", false}}));
  EXPECT_FALSE(frozen.layers()[0]->trainable());
  EXPECT_FALSE(Json::parse(to_json(frozen))["config"]["layers"][1]["config"]["trainable"]);
}

TEST(ModelConfigTest, UnsupportedOptionsNameTheLayerAndTheOption) {
  EXPECT_EQ(
      load_error(dense_model(
          {{"kernel_constraint", Json::parse(R"({"class_name": "NonNeg", "config": {}})")}})),
      R"(layer 'dense_3' (Dense): option kernel_constraint = {"class_name":"NonNeg","config":{}} is not supported by trainyard yet)");
  std::string message = load_error(
      dense_model({{"dtype", Json::parse(R"({"module": "keras", "class_name": "DTypePolicy",
                                 "config": {"name": "mixed_float16"}})")}}));
  EXPECT_NE(message.find("layer 'dense_3' (Dense): option dtype"), std::string::npos) << message;
  EXPECT_NE(message.find("mixed_float16"), std::string::npos) << message;
  message = load_error(dense_model({{"frobnicate", 1}}));
  EXPECT_EQ(message,
            "layer 'dense_3' (Dense): option frobnicate = 1 is not supported by trainyard yet");
  message = load_error(dense_model({{"activation", "hard_sigmoid"}}));
  EXPECT_NE(message.find("option activation = \"hard_sigmoid\""), std::string::npos) << message;
  message = load_error(dense_model({{"units", 0}}));
  EXPECT_NE(message.find("option units = 0 must be a positive integer"), std::string::npos);
  message = load_error(dense_model({{"units", 10000000000LL}}));
  EXPECT_NE(message.find("option units"), std::string::npos) << message;

  Json model = Json::parse(dense_model(Json::object()));
  model["config"]["layers"][1] = Json::parse(R"({"class_name": "Dropout",
      "config": {"name": "drop", "rate": 0.5, "noise_shape": [null, 1]}})");
  message = load_error(model.dump());
  EXPECT_EQ(
      message,
      "layer 'drop' (Dropout): option noise_shape = [null,1] is not supported by trainyard yet");
  model["config"]["layers"][1] = Json::parse(R"({"class_name": "LSTM", "config": {"name": "c"}})");
  message = load_error(model.dump());
  EXPECT_NE(message.find("layer 'c' (LSTM): layer class LSTM is not supported by trainyard yet"),
            std::string::npos)
      << message;
  model = Json::parse(dense_model(Json::object()));
  model["config"]["layers"][0]["config"]["sparse"] = true;
  message = load_error(model.dump());
  EXPECT_EQ(message,
            "layer 'in' (InputLayer): option sparse = true is not supported by trainyard yet");
  model = Json::parse(dense_model(Json::object()));
  model["class_name"] = "Functional";
  EXPECT_NE(load_error(model.dump()).find("read it with functional_from_json"), std::string::npos);
}

TEST(ModelConfigTest, DropoutSeedFromAConfigIsWrittenBack) {
  Json model = Json::parse(dense_model(Json::object()));
  model["config"]["layers"].push_back(Json::parse(
      R"({"class_name": "Dropout", "config": {"name": "drop", "rate": 0.5, "seed": 1234}})"));
  Json written = Json::parse(to_json(model_from_json(model.dump())));
  EXPECT_EQ(written["config"]["layers"][2]["config"]["seed"], 1234);
  model["config"]["layers"][2]["config"]["seed"] = -1;
  EXPECT_NE(load_error(model.dump()).find("option seed = -1 must not be negative"),
            std::string::npos);
}

TEST(ModelConfigTest, MalformedJsonNamesLineAndColumn) {
  std::string message = load_error("{\n  \"class_name\": \"Sequential\",\n  oops\n}");
  EXPECT_NE(message.find("line 3, column 3"), std::string::npos) << message;
  message = load_error(std::string(100000, '['));
  EXPECT_NE(message.find("nested more than"), std::string::npos) << message;
  EXPECT_NE(load_error("[1, 2]").find("expected a JSON object"), std::string::npos);
  EXPECT_NE(load_error("").find("malformed"), std::string::npos);
}

TEST(ModelConfigTest, ModelsTooLargeToAllocateAreRefusedBeforeAllocating) {
  Json model = Json::parse(dense_model({{"units", 100000}}));
  model["config"]["layers"][0]["config"]["batch_shape"] = Json::parse("[null, 100000]");
  std::string message = load_error(model.dump());
  EXPECT_NE(message.find("would hold 10000100000 parameters"), std::string::npos) << message;
  model["config"]["layers"][0]["config"]["batch_shape"] =
      Json::parse("[null, 4000000000, 4000000000, 4000000000]");
  message = load_error(model.dump());
  EXPECT_NE(message.find("option batch_shape"), std::string::npos) << message;
  EXPECT_NE(message.find("is too large"), std::string::npos) << message;
}

TEST(ModelConfigTest, LayersThatDoNotFitTheInputShapeAreAShapeError) {
  Json model = Json::parse(dense_model(Json::object()));
  model["config"]["layers"][1] =
      Json::parse(R"({"class_name": "Reshape", "config": {"name": "r", "target_shape": [4]}})");
  EXPECT_THROW(model_from_json(model.dump()), ShapeError);
}

TEST(ModelConfigTest, SeededInitializersRoundTripToTheSameWeights) {
  std::vector<nn::Initializer> initializers = {
      nn::initializers::RandomNormal(0.5, 2.0, 42),
      nn::initializers::RandomUniform(-1, 3, 43),
      nn::initializers::TruncatedNormal(0.1, 0.2, 44),
      nn::initializers::HeNormal(45),
      nn::initializers::GlorotNormal(46),
      nn::initializers::VarianceScaling(0.5, "fan_avg", "untruncated_normal", 47),
      nn::Initializer("ones"),
      nn::Initializer("lecun_uniform")};
  for (const nn::Initializer& initializer : initializers) {
    nn::DenseOptions options{.bias_initializer = "ones"};
    options.kernel_initializer = initializer;
    Sequential model({layers::Dense(5, options)});
    model.build(Shape{-1, 6});
    Sequential first = model_from_json(to_json(model));
    Sequential second = model_from_json(to_json(model));
    const auto& read = dynamic_cast<nn::Dense&>(*first.layers()[0]).options().kernel_initializer;
    EXPECT_EQ(read.name, initializer.name);
    EXPECT_EQ(read.seed, initializer.seed);
    EXPECT_EQ(read.mean, initializer.mean);
    EXPECT_EQ(read.stddev, initializer.stddev);
    EXPECT_EQ(read.minval, initializer.minval);
    EXPECT_EQ(read.maxval, initializer.maxval);
    EXPECT_EQ(read.scale, initializer.scale);
    EXPECT_EQ(read.mode, initializer.mode);
    EXPECT_EQ(read.distribution, initializer.distribution);
    if (initializer.seed) {
      // Seeded: every load fills the kernel with the same values, as the source model's.
      EXPECT_EQ(first.weights()[0]->value.to_vector<float>(),
                model.weights()[0]->value.to_vector<float>());
      EXPECT_EQ(second.weights()[0]->value.to_vector<float>(),
                model.weights()[0]->value.to_vector<float>());
    }
  }
}

TEST(ModelConfigTest, CompileConfigRoundTrips) {
  Sequential model = every_layer_model();
  CompileConfig compile{.optimizer = optimizers::Adam({.learning_rate = 0.01, .amsgrad = true}),
                        .loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
                        .metrics = {"accuracy"}};
  std::string json = to_json(model, compile);
  Json root = Json::parse(json);
  EXPECT_EQ(root["compile_config"]["optimizer"]["class_name"], "Adam");
  // Keras writes the float32 learning rate read back as a double.
  EXPECT_EQ(root["compile_config"]["optimizer"]["config"]["learning_rate"].get<double>(),
            double(0.01f));
  EXPECT_EQ(root["compile_config"]["loss"]["class_name"], "SparseCategoricalCrossentropy");
  std::optional<CompileConfig> read = compile_config_from_json(json);
  ASSERT_TRUE(read.has_value());
  ASSERT_NE(read->optimizer, nullptr);
  auto* adam = dynamic_cast<nn::Adam*>(read->optimizer.get());
  ASSERT_NE(adam, nullptr);
  EXPECT_TRUE(adam->options().amsgrad);
  EXPECT_EQ(adam->learning_rate(), double(0.01f));
  ASSERT_TRUE(read->loss.has_value());
  EXPECT_EQ(read->loss->name, "sparse_categorical_crossentropy");
  EXPECT_TRUE(read->loss->from_logits);
  EXPECT_EQ(read->metrics, compile.metrics);
  EXPECT_FALSE(compile_config_from_json(to_json(model)).has_value());
}

TEST(ModelConfigTest, GradientClippingRoundTripsAndZeroMeansNone) {
  Sequential model = every_layer_model();
  CompileConfig compile{.optimizer = optimizers::AdamW({.clipnorm = 0.5}),
                        .loss = losses::MeanSquaredError()};
  Json root = Json::parse(to_json(model, compile));
  Json& optimizer_config = root["compile_config"]["optimizer"]["config"];
  EXPECT_EQ(optimizer_config["clipnorm"].get<double>(), 0.5);
  EXPECT_TRUE(optimizer_config["global_clipnorm"].is_null());
  EXPECT_TRUE(optimizer_config["clipvalue"].is_null());
  std::optional<CompileConfig> read = compile_config_from_json(root.dump());
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->optimizer->clipnorm(), std::optional<double>(0.5));
  EXPECT_FALSE(read->optimizer->clipvalue().has_value());

  // Keras clips only for values above zero.
  optimizer_config["clipnorm"] = 0.0;
  optimizer_config["clipvalue"] = 2.0;
  read = compile_config_from_json(root.dump());
  ASSERT_TRUE(read.has_value());
  EXPECT_FALSE(read->optimizer->clipnorm().has_value());
  EXPECT_EQ(read->optimizer->clipvalue(), std::optional<double>(2.0));

  // Keras refuses two clipping modes at once, and so does trainyard.
  optimizer_config["global_clipnorm"] = 1.0;
  EXPECT_THROW(compile_config_from_json(root.dump()), ValueError);
}

// compile_config's metrics in the forms Keras writes them: names; Keras 3 metric objects;
// tf.keras 2's MeanMetricWrapper inside one list per output. Forms trainyard cannot compile
// are refused by name.
TEST(ModelConfigTest, CompileMetricsInEveryKerasForm) {
  auto metrics_of = [](const std::string& metrics) {
    std::string json = R"({"compile_config": {"loss": "mse", "metrics": )" + metrics + "}}";
    std::optional<CompileConfig> read = compile_config_from_json(json);
    EXPECT_TRUE(read.has_value());
    return read ? read->metrics : std::vector<std::string>{};
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(metrics_of(R"(["accuracy", "mae"])"), (Names{"accuracy", "mae"}));
  EXPECT_EQ(metrics_of(R"([{"module": "keras.metrics", "class_name": "SparseCategoricalAccuracy",
      "config": {"name": "sparse_categorical_accuracy", "dtype": "float32"},
      "registered_name": null}])"),
            (Names{"sparse_categorical_accuracy"}));
  EXPECT_EQ(metrics_of(R"([[{"class_name": "MeanMetricWrapper",
      "config": {"name": "acc", "dtype": "float32", "fn": "categorical_accuracy"}},
      {"class_name": "MeanMetricWrapper",
      "config": {"name": "mean_absolute_error", "dtype": "float32", "fn": "mean_absolute_error"}}]])"),
            (Names{"acc", "mean_absolute_error"}));
  // A wrapper under a name of the user's own: the fn says what is computed.
  EXPECT_EQ(metrics_of(R"([[{"class_name": "MeanMetricWrapper",
      "config": {"name": "my_metric", "dtype": "float32", "fn": "binary_accuracy"}}]])"),
            (Names{"binary_accuracy"}));
  // Two outputs with the same list read as that list; different lists cannot be compiled.
  EXPECT_EQ(metrics_of(R"([["mae"], ["mae"]])"), (Names{"mae"}));
  std::string message = compile_error(R"({"compile_config": {"metrics": [["mae"], ["mse"]]}})");
  EXPECT_NE(message.find("per-output metric lists differ"), std::string::npos) << message;
  message = compile_error(
      R"({"compile_config": {"metrics": [{"class_name": "AUC", "config": {"name": "auc"}}]}})");
  EXPECT_NE(message.find("metric class AUC is not supported"), std::string::npos) << message;
  message = compile_error(R"({"compile_config": {"metrics": [["mae"], "mse"]}})");
  EXPECT_NE(message.find("one list per output"), std::string::npos) << message;
}

}  // namespace
}  // namespace trainyard::keras
