// Functional model configs: reading the JSON Keras 3 writes for a model with two inputs, two
// outputs, a shared layer, Add, Concatenate and Dropout (testdata/keras3_functional.json, from
// model.to_json() in Keras 3.15), writing it back, and refusing broken node references.
#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "keras/model_config.h"

namespace trainyard::keras {
namespace {

using Json = nlohmann::ordered_json;

std::string keras_written_config() {
  std::ifstream file(std::string(TRAINYARD_KERAS_TESTDATA_DIR) + "/keras3_functional.json");
  std::stringstream text;
  text << file.rdbuf();
  std::string json = text.str();
  while (!json.empty() && json.back() == '\n') json.pop_back();
  return json;
}

std::vector<std::string> layer_names(const Model& model) {
  std::vector<std::string> names;
  for (const auto& layer : model.layers()) names.push_back(layer->name());
  return names;
}

TEST(FunctionalConfigTest, ReadsTheConfigKerasWrites) {
  Functional model = functional_from_json(keras_written_config());
  EXPECT_EQ(model.name(), "config_model");
  // The order Keras itself reports for model.layers of this model.
  EXPECT_EQ(layer_names(model),
            (std::vector<std::string>{"b", "a", "proj", "shared", "sum", "cat", "drop", "out"}));
  EXPECT_EQ(model.input_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(model.output_names(), (std::vector<std::string>{"out", "sum"}));
  // proj 2 * 3 + 3; shared 3 * 4 + 4 (called on a and on proj's output); out (4 + 4) * 2 + 2.
  EXPECT_EQ(model.count_params(), 9 + 16 + 18);
  std::vector<Shape> outputs = model.compute_output_shapes({Shape{-1, 3}, Shape{-1, 2}});
  EXPECT_EQ(outputs, (std::vector<Shape>{Shape{-1, 2}, Shape{-1, 4}}));
  EXPECT_EQ(model.summary().find("shared[0][0], shared[1][0]") != std::string::npos, true)
      << model.summary();
  // It trains like a model built in C++.
  model.compile({.optimizer = "sgd", .loss = "mse"});
  Logs logs =
      model.evaluate({Tensor::zeros(Shape{2, 3}), Tensor::zeros(Shape{2, 2})},
                     {Tensor::zeros(Shape{2, 2}), Tensor::zeros(Shape{2, 4})}, {.verbose = 0});
  EXPECT_EQ(logs.size(), 3u);  // loss, out_loss, sum_loss
}

TEST(FunctionalConfigTest, WritesWhatKerasWrote) {
  // Byte for byte, except the empty compile_config Keras adds to an uncompiled model, which
  // trainyard leaves out as its Sequential configs do.
  std::string keras = keras_written_config();
  const std::string empty_compile = ", \"compile_config\": {}}";
  ASSERT_EQ(keras.substr(keras.size() - empty_compile.size()), empty_compile);
  keras = keras.substr(0, keras.size() - empty_compile.size()) + "}";
  EXPECT_EQ(to_json(functional_from_json(keras_written_config())), keras);
}

TEST(FunctionalConfigTest, ModelsBuiltInCxxRoundTrip) {
  auto x = Input({5}, "features");
  auto shared = layers::Dense(3, {.activation = "relu", .name = "encoder"});
  auto first = shared(x);
  auto twice = shared(layers::Dense(5, {.name = "mix"})(x));
  auto joined = layers::Concatenate(-1, "joined")({first, layers::Dropout(0.5)(x)});
  Functional model(x, {layers::Dense(1, {.name = "head"})(joined), twice}, "cxx_model");
  std::string json = to_json(model);
  Functional read = functional_from_json(json);
  EXPECT_EQ(to_json(read), json);
  EXPECT_EQ(layer_names(read), layer_names(model));
  read.set_weights(model.get_weights());
  Tensor input = Tensor::from_vector<float>({2, 5}, {1, 2, 3, 4, 5, -1, -2, -3, -4, -5});
  std::vector<Tensor> expected = model.predict(Tensors{input});
  std::vector<Tensor> actual = read.predict(Tensors{input});
  ASSERT_EQ(actual.size(), 2u);
  for (size_t i = 0; i < 2; ++i)
    EXPECT_EQ(actual[i].to_vector<float>(), expected[i].to_vector<float>());
}

TEST(FunctionalConfigTest, ACallMayReadALayerListedLater) {
  // Keras's loader defers a node until the layers it reads have made their calls.
  Json config = Json::parse(keras_written_config());
  Json& layers = config["config"]["layers"];
  Json proj = layers[2];
  ASSERT_EQ(proj["name"], "proj");
  layers.erase(2);
  layers.push_back(proj);  // now after "shared", whose second call reads it
  Functional model = functional_from_json(config.dump());
  EXPECT_EQ(layer_names(model),
            (std::vector<std::string>{"b", "a", "proj", "shared", "sum", "cat", "drop", "out"}));
}

TEST(FunctionalConfigTest, BrokenReferencesAreValueErrors) {
  auto broken = [](const std::function<void(Json&)>& edit) {
    Json config = Json::parse(keras_written_config());
    edit(config);
    return config.dump();
  };
  // shared's second call: its argument's keras_history.
  auto history = [](Json& config) -> Json& {
    return config["config"]["layers"][3]["inbound_nodes"][1]["args"][0]["config"]["keras_history"];
  };
  EXPECT_THROW(functional_from_json(broken([&](Json& c) { history(c)[0] = "nowhere"; })),
               ValueError);
  EXPECT_THROW(functional_from_json(broken([&](Json& c) { history(c)[1] = 5; })), ValueError);
  EXPECT_THROW(functional_from_json(broken([&](Json& c) { history(c)[2] = 1; })), ValueError);
  EXPECT_THROW(functional_from_json(broken([](Json& c) {
                 c["config"]["output_layers"][0] = Json::array({"out", 3, 0});
               })),
               ValueError);
  EXPECT_THROW(
      functional_from_json(broken([](Json& c) { c["config"]["layers"][7]["name"] = "x"; })),
      ValueError);
  // A model class read by the other reader.
  EXPECT_THROW(model_from_json(keras_written_config()), ValueError);
  Sequential sequential({layers::Dense(2)});
  EXPECT_THROW(functional_from_json(to_json(sequential)), ValueError);
  // Layers that do not fit their inputs.
  EXPECT_THROW(functional_from_json(broken([](Json& c) {
                 c["config"]["layers"][1]["config"]["batch_shape"] = Json::array({nullptr, 7});
               })),
               ShapeError);
}

TEST(FunctionalConfigTest, MergeLayersNeedAFunctionalModel) {
  Json config = Json::parse(to_json(Sequential({layers::Dense(2, {.name = "d"})})));
  Json add = Json::parse(keras_written_config())["config"]["layers"][4];
  add.erase("name");
  add.erase("inbound_nodes");
  add.erase("build_config");
  config["config"]["layers"].push_back(add);
  EXPECT_THROW(model_from_json(config.dump()), ValueError);
}

}  // namespace
}  // namespace trainyard::keras
