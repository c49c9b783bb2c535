// Writing legacy .h5 model files (model.save("m.h5")): bitwise round trips through
// trainyard's reader, the compile settings in training_config, Keras's chunking of long
// name lists, atomic writes, and the layout compared with a file Keras 3 wrote
// (shared/fixtures/keras).
#include <gtest/gtest.h>
#include <trainyard/keras.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "keras/saving/h5_file.h"
#include "keras/saving/model_file.h"

namespace trainyard::keras {
namespace {

namespace fs = std::filesystem;
using saving::H5File;
using Json = nlohmann::json;

class LegacyH5Test : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    directory_ = fs::temp_directory_path() / ("trainyard_legacy_h5_" + std::string(info->name()) +
                                              "_" + std::to_string(::getpid()));
    fs::remove_all(directory_);
    fs::create_directories(directory_);
  }
  void TearDown() override { fs::remove_all(directory_); }
  std::string path(const std::string& name) const { return (directory_ / name).string(); }
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(directory_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path directory_;
};

Tensor random_tensor(const Shape& shape, uint64_t seed) {
  Tensor tensor = Tensor::zeros(shape);
  RandomGenerator generator(seed);
  float* data = tensor.data<float>();
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    data[i] = static_cast<float>(generator.uniform() * 2 - 1);
  }
  return tensor;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

void expect_same_weights(const Model& actual, const Model& expected) {
  std::vector<Tensor> a = actual.get_weights(), e = expected.get_weights();
  ASSERT_EQ(a.size(), e.size());
  for (size_t i = 0; i < e.size(); ++i) EXPECT_TRUE(same_bytes(a[i], e[i])) << "weight " << i;
}

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

Json root_json(const H5File& file, const std::string& name) {
  std::optional<std::string> text = file.string_attribute(".", name);
  EXPECT_TRUE(text.has_value()) << name;
  return text ? Json::parse(*text) : Json();
}

TEST_F(LegacyH5Test, SequentialRoundTripsBitForBitWithItsCompileSettings) {
  Sequential trained({layers::Dense(16, {.activation = "relu"}), layers::Dense(4)}, "mlp");
  trained.compile({.optimizer = optimizers::SGD({.learning_rate = 0.05, .momentum = 0.9}),
                   .loss = "mse",
                   .metrics = {"mae"}});
  Tensor x = random_tensor({16, 8}, 1), y = random_tensor({16, 4}, 2);
  trained.train_on_batch(x, y);
  trained.save(path("mlp.h5"));
  EXPECT_EQ(listing(), std::vector<std::string>{"mlp.h5"});

  H5File file = H5File::open_read_only(path("mlp.h5"));
  EXPECT_EQ(file.string_attribute(".", "keras_version"), "3.15.1");
  EXPECT_EQ(file.string_attribute(".", "backend"), "tensorflow");
  Json model_config = root_json(file, "model_config");
  EXPECT_EQ(model_config.size(), 2u);
  EXPECT_EQ(model_config["class_name"], "Sequential");
  EXPECT_EQ(model_config["config"]["name"], "mlp");
  Json training = root_json(file, "training_config");
  // Keras 3.15 cannot reload the alias "mse" from a legacy file; the full name it can.
  EXPECT_EQ(training["loss"], "mean_squared_error");
  EXPECT_EQ(training["metrics"], Json::array({"mae"}));
  EXPECT_EQ(training["optimizer_config"]["class_name"], "SGD");
  EXPECT_NEAR(training["optimizer_config"]["config"]["momentum"].get<double>(), 0.9, 1e-7);
  // One group per layer, each weight at the path its weight_names entry gives.
  std::vector<std::string> layer_names =
      file.string_list_attribute("model_weights", "layer_names").value();
  ASSERT_EQ(layer_names.size(), 2u);
  EXPECT_EQ(layer_names[0], trained.layers()[0]->name());
  std::string group = "model_weights/" + layer_names[1];
  std::vector<std::string> weight_names = file.string_list_attribute(group, "weight_names").value();
  ASSERT_EQ(weight_names.size(), 2u);
  EXPECT_EQ(weight_names[0], "mlp/" + layer_names[1] + "/kernel");
  EXPECT_TRUE(file.is_dataset(group + "/" + weight_names[0]));
  // The optimizer's state as Keras names it: iteration, learning_rate, then a momentum per
  // trainable weight.
  std::vector<std::string> optimizer_names =
      file.string_list_attribute("optimizer_weights", "weight_names").value();
  ASSERT_EQ(optimizer_names.size(), 2u + 4u);
  std::string sgd = trained.optimizer().name();
  EXPECT_EQ(optimizer_names[0], sgd + "/iteration");
  EXPECT_EQ(optimizer_names[2], sgd + "/mlp_" + layer_names[0] + "_kernel_momentum");

  std::unique_ptr<Model> restored = load_model(path("mlp.h5"));
  ASSERT_NE(dynamic_cast<Sequential*>(restored.get()), nullptr);
  expect_same_weights(*restored, trained);
  EXPECT_TRUE(same_bytes(restored->predict(x), trained.predict(x)));
  ASSERT_TRUE(restored->compiled());
  EXPECT_EQ(restored->optimizer().learning_rate(), trained.optimizer().learning_rate());
  Logs logs = restored->evaluate({x}, {y}, {.verbose = 0});
  Logs expected = trained.evaluate({x}, {y}, {.verbose = 0});
  ASSERT_EQ(logs.size(), expected.size());
  for (size_t i = 0; i < logs.size(); ++i) {
    EXPECT_EQ(logs[i].first, expected[i].first);
    EXPECT_EQ(logs[i].second, expected[i].second);
  }
}

TEST_F(LegacyH5Test, FunctionalCnnWithBatchNormalizationRoundTripsBitForBit) {
  KerasTensor image = Input({8, 8, 2}, "image");
  KerasTensor features = layers::Conv2D(4, 3, {.padding = "same"})(image);
  features = layers::BatchNormalization()(features);
  features = layers::Activation("relu")(features);
  features = layers::MaxPooling2D(2)(features);
  KerasTensor output = layers::Dense(3)(layers::Flatten()(features));
  Functional trained({image}, output, "cnn");
  trained.compile({.optimizer = "adam", .loss = "mse"});
  Tensor x = random_tensor({4, 8, 8, 2}, 3), y = random_tensor({4, 3}, 4);
  trained.train_on_batch(x, y);  // moves BatchNormalization's moving statistics
  save_model(trained, path("cnn.h5"), {.include_optimizer = false});

  H5File file = H5File::open_read_only(path("cnn.h5"));
  EXPECT_FALSE(file.string_attribute(".", "training_config").has_value());
  EXPECT_FALSE(file.is_group("optimizer_weights"));
  std::unique_ptr<Model> restored = load_model(path("cnn.h5"));
  ASSERT_NE(dynamic_cast<Functional*>(restored.get()), nullptr);
  EXPECT_FALSE(restored->compiled());
  EXPECT_EQ(restored->non_trainable_weights().size(), 2u);
  expect_same_weights(*restored, trained);
  EXPECT_TRUE(same_bytes(restored->predict(x), trained.predict(x)));
}

TEST_F(LegacyH5Test, ConfigsAndNameListsPastTheHeaderLimitRoundTrip) {
  // 330 layers with 200-character names: layer_names needs 66,000 bytes as NumPy's
  // fixed-width array, past the 64,512 an HDF5 object header holds, so Keras splits it in
  // two; the model config (one string in the file's heap) is larger still.
  std::vector<nn::LayerPtr> stack;
  for (int i = 0; i < 330; ++i) {
    std::string number = std::to_string(i);
    std::string name = "layer_" + std::string(194 - number.size(), 'x') + number;
    stack.push_back(layers::Dense(2, {.name = name}));
  }
  Sequential deep(stack, "deep");
  deep.build(Shape{-1, 3});
  deep.save(path("deep.h5"));

  H5File file = H5File::open_read_only(path("deep.h5"));
  EXPECT_GT(file.string_attribute(".", "model_config")->size(), 64512u);
  EXPECT_FALSE(file.string_list_attribute("model_weights", "layer_names").has_value());
  EXPECT_EQ(file.string_list_attribute("model_weights", "layer_names0")->size(), 165u);
  EXPECT_EQ(file.string_list_attribute("model_weights", "layer_names1")->size(), 165u);
  EXPECT_FALSE(file.string_list_attribute("model_weights", "layer_names2").has_value());

  std::unique_ptr<Model> restored = load_model(path("deep.h5"));
  EXPECT_EQ(restored->layers().size(), 330u);
  EXPECT_EQ(restored->layers()[329]->name(), deep.layers()[329]->name());
  Tensor x = random_tensor({2, 3}, 5);
  EXPECT_TRUE(same_bytes(restored->predict(x), deep.predict(x)));
}

TEST_F(LegacyH5Test, AFailedWriteLeavesTheOldFile) {
  Sequential first({layers::Dense(2)}, "first");
  first.build(Shape{-1, 3});
  first.save(path("model.h5"));
  // A layer named like the group Keras keeps for the model's own weights cannot be
  // written: the failure comes after the root attributes and other layers are in the file.
  Sequential clash({layers::Dense(2, {.name = "top_level_model_weights"})}, "clash");
  clash.build(Shape{-1, 3});
  EXPECT_THROW(clash.save(path("model.h5")), IOError);
  EXPECT_THROW(clash.save(path("new.h5")), IOError);
  EXPECT_EQ(listing(), std::vector<std::string>{"model.h5"});
  std::unique_ptr<Model> kept = load_model(path("model.h5"));
  EXPECT_EQ(kept->name(), "first");
  expect_same_weights(*kept, first);
}

TEST_F(LegacyH5Test, LayoutMatchesAFileKeras3Wrote) {
  fs::path keras_file = fixture("keras3_legacy_sequential_mlp.h5");
  if (keras_file.empty()) {
    GTEST_SKIP() << "shared/fixtures/keras/keras3_legacy_sequential_mlp.h5 absent";
  }
  std::unique_ptr<Model> model = load_model(keras_file.string());
  Tensor x = random_tensor({4, 8}, 6), y = Tensor::zeros(Shape{4, 1});
  model->train_on_batch(x, y);  // builds the optimizer, so its state is written too
  model->save(path("again.h5"));

  H5File keras = H5File::open_read_only(keras_file.string());
  H5File ours = H5File::open_read_only(path("again.h5"));
  for (const char* name : {"keras_version", "backend", "model_config", "training_config"}) {
    EXPECT_TRUE(ours.string_attribute(".", name).has_value()) << name;
  }
  Json keras_training = root_json(keras, "training_config");
  Json our_training = root_json(ours, "training_config");
  for (const auto& [key, value] : keras_training.items()) {
    EXPECT_TRUE(our_training.contains(key)) << key;
  }
  EXPECT_EQ(our_training.size(), keras_training.size());
  EXPECT_EQ(our_training["loss"], keras_training["loss"]);
  EXPECT_EQ(our_training["optimizer_config"]["class_name"],
            keras_training["optimizer_config"]["class_name"]);
  EXPECT_EQ(root_json(ours, "model_config")["class_name"], "Sequential");
  for (const char* name : {"backend", "keras_version"}) {
    EXPECT_TRUE(ours.string_attribute("model_weights", name).has_value()) << name;
  }
  std::vector<std::string> layer_names =
      keras.string_list_attribute("model_weights", "layer_names").value();
  EXPECT_EQ(ours.string_list_attribute("model_weights", "layer_names"), layer_names);
  layer_names.push_back("top_level_model_weights");
  for (const std::string& layer : layer_names) {
    std::string group = "model_weights/" + layer;
    ASSERT_TRUE(ours.is_group(group)) << group;
    std::vector<std::string> names = keras.string_list_attribute(group, "weight_names").value();
    EXPECT_EQ(ours.string_list_attribute(group, "weight_names"), names) << group;
    for (const std::string& name : names) {
      EXPECT_EQ(ours.inspect(group + "/" + name).dims, keras.inspect(group + "/" + name).dims)
          << group << "/" << name;
    }
  }
  EXPECT_EQ(ours.string_list_attribute("optimizer_weights", "weight_names"),
            keras.string_list_attribute("optimizer_weights", "weight_names"));
}

}  // namespace
}  // namespace trainyard::keras
