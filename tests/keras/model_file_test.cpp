// Whole-model .keras archives: Keras's entries and layout, bitwise round trips that train on
// identically, atomic writes, clear errors, and archives written by real Keras
// (shared/fixtures/keras) loaded and checked against their own HDF5 arrays and a float64
// forward pass.
#include "keras/saving/model_file.h"

#include <gtest/gtest.h>
#include <trainyard/keras.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "keras/saving/atomic_file.h"
#include "keras/saving/h5_file.h"
#include "keras/saving/keras_archive.h"
#include "keras/saving/zip_archive.h"

namespace trainyard::keras {
namespace {

namespace fs = std::filesystem;
using saving::H5DatasetInfo;
using saving::H5File;

// A fresh directory per test, removed afterwards.
class ModelFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    directory_ = fs::temp_directory_path() / ("trainyard_model_file_" + std::string(info->name()) +
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

// The message of what `body` throws as `Exception`; fails the test when it throws nothing.
template <typename Exception, typename Body>
std::string error_of(Body&& body) {
  try {
    body();
  } catch (const Exception& error) {
    return error.what();
  }
  ADD_FAILURE() << "nothing was thrown";
  return "";
}

Sequential mlp() {
  Sequential model({layers::Dense(16, {.activation = "relu"}), layers::Dense(4)}, "mlp");
  model.build(Shape{-1, 8});
  return model;
}

// The entries of the zip at `path`, in order, with their contents.
std::vector<std::pair<std::string, std::string>> zip_entries(const std::string& path) {
  saving::ZipReader zip(path);
  std::vector<std::pair<std::string, std::string>> entries;
  while (auto entry = zip.next()) entries.emplace_back(entry->name, zip.read(size_t{1} << 30));
  return entries;
}

TEST_F(ModelFileTest, WritesKerasEntriesConfigAndOptimizerState) {
  Sequential model = mlp();
  model.compile(
      {.optimizer = optimizers::Adam({.learning_rate = 0.01}), .loss = "mse", .metrics = {"mae"}});
  Tensor x = random_tensor({16, 8}, 1), y = random_tensor({16, 4}, 2);
  model.train_on_batch(x, y);
  model.save(path("model.keras"));

  auto entries = zip_entries(path("model.keras"));
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].first, "metadata.json");
  EXPECT_EQ(entries[1].first, "config.json");
  EXPECT_EQ(entries[2].first, "model.weights.h5");
  auto metadata = nlohmann::json::parse(entries[0].second);
  EXPECT_EQ(metadata.size(), 2u);
  EXPECT_TRUE(metadata["keras_version"].get<std::string>().starts_with("3."));
  EXPECT_TRUE(std::regex_match(metadata["date_saved"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d)")));
  auto config = nlohmann::json::parse(entries[1].second);
  EXPECT_EQ(config["class_name"], "Sequential");
  EXPECT_EQ(config["compile_config"]["optimizer"]["class_name"], "Adam");
  EXPECT_EQ(config["compile_config"]["loss"], "mse");
  EXPECT_EQ(config["compile_config"]["metrics"], nlohmann::json::array({"mae"}));

  saving::ZipReader zip(path("model.keras"));
  while (auto entry = zip.next()) {
    if (entry->name == "model.weights.h5") zip.extract(path("weights.h5"), uint64_t{1} << 30);
  }
  H5File weights = H5File::open_read_only(path("weights.h5"));
  EXPECT_TRUE(weights.is_dataset("layers/dense/vars/0"));
  EXPECT_TRUE(weights.is_dataset("layers/dense_1/vars/1"));
  EXPECT_EQ(weights.children("optimizer/vars").size(), 2u + 2u * 4u);  // iterations, lr, m and v
  EXPECT_EQ(listing(), (std::vector<std::string>{"model.keras", "weights.h5"}));
}

TEST_F(ModelFileTest, ReloadPredictsBitForBitAndTrainsOnIdentically) {
  Tensor x = random_tensor({32, 8}, 3), y = random_tensor({32, 4}, 4);
  Sequential trained = mlp();
  trained.compile({.optimizer = optimizers::Adam({.learning_rate = 0.01}), .loss = "mse"});
  trained.train_on_batch(x, y);
  trained.train_on_batch(x, y);
  trained.save(path("trained.keras"));

  std::unique_ptr<Model> restored = load_model(path("trained.keras"));
  ASSERT_TRUE(restored->compiled());
  EXPECT_NE(dynamic_cast<Sequential*>(restored.get()), nullptr);
  EXPECT_EQ(restored->name(), "mlp");
  expect_same_weights(*restored, trained);
  EXPECT_TRUE(same_bytes(restored->predict(x), trained.predict(x)));
  EXPECT_EQ(restored->optimizer().iterations(), 2);
  EXPECT_EQ(restored->optimizer().learning_rate(), trained.optimizer().learning_rate());

  for (int step = 0; step < 2; ++step) {
    trained.train_on_batch(x, y);
    restored->train_on_batch(x, y);
  }
  expect_same_weights(*restored, trained);
  EXPECT_EQ(restored->optimizer().iterations(), 4);
}

TEST_F(ModelFileTest, FunctionalModelsRoundTrip) {
  KerasTensor image = Input({6}, "image"), tags = Input({3}, "tags");
  KerasTensor joined =
      layers::Concatenate()({layers::Dense(5, {.activation = "tanh"})(image), tags});
  Functional trained({image, tags}, layers::Dense(2, {.name = "score"})(joined), "two_inputs");
  trained.compile(
      {.optimizer = optimizers::SGD({.learning_rate = 0.1, .momentum = 0.9}), .loss = "mse"});
  Tensor a = random_tensor({8, 6}, 5), b = random_tensor({8, 3}, 6), y = random_tensor({8, 2}, 7);
  trained.train_on_batch({a, b}, y);
  trained.save(path("functional.keras"));

  std::unique_ptr<Model> restored = load_model(path("functional.keras"));
  ASSERT_NE(dynamic_cast<Functional*>(restored.get()), nullptr);
  EXPECT_EQ(restored->input_names(), (std::vector<std::string>{"image", "tags"}));
  EXPECT_TRUE(same_bytes(restored->predict({a, b})[0], trained.predict({a, b})[0]));
  trained.train_on_batch({a, b}, y);
  restored->train_on_batch({a, b}, y);
  expect_same_weights(*restored, trained);
}

TEST_F(ModelFileTest, ConvolutionalModelsRoundTrip) {
  Sequential trained(
      {layers::Conv2D(4, 3, {.padding = "same", .activation = "relu"}), layers::MaxPooling2D(2),
       layers::Conv2D(6, {2, 3}, {.strides = {1, 2}}), layers::AveragePooling2D(2, {.strides = 1}),
       layers::GlobalAveragePooling2D(), layers::Dense(3)},
      "cnn");
  trained.compile({.optimizer = "rmsprop", .loss = "mse"});
  Tensor x = random_tensor({4, 10, 10, 2}, 8), y = random_tensor({4, 3}, 9);
  trained.train_on_batch(x, y);
  trained.save(path("cnn.keras"));
  std::unique_ptr<Model> restored = load_model(path("cnn.keras"));
  EXPECT_EQ(serialize_model(*restored), serialize_model(trained));
  EXPECT_TRUE(same_bytes(restored->predict(x), trained.predict(x)));
  trained.train_on_batch(x, y);
  restored->train_on_batch(x, y);
  expect_same_weights(*restored, trained);
}

TEST_F(ModelFileTest, UncompiledModelsLoadUncompiled) {
  Sequential model = mlp();
  model.save(path("plain.keras"));
  std::unique_ptr<Model> restored = load_model(path("plain.keras"));
  EXPECT_FALSE(restored->compiled());
  expect_same_weights(*restored, model);
}

TEST_F(ModelFileTest, RefusesWrongNamesAndUnbuiltModels) {
  Sequential model = mlp();
  EXPECT_NE(error_of<ValueError>([&] { model.save(path("model.pb")); }).find("`.keras`"),
            std::string::npos);
  Sequential unbuilt({layers::Dense(3)});
  EXPECT_NE(error_of<ValueError>([&] { unbuilt.save(path("x.keras")); }).find("not built"),
            std::string::npos);
  EXPECT_NE(error_of<ValueError>([&] { load_model(path("x.weights.h5")); }).find("load_weights"),
            std::string::npos);
  EXPECT_NE(error_of<IOError>([&] { load_model(path("missing.keras")); }).find("missing.keras"),
            std::string::npos);
  saving::write_text_file_atomically(path("text.keras"), "not a zip");
  EXPECT_NE(error_of<DataError>([&] { load_model(path("text.keras")); }).find("not a zip"),
            std::string::npos);
  EXPECT_EQ(listing(), std::vector<std::string>{"text.keras"});
}

TEST_F(ModelFileTest, AFailedSaveLeavesTheOldFileWhole) {
  Sequential model = mlp();
  model.save(path("model.keras"));
  auto before = zip_entries(path("model.keras"));

  // Two outputs: the compile_config cannot be written yet, so the save fails before writing.
  KerasTensor input = Input({4});
  KerasTensor hidden = layers::Dense(3)(input);
  Functional two({input}, {layers::Dense(1)(hidden), layers::Dense(2)(hidden)});
  two.compile({.optimizer = "sgd", .losses = {"mse", "mse"}});
  EXPECT_NE(error_of<ValueError>([&] { two.save(path("model.keras")); }).find("several outputs"),
            std::string::npos);
  EXPECT_EQ(zip_entries(path("model.keras")), before);
  // A directory that does not exist: IOError naming the file, nothing left behind.
  EXPECT_NE(
      error_of<IOError>([&] { model.save(path("no/such/dir/model.keras")); }).find("model.keras"),
      std::string::npos);
  EXPECT_EQ(listing(), std::vector<std::string>{"model.keras"});
}

TEST_F(ModelFileTest, WeightsThatDoNotFitTheConfigNameTheArchiveAndLayer) {
  Sequential small = mlp();
  small.save(path("small.keras"));
  Sequential wide({layers::Dense(32, {.activation = "relu"}), layers::Dense(4)}, "mlp");
  wide.build(Shape{-1, 8});
  wide.save(path("wide.keras"));
  auto small_entries = zip_entries(path("small.keras"));
  auto wide_entries = zip_entries(path("wide.keras"));
  {
    saving::ZipWriter zip(path("mixed.keras"));
    zip.add("metadata.json", small_entries[0].second);
    zip.add("config.json", small_entries[1].second);
    zip.add("model.weights.h5", wide_entries[2].second);
    zip.close();
  }
  std::string message = error_of<ShapeError>([&] { load_model(path("mixed.keras")); });
  EXPECT_NE(message.find("mixed.keras"), std::string::npos) << message;
  EXPECT_NE(message.find("'model.weights.h5' does not fit model 'mlp'"), std::string::npos)
      << message;
  EXPECT_NE(message.find("layer 'dense"), std::string::npos) << message;
  EXPECT_EQ(message.find("trainyard-model-"), std::string::npos) << message;
}

// ---- archives written by Keras -----------------------------------------------------------

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

Tensor read(const H5File& file, const std::string& dataset) {
  H5DatasetInfo info = file.inspect(dataset);
  Tensor value = Tensor::zeros(Shape(info.dims), *info.dtype);
  file.read_dataset(dataset, value);
  return value;
}

// The archive's model.weights.h5, unpacked next to the test's other files.
H5File archive_weights(const fs::path& archive, const std::string& destination) {
  saving::extract_keras_weights(archive.string(), destination, uint64_t{1} << 30);
  return H5File::open_read_only(destination);
}

// A float64 forward pass of Dense layers (kernels [in, out], biases [out]) over one row;
// every layer but the last applies relu, the last `last` ("sigmoid", "softmax" or "none").
std::vector<double> dense_forward(std::vector<double> row, const std::vector<Tensor>& kernels,
                                  const std::vector<Tensor>& biases, const std::string& last) {
  for (size_t l = 0; l < kernels.size(); ++l) {
    int64_t inputs = kernels[l].shape()[0], units = kernels[l].shape()[1];
    std::vector<double> next(static_cast<size_t>(units));
    for (int64_t u = 0; u < units; ++u) {
      double sum = biases[l].data<float>()[u];
      for (int64_t i = 0; i < inputs; ++i) {
        sum += row[static_cast<size_t>(i)] * kernels[l].data<float>()[i * units + u];
      }
      next[static_cast<size_t>(u)] = l + 1 < kernels.size() ? std::max(sum, 0.0) : sum;
    }
    row = next;
  }
  if (last == "sigmoid") {
    for (double& value : row) value = 1.0 / (1.0 + std::exp(-value));
  } else if (last == "softmax") {
    double peak = *std::max_element(row.begin(), row.end()), total = 0;
    for (double& value : row) total += (value = std::exp(value - peak));
    for (double& value : row) value /= total;
  }
  return row;
}

// Loads `archive`, checks its Dense layers' weights against the HDF5 datasets under
// `groups` bit for bit and its predictions against dense_forward.
void expect_dense_model(const Model& model, const H5File& weights,
                        const std::vector<std::string>& groups, const std::string& last) {
  std::vector<Tensor> kernels, biases;
  for (const std::string& group : groups) {
    kernels.push_back(read(weights, group + "/vars/0"));
    biases.push_back(read(weights, group + "/vars/1"));
  }
  std::vector<Tensor> loaded = model.get_weights();
  ASSERT_EQ(loaded.size(), 2 * groups.size());
  for (size_t l = 0; l < groups.size(); ++l) {
    EXPECT_TRUE(same_bytes(loaded[2 * l], kernels[l])) << groups[l];
    EXPECT_TRUE(same_bytes(loaded[2 * l + 1], biases[l])) << groups[l];
  }
  int64_t features = kernels.front().shape()[0];
  Tensor x = random_tensor({5, features}, 21);
  Tensor predicted = const_cast<Model&>(model).predict(x);
  int64_t outputs = predicted.shape()[1];
  for (int64_t row = 0; row < 5; ++row) {
    std::vector<double> input(x.data<float>() + row * features,
                              x.data<float>() + (row + 1) * features);
    std::vector<double> expected = dense_forward(input, kernels, biases, last);
    for (int64_t o = 0; o < outputs; ++o) {
      EXPECT_NEAR(predicted.data<float>()[row * outputs + o], expected[static_cast<size_t>(o)],
                  1e-6)
          << "row " << row << " output " << o;
    }
  }
}

TEST_F(ModelFileTest, LoadsKeras3SequentialMlp) {
  fs::path file = fixture("keras3_sequential_mlp.keras");
  if (file.empty()) GTEST_SKIP() << "shared/fixtures/keras/keras3_sequential_mlp.keras absent";
  std::unique_ptr<Model> model = load_model(file.string());
  EXPECT_EQ(model->name(), "sequential_1");
  EXPECT_EQ(model->count_params(), 289);  // SOURCES.md
  ASSERT_EQ(model->layers().size(), 5u);
  EXPECT_EQ(model->layers()[1]->class_name(), "Dropout");
  // Its compile_config names the loss but no optimizer, so the Adam state is skipped.
  ASSERT_TRUE(model->compiled());
  EXPECT_FALSE(model->optimizer().built());
  H5File weights = archive_weights(file, path("mlp.weights.h5"));
  expect_dense_model(*model, weights, {"layers/dense", "layers/dense_1", "layers/dense_2"},
                     "sigmoid");
}

TEST_F(ModelFileTest, LoadsTfKeras213SequentialMlp) {
  fs::path file = fixture("tfkeras213_sequential_mlp.keras");
  if (file.empty()) GTEST_SKIP() << "shared/fixtures/keras/tfkeras213_sequential_mlp.keras absent";
  std::unique_ptr<Model> model = load_model(file.string());
  EXPECT_EQ(model->count_params(), 131);  // SOURCES.md
  EXPECT_TRUE(model->compiled());
  // tf.keras 2.13 named the second Dense layer's group "dense_2".
  H5File weights = archive_weights(file, path("iris.weights.h5"));
  expect_dense_model(
      *model, weights,
      {"_layer_checkpoint_dependencies/dense", "_layer_checkpoint_dependencies/dense_2"},
      "softmax");
}

// Float64 "same" 3x3 convolution with relu over an [size, size, channels] image (HWIO kernel).
std::vector<double> conv3x3_same_relu(const std::vector<double>& input, int64_t size,
                                      int64_t channels, const Tensor& kernel, const Tensor& bias) {
  int64_t filters = kernel.shape()[3];
  std::vector<double> output(static_cast<size_t>(size * size * filters));
  for (int64_t r = 0; r < size; ++r) {
    for (int64_t c = 0; c < size; ++c) {
      for (int64_t f = 0; f < filters; ++f) {
        double sum = bias.data<float>()[f];
        for (int64_t kr = 0; kr < 3; ++kr) {
          for (int64_t kc = 0; kc < 3; ++kc) {
            int64_t ir = r + kr - 1, ic = c + kc - 1;
            if (ir < 0 || ic < 0 || ir >= size || ic >= size) continue;
            for (int64_t ch = 0; ch < channels; ++ch) {
              sum += input[static_cast<size_t>((ir * size + ic) * channels + ch)] *
                     kernel.data<float>()[((kr * 3 + kc) * channels + ch) * filters + f];
            }
          }
        }
        output[static_cast<size_t>((r * size + c) * filters + f)] = std::max(sum, 0.0);
      }
    }
  }
  return output;
}

// Float64 2x2 max pooling, stride 2, "valid".
std::vector<double> max_pool2(const std::vector<double>& input, int64_t size, int64_t channels) {
  int64_t half = size / 2;
  std::vector<double> output(static_cast<size_t>(half * half * channels));
  for (int64_t r = 0; r < half; ++r) {
    for (int64_t c = 0; c < half; ++c) {
      for (int64_t ch = 0; ch < channels; ++ch) {
        double best = -INFINITY;
        for (int64_t dr = 0; dr < 2; ++dr) {
          for (int64_t dc = 0; dc < 2; ++dc) {
            best = std::max(
                best,
                input[static_cast<size_t>(((2 * r + dr) * size + 2 * c + dc) * channels + ch)]);
          }
        }
        output[static_cast<size_t>((r * half + c) * channels + ch)] = best;
      }
    }
  }
  return output;
}

TEST_F(ModelFileTest, LoadsKeras3FunctionalCnn) {
  fs::path file = fixture("keras3_functional_cnn.keras");
  if (file.empty()) GTEST_SKIP() << "shared/fixtures/keras/keras3_functional_cnn.keras absent";
  std::unique_ptr<Model> model = load_model(file.string());
  ASSERT_NE(dynamic_cast<Functional*>(model.get()), nullptr);
  EXPECT_EQ(model->count_params(), 105218);  // SOURCES.md
  EXPECT_FALSE(model->compiled());           // saved uncompiled
  H5File weights = archive_weights(file, path("cnn.weights.h5"));
  std::vector<Tensor> loaded = model->get_weights();
  const std::vector<std::string> groups{"conv2d", "conv2d_1", "conv2d_2", "dense"};
  ASSERT_EQ(loaded.size(), 2 * groups.size());
  std::vector<Tensor> kernels, biases;
  for (size_t l = 0; l < groups.size(); ++l) {
    kernels.push_back(read(weights, "layers/" + groups[l] + "/vars/0"));
    biases.push_back(read(weights, "layers/" + groups[l] + "/vars/1"));
    EXPECT_TRUE(same_bytes(loaded[2 * l], kernels[l])) << groups[l];
    EXPECT_TRUE(same_bytes(loaded[2 * l + 1], biases[l])) << groups[l];
  }

  Tensor x = random_tensor({2, 28, 28, 1}, 23);
  float* pixels = x.data<float>();
  for (int64_t i = 0; i < x.num_elements(); ++i) pixels[i] = (pixels[i] + 1) / 2;  // [0, 1]
  Tensor predicted = model->predict(x);
  ASSERT_EQ(predicted.shape(), Shape({2, 2}));
  for (int64_t sample = 0; sample < 2; ++sample) {
    std::vector<double> image(pixels + sample * 784, pixels + (sample + 1) * 784);
    std::vector<double> h = conv3x3_same_relu(image, 28, 1, kernels[0], biases[0]);
    h = max_pool2(h, 28, 32);
    h = conv3x3_same_relu(h, 14, 32, kernels[1], biases[1]);
    h = max_pool2(h, 14, 64);
    h = conv3x3_same_relu(h, 7, 64, kernels[2], biases[2]);
    std::vector<double> bottleneck = dense_forward(h, {kernels[3]}, {biases[3]}, "none");
    for (int64_t unit = 0; unit < 2; ++unit) {
      double expected = std::max(bottleneck[static_cast<size_t>(unit)], 0.0);
      EXPECT_NEAR(predicted.data<float>()[sample * 2 + unit], expected,
                  1e-5 * std::max(1.0, std::abs(expected)))
          << "sample " << sample << " unit " << unit;
    }
  }
}

TEST_F(ModelFileTest, ResavedKerasArchiveLoadsAgainBitForBit) {
  fs::path file = fixture("keras3_sequential_mlp.keras");
  if (file.empty()) GTEST_SKIP() << "shared/fixtures/keras/keras3_sequential_mlp.keras absent";
  std::unique_ptr<Model> model = load_model(file.string());
  model->save(path("resaved.keras"));
  std::unique_ptr<Model> again = load_model(path("resaved.keras"));
  expect_same_weights(*again, *model);
  Tensor x = random_tensor({7, 8}, 22);
  EXPECT_TRUE(same_bytes(again->predict(x), model->predict(x)));
}

// ---- legacy .h5 model files ----------------------------------------------------------------

TEST_F(ModelFileTest, LoadsKeras3LegacyH5LikeItsKerasArchive) {
  fs::path h5 = fixture("keras3_legacy_sequential_mlp.h5");
  fs::path archive = fixture("keras3_sequential_mlp.keras");
  if (h5.empty() || archive.empty()) GTEST_SKIP() << "shared/fixtures/keras absent";
  std::unique_ptr<Model> legacy = load_model(h5.string());
  EXPECT_EQ(legacy->count_params(), 289);  // SOURCES.md
  // Its training_config names Adam and the loss.
  ASSERT_TRUE(legacy->compiled());
  EXPECT_EQ(legacy->optimizer().name(), "adam_1");
  // SOURCES.md: the same trained model as the .keras archive, bit for bit.
  std::unique_ptr<Model> keras = load_model(archive.string());
  expect_same_weights(*legacy, *keras);
  Tensor x = random_tensor({6, 8}, 24);
  EXPECT_TRUE(same_bytes(legacy->predict(x), keras->predict(x)));
}

TEST_F(ModelFileTest, LoadsTfKeras2SequentialH5) {
  fs::path file = fixture("tfkeras2_sequential_dense.h5");
  if (file.empty()) GTEST_SKIP() << "shared/fixtures/keras/tfkeras2_sequential_dense.h5 absent";
  std::unique_ptr<Model> model = load_model(file.string());
  EXPECT_EQ(model->count_params(), 46);  // SOURCES.md
  EXPECT_FALSE(model->compiled());       // its training_config has no loss
  H5File weights = H5File::open_read_only(file.string());
  std::vector<Tensor> expected{read(weights, "model_weights/fc1/fc1/kernel:0"),
                               read(weights, "model_weights/fc1/fc1/bias:0"),
                               read(weights, "model_weights/fc2/fc2/kernel:0"),
                               read(weights, "model_weights/fc2/fc2/bias:0")};
  std::vector<Tensor> loaded = model->get_weights();
  ASSERT_EQ(loaded.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_TRUE(same_bytes(loaded[i], expected[i])) << i;
  // Both layers are linear: y = (x K1 + b1) K2 + b2, in float64.
  Tensor x = random_tensor({3, 8}, 25);
  Tensor predicted = model->predict(x);
  for (int64_t row = 0; row < 3; ++row) {
    std::vector<double> h(4);
    for (int64_t u = 0; u < 4; ++u) {
      h[size_t(u)] = expected[1].data<float>()[u];
      for (int64_t i = 0; i < 8; ++i) {
        h[size_t(u)] += double(x.data<float>()[row * 8 + i]) * expected[0].data<float>()[i * 4 + u];
      }
    }
    for (int64_t o = 0; o < 2; ++o) {
      double y = expected[3].data<float>()[o];
      for (int64_t u = 0; u < 4; ++u) y += h[size_t(u)] * expected[2].data<float>()[u * 2 + o];
      EXPECT_NEAR(predicted.data<float>()[row * 2 + o], y, 1e-6) << "row " << row;
    }
  }
}

TEST_F(ModelFileTest, LoadsTfKeras2FunctionalCnnWithBatchNormalization) {
  fs::path file = fixture("tfkeras2_functional_cnn_bn.h5");
  if (file.empty()) GTEST_SKIP() << "shared/fixtures/keras/tfkeras2_functional_cnn_bn.h5 absent";
  // Its training_config lists metrics as tf.keras 2 metric objects, one list per output:
  // [[MeanMetricWrapper(name "acc", fn categorical_accuracy)]]. The model loads compiled,
  // and evaluate logs the metric under the name it was compiled with.
  std::unique_ptr<Model> compiled = load_model(file.string());
  ASSERT_TRUE(compiled->compiled());
  Tensor x = random_tensor(Shape{4, 28, 28, 1}, 5);
  Tensor y = Tensor::zeros(Shape{4, 10});
  for (int64_t row = 0; row < 4; ++row) y.data<float>()[row * 10 + row] = 1.0f;
  Logs logs = compiled->evaluate({x}, {y}, {.verbose = 0});
  ASSERT_EQ(logs.size(), 2u);
  // Keras 3 lists the compiled metrics before the loss.
  EXPECT_EQ(logs[0].first, "acc");
  EXPECT_EQ(logs[1].first, "loss");
  EXPECT_GE(logs[0].second, 0.0);
  EXPECT_LE(logs[0].second, 1.0);
  std::unique_ptr<Model> model = load_model(file.string(), {.compile = false});
  EXPECT_EQ(model->count_params(), 1078);  // SOURCES.md, 8 of them non-trainable
  EXPECT_EQ(model->non_trainable_weights().size(), 2u);
  // Every layer's weights in weight_names order (BatchNormalization's gamma, beta,
  // moving_mean, moving_variance), as the model holds them.
  H5File weights = H5File::open_read_only(file.string());
  std::vector<Tensor> expected;
  std::vector<std::string> layers =
      weights.string_list_attribute("model_weights", "layer_names").value();
  for (const std::string& layer : layers) {
    std::string group = "model_weights/" + layer;
    std::vector<std::string> names = weights.string_list_attribute(group, "weight_names").value();
    for (const std::string& name : names) expected.push_back(read(weights, group + "/" + name));
  }
  std::vector<Tensor> loaded = model->get_weights();
  ASSERT_EQ(loaded.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_TRUE(same_bytes(loaded[i], expected[i])) << i;
}

TEST_F(ModelFileTest, AWeightsFileIsNotALegacyModelFile) {
  fs::path file = fixture("tfkeras2_sequential_dense.h5");
  if (file.empty()) GTEST_SKIP() << "shared/fixtures/keras/tfkeras2_sequential_dense.h5 absent";
  // A weights file is not a model file.
  Sequential model = mlp();
  save_weights(model, path("w.weights.h5"));
  fs::copy_file(path("w.weights.h5"), path("weights_only.h5"));
  std::string message = error_of<DataError>([&] { load_model(path("weights_only.h5")); });
  EXPECT_NE(message.find("not a legacy Keras model file"), std::string::npos) << message;
}

}  // namespace
}  // namespace trainyard::keras
