// Keras 3 .weights.h5 files: the layout Keras writes, bitwise round trips with optimizer
// state, every mismatch reported at once, broken files refused, and files written by real
// Keras (shared/fixtures/keras) loaded and checked against an independent forward pass.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <trainyard/keras.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include "keras/saving/atomic_file.h"
#include "keras/saving/h5_file.h"
#include "keras/saving/weights_file.h"
#include "keras/trainer.h"

namespace trainyard::keras {
namespace {

namespace fs = std::filesystem;
using saving::H5DatasetInfo;
using saving::H5File;

// A fresh directory per test, removed afterwards.
class SavingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    directory_ = fs::temp_directory_path() / ("trainyard_saving_" + std::string(info->name()) +
                                              "_" + std::to_string(::getpid()));
    fs::remove_all(directory_);
    fs::create_directories(directory_);
  }
  void TearDown() override { fs::remove_all(directory_); }
  std::string path(const std::string& name) const { return (directory_ / name).string(); }

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

// Dense, BatchNormalization (non-trainable statistics), seeded Dropout, Dense: 8 -> 4.
Sequential regression_model() {
  return Sequential({layers::Dense(16, {.activation = "relu"}), layers::BatchNormalization(),
                     layers::Dropout(0.25, {.seed = 11}), layers::Dense(4)});
}

void compile_adam(Model& model) {
  model.compile({.optimizer = optimizers::Adam({.learning_rate = 0.01}), .loss = "mse"});
}

// Builds the optimizer without training: fit() prepares before its first epoch.
void prepare(Model& model, const Tensor& x, const Tensor& y) {
  model.fit(x, y, {.epochs = 0, .verbose = 0});
}

TEST_F(SavingTest, WritesTheLayoutKerasWrites) {
  Sequential model(
      {layers::Dense(16, {.activation = "relu"}), layers::Dropout(0.3), layers::Dense(4)});
  compile_adam(model);
  Tensor x = random_tensor({32, 8}, 1), y = random_tensor({32, 4}, 2);
  model.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0, .seed = 3});
  save_weights(model, path("model.weights.h5"));

  H5File file = H5File::open_read_only(path("model.weights.h5"));
  EXPECT_EQ(file.string_attribute("vars", "name"), model.name());
  EXPECT_TRUE(file.children("vars").empty());
  EXPECT_EQ(file.children("layers"), (std::vector<std::string>{"dense", "dense_1", "dropout"}));
  EXPECT_EQ(file.children("layers/dense/vars"), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(file.string_attribute("layers/dense/vars", "name"), model.layers()[0]->name());
  EXPECT_EQ(file.inspect("layers/dense/vars/0").dims, (std::vector<int64_t>{8, 16}));
  EXPECT_EQ(file.inspect("layers/dense/vars/1").dims, (std::vector<int64_t>{16}));
  EXPECT_TRUE(file.children("layers/dropout/vars").empty());
  EXPECT_EQ(file.string_attribute("layers/dropout/vars", "name"), model.layers()[1]->name());
  EXPECT_EQ(file.inspect("layers/dense_1/vars/0").dims, (std::vector<int64_t>{16, 4}));

  // Optimizer: iterations (int64 scalar), learning rate (float32 scalar), then momentum and
  // velocity interleaved per trainable variable, as Keras's Adam.build creates them.
  nn::Optimizer& adam = model.optimizer();
  EXPECT_EQ(file.string_attribute("optimizer/vars", "name"), "adam");
  EXPECT_EQ(file.children("optimizer/vars").size(), 2u + 2u * 4u);
  H5DatasetInfo iterations = file.inspect("optimizer/vars/0");
  EXPECT_TRUE(iterations.dims.empty());
  EXPECT_EQ(iterations.dtype, DType::kInt64);
  Tensor count = Tensor::zeros(Shape{}, DType::kInt64);
  file.read_dataset("optimizer/vars/0", count);
  EXPECT_EQ(count.data<int64_t>()[0], 8);
  EXPECT_EQ(adam.iterations(), 8);
  Tensor rate = Tensor::zeros(Shape{}, DType::kFloat32);
  file.read_dataset("optimizer/vars/1", rate);
  EXPECT_EQ(rate.data<float>()[0], 0.01f);
  const Tensor& kernel = model.layers()[2]->weights()[0]->value;  // dense_1's kernel: [16, 4]
  Tensor momentum = Tensor::zeros(kernel.shape()), velocity = Tensor::zeros(kernel.shape());
  file.read_dataset("optimizer/vars/6", momentum);
  file.read_dataset("optimizer/vars/7", velocity);
  size_t offset = static_cast<size_t>(adam.segments()[2].offset) * sizeof(float);
  EXPECT_TRUE(same_bytes(momentum, adam.slots()[0].view(offset, kernel.shape(), DType::kFloat32)));
  EXPECT_TRUE(same_bytes(velocity, adam.slots()[1].view(offset, kernel.shape(), DType::kFloat32)));
  EXPECT_FALSE(same_bytes(momentum, velocity));

  // Nothing but the file itself is left in the directory.
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(directory_)) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(SavingTest, RoundTripIsBitwiseAndTrainingContinuesIdentically) {
  Tensor x = random_tensor({64, 8}, 4), y = random_tensor({64, 4}, 5);
  set_random_seed(100);
  Sequential trained = regression_model();
  compile_adam(trained);
  trained.fit(x, y, {.batch_size = 16, .epochs = 3, .verbose = 0, .seed = 9});
  save_weights(trained, path("trained.weights.h5"));

  set_random_seed(200);  // other initial weights
  Sequential restored = regression_model();
  compile_adam(restored);
  prepare(restored, x, y);
  ASSERT_FALSE(same_bytes(restored.get_weights()[0], trained.get_weights()[0]));
  LoadWeightsResult result = load_weights(restored, path("trained.weights.h5"));
  EXPECT_TRUE(result.optimizer_loaded);

  std::vector<Tensor> expected = trained.get_weights(), actual = restored.get_weights();
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_TRUE(same_bytes(actual[i], expected[i])) << i;
  EXPECT_TRUE(same_bytes(restored.predict(x, {.verbose = 0}), trained.predict(x, {.verbose = 0})));
  EXPECT_EQ(restored.optimizer().iterations(), trained.optimizer().iterations());
  EXPECT_EQ(restored.optimizer().learning_rate(), trained.optimizer().learning_rate());
  for (size_t s = 0; s < trained.optimizer().slots().size(); ++s) {
    EXPECT_TRUE(same_bytes(restored.optimizer().slots()[s], trained.optimizer().slots()[s])) << s;
  }

  // Adam's moments and step count came back too: one more epoch stays bitwise identical.
  trained.fit(x, y, {.batch_size = 16, .epochs = 1, .verbose = 0, .seed = 10});
  restored.fit(x, y, {.batch_size = 16, .epochs = 1, .verbose = 0, .seed = 10});
  expected = trained.get_weights();
  actual = restored.get_weights();
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_TRUE(same_bytes(actual[i], expected[i])) << i;
}

TEST_F(SavingTest, OptimizerStateIsSkippedUntilTheOptimizerIsBuilt) {
  Tensor x = random_tensor({16, 8}, 6), y = random_tensor({16, 4}, 7);
  Sequential trained = regression_model();
  compile_adam(trained);
  trained.fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0});
  save_weights(trained, path("a.weights.h5"));
  save_weights(trained, path("no_optimizer.weights.h5"), {.include_optimizer = false});
  EXPECT_FALSE(H5File::open_read_only(path("no_optimizer.weights.h5")).is_group("optimizer"));

  Sequential fresh = regression_model();
  fresh.build(Shape{-1, 8});
  compile_adam(fresh);
  EXPECT_FALSE(load_weights(fresh, path("a.weights.h5")).optimizer_loaded);
  EXPECT_TRUE(same_bytes(fresh.get_weights()[0], trained.get_weights()[0]));
  EXPECT_EQ(fresh.optimizer().iterations(), 0);
}

TEST_F(SavingTest, ReportsEveryMismatchAtOnceAndChangesNothing) {
  Sequential saved({layers::Dense(16), layers::Dense(4)});
  saved.build(Shape{-1, 8});
  save_weights(saved, path("saved.weights.h5"));

  Sequential other({layers::Dense(12), layers::Dense(4), layers::Dense(2)});
  other.build(Shape{-1, 8});
  std::vector<Tensor> before = other.get_weights();
  try {
    load_weights(other, path("saved.weights.h5"));
    FAIL() << "load_weights accepted a file of another architecture";
  } catch (const ShapeError& error) {
    std::string message = error.what();
    const auto& layers = other.layers();
    EXPECT_NE(message.find(path("saved.weights.h5")), std::string::npos) << message;
    EXPECT_NE(message.find("4 mismatches"), std::string::npos) << message;
    // Kernel and bias of the first layer, the second layer's kernel, the missing third layer.
    EXPECT_NE(message.find("layer '" + layers[0]->name() + "' variable '" +
                           layers[0]->weights()[0]->path +
                           "' ('layers/dense/vars/0'): expected float32 [8, 12], the file has "
                           "float32 [8, 16]"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(layers[0]->weights()[1]->path + "' ('layers/dense/vars/1')"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(layers[1]->weights()[0]->path + "' ('layers/dense_1/vars/0')"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("layer '" + layers[2]->name() +
                           "': not in the file (no group 'layers/dense_2/vars')"),
              std::string::npos)
        << message;
  }
  std::vector<Tensor> after = other.get_weights();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(same_bytes(before[i], after[i]));

  // A file with a layer the model lacks is refused too.
  Sequential smaller({layers::Dense(16)});
  smaller.build(Shape{-1, 8});
  try {
    load_weights(smaller, path("saved.weights.h5"));
    FAIL() << "load_weights ignored a layer the model does not have";
  } catch (const ShapeError& error) {
    EXPECT_NE(std::string(error.what()).find("'layers/dense_1' that the model does not have"),
              std::string::npos)
        << error.what();
  }
}

TEST_F(SavingTest, RefusesFilesThatAreNotWeightsFiles) {
  Sequential model({layers::Dense(16), layers::Dense(4)});
  model.build(Shape{-1, 8});

  EXPECT_THROW(save_weights(model, path("model.h5")), ValueError);
  Sequential unbuilt({layers::Dense(2)});
  EXPECT_THROW(save_weights(unbuilt, path("unbuilt.weights.h5")), ValueError);

  try {
    load_weights(model, path("missing.weights.h5"));
    FAIL();
  } catch (const IOError& error) {
    EXPECT_NE(std::string(error.what()).find(path("missing.weights.h5")), std::string::npos);
  }

  std::ofstream(path("text.weights.h5")) << "not an HDF5 file, just text\n";
  try {
    load_weights(model, path("text.weights.h5"));
    FAIL();
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find(path("text.weights.h5") + "' is not an HDF5 file"),
              std::string::npos)
        << error.what();
  }

  // Every truncation of a valid file is refused with the file's name, never a crash.
  save_weights(model, path("whole.weights.h5"));
  std::ifstream whole_file(path("whole.weights.h5"), std::ios::binary);
  std::string whole((std::istreambuf_iterator<char>(whole_file)), std::istreambuf_iterator<char>());
  for (size_t length : {whole.size() / 2, whole.size() - 1, size_t{600}}) {
    std::ofstream(path("cut.weights.h5"), std::ios::binary | std::ios::trunc)
        .write(whole.data(), static_cast<std::streamsize>(length));
    try {
      load_weights(model, path("cut.weights.h5"));
      FAIL() << "a file cut to " << length << " of " << whole.size() << " bytes was accepted";
    } catch (const DataError& error) {
      EXPECT_NE(std::string(error.what()).find(path("cut.weights.h5")), std::string::npos)
          << error.what();
    }
  }
}

// Writes a weights file for a Dense(16) on 8 inputs whose kernel dataset claims 2^40
// elements; its chunks were never written, so the file itself is tiny.
void write_absurd_file(const std::string& path) {
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  hid_t links = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(links, 1);
  hsize_t huge[2] = {hsize_t{1} << 20, hsize_t{1} << 20};
  hsize_t chunk[2] = {1, 1024};
  hid_t huge_space = H5Screate_simple(2, huge, nullptr);
  hid_t create = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(create, 2, chunk);
  hid_t kernel = H5Dcreate2(file, "layers/dense/vars/0", H5T_IEEE_F32LE, huge_space, links, create,
                            H5P_DEFAULT);
  ASSERT_GE(kernel, 0);
  hsize_t bias_dims[1] = {16};
  hid_t bias_space = H5Screate_simple(1, bias_dims, nullptr);
  hid_t bias = H5Dcreate2(file, "layers/dense/vars/1", H5T_IEEE_F32LE, bias_space, links,
                          H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(bias, 0);
  H5Dclose(bias);
  H5Sclose(bias_space);
  H5Dclose(kernel);
  H5Pclose(create);
  H5Sclose(huge_space);
  H5Pclose(links);
  ASSERT_GE(H5Fclose(file), 0);
}

TEST_F(SavingTest, RefusesAbsurdDatasetShapesWithoutReadingThem) {
  write_absurd_file(path("absurd.weights.h5"));
  ASSERT_LT(fs::file_size(path("absurd.weights.h5")), 1u << 20);
  Sequential model({layers::Dense(16)});
  model.build(Shape{-1, 8});
  try {
    load_weights(model, path("absurd.weights.h5"));
    FAIL() << "a 2^40-element kernel was accepted";
  } catch (const ShapeError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find(path("absurd.weights.h5")), std::string::npos) << message;
    EXPECT_NE(message.find("the file has float32 [1048576, 1048576]"), std::string::npos)
        << message;
  }
}

TEST_F(SavingTest, AFailedWriteLeavesTheOldFileAndNoTemporary) {
  saving::write_text_file_atomically(path("record.json"), "old");
  EXPECT_THROW(saving::write_file_atomically(path("record.json"),
                                             [](const std::string& temporary) {
                                               std::ofstream(temporary) << "half of the new";
                                               throw IOError("disk full");
                                             }),
               IOError);
  EXPECT_EQ(saving::read_small_file(path("record.json"), 100), "old");
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(directory_)) ++entries;
  EXPECT_EQ(entries, 1);
  EXPECT_THROW(saving::read_small_file(path("record.json"), 2), IOError);
}

// ---- files written by Keras ---------------------------------------------------------------

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

// Every dataset path and group path under `group`, recursively.
void walk(const H5File& file, const std::string& group, std::set<std::string>& groups,
          std::set<std::string>& datasets) {
  for (const std::string& name : file.children(group)) {
    std::string child = group == "." ? name : group + "/" + name;
    if (file.is_group(child)) {
      groups.insert(child);
      walk(file, child, groups, datasets);
    } else {
      datasets.insert(child);
    }
  }
}

Tensor read(const H5File& file, const std::string& dataset) {
  H5DatasetInfo info = file.inspect(dataset);
  Tensor value = Tensor::zeros(Shape(info.dims), *info.dtype);
  file.read_dataset(dataset, value);
  return value;
}

// Loads the Keras file at `fixture_path` into `model` with its optimizer state, then saves the
// model again: the new file must have the same groups and datasets, bit for bit, so every
// weight and optimizer variable went where Keras put it and came back out unchanged.
void expect_loaded_exactly(Model& model, const fs::path& fixture_path, const std::string& resaved) {
  LoadWeightsResult result = load_weights(model, fixture_path.string());
  EXPECT_TRUE(result.optimizer_loaded);
  save_weights(model, resaved);

  H5File original = H5File::open_read_only(fixture_path.string());
  H5File ours = H5File::open_read_only(resaved);
  std::set<std::string> original_groups, original_datasets, our_groups, our_datasets;
  walk(original, ".", original_groups, original_datasets);
  walk(ours, ".", our_groups, our_datasets);
  EXPECT_EQ(our_groups, original_groups);
  ASSERT_EQ(our_datasets, original_datasets);
  for (const std::string& dataset : original_datasets) {
    EXPECT_TRUE(same_bytes(read(ours, dataset), read(original, dataset))) << dataset;
  }
}

TEST_F(SavingTest, LoadsKerasSequentialMlpWithAdamState) {
  fs::path file = fixture("keras3_sequential_mlp.weights.h5");
  if (file.empty()) GTEST_SKIP() << "shared/fixtures/keras/keras3_sequential_mlp.weights.h5 absent";
  Sequential model({layers::Dense(16, {.activation = "relu"}), layers::Dropout(0.3),
                    layers::Dense(8, {.activation = "relu"}), layers::Dropout(0.2),
                    layers::Dense(1, {.activation = "sigmoid"})});
  model.compile({.optimizer = "adam", .loss = "binary_crossentropy"});
  Tensor x = random_tensor({5, 8}, 12);
  prepare(model, x, Tensor::zeros(Shape{5, 1}));
  expect_loaded_exactly(model, file, path("resaved.weights.h5"));
  EXPECT_EQ(model.optimizer().iterations(), 1136);
  EXPECT_EQ(model.optimizer().learning_rate(), static_cast<double>(0.001f));

  // An independent float64 forward pass over the file's arrays.
  H5File weights = H5File::open_read_only(file.string());
  std::vector<Tensor> kernels, biases;
  for (const char* layer : {"dense", "dense_1", "dense_2"}) {
    kernels.push_back(read(weights, std::string("layers/") + layer + "/vars/0"));
    biases.push_back(read(weights, std::string("layers/") + layer + "/vars/1"));
  }
  Tensor predicted = model.predict(x, {.verbose = 0});
  for (int64_t row = 0; row < 5; ++row) {
    std::vector<double> activation(x.data<float>() + row * 8, x.data<float>() + row * 8 + 8);
    for (size_t l = 0; l < kernels.size(); ++l) {
      int64_t inputs = kernels[l].shape()[0], units = kernels[l].shape()[1];
      std::vector<double> next(static_cast<size_t>(units));
      for (int64_t u = 0; u < units; ++u) {
        double sum = biases[l].data<float>()[u];
        for (int64_t i = 0; i < inputs; ++i) {
          sum += activation[static_cast<size_t>(i)] * kernels[l].data<float>()[i * units + u];
        }
        next[static_cast<size_t>(u)] =
            l + 1 < kernels.size() ? std::max(sum, 0.0) : 1.0 / (1.0 + std::exp(-sum));
      }
      activation = next;
    }
    EXPECT_NEAR(predicted.data<float>()[row], activation[0], 1e-6) << "row " << row;
  }
}

TEST_F(SavingTest, LoadsKerasSequentialCnnWithAdamState) {
  fs::path file = fixture("keras3_sequential_cnn.weights.h5");
  if (file.empty()) GTEST_SKIP() << "shared/fixtures/keras/keras3_sequential_cnn.weights.h5 absent";
  Sequential model({layers::Conv2D(32, 3, {.padding = "same", .activation = "relu"}),
                    layers::MaxPooling2D(2),
                    layers::Conv2D(64, 3, {.padding = "same", .activation = "relu"}),
                    layers::GlobalAveragePooling2D(), layers::Dense(64, {.activation = "relu"}),
                    layers::Dense(4, {.activation = "softmax"})});
  model.compile({.optimizer = "adam", .loss = "categorical_crossentropy"});
  Tensor x = random_tensor({2, 8, 8, 3}, 13);
  prepare(model, x, Tensor::zeros(Shape{2, 4}));
  expect_loaded_exactly(model, file, path("resaved.weights.h5"));
  EXPECT_EQ(model.optimizer().iterations(), 1883548);

  // An independent float64 forward pass: Keras's HWIO kernels, "same" padding of 1.
  H5File weights = H5File::open_read_only(file.string());
  auto conv_same = [&](const std::vector<double>& input, int64_t size, int64_t channels,
                       const std::string& layer) {
    Tensor kernel = read(weights, "layers/" + layer + "/vars/0");
    Tensor bias = read(weights, "layers/" + layer + "/vars/1");
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
  };
  auto dense = [&](const std::vector<double>& input, const std::string& layer) {
    Tensor kernel = read(weights, "layers/" + layer + "/vars/0");
    Tensor bias = read(weights, "layers/" + layer + "/vars/1");
    int64_t inputs = kernel.shape()[0], units = kernel.shape()[1];
    std::vector<double> output(static_cast<size_t>(units));
    for (int64_t u = 0; u < units; ++u) {
      double sum = bias.data<float>()[u];
      for (int64_t i = 0; i < inputs; ++i) {
        sum += input[static_cast<size_t>(i)] * kernel.data<float>()[i * units + u];
      }
      output[static_cast<size_t>(u)] = sum;
    }
    return output;
  };
  Tensor predicted = model.predict(x, {.verbose = 0});
  for (int64_t sample = 0; sample < 2; ++sample) {
    const float* pixels = x.data<float>() + sample * 8 * 8 * 3;
    std::vector<double> image(pixels, pixels + 8 * 8 * 3);
    std::vector<double> first = conv_same(image, 8, 3, "conv2d");
    std::vector<double> pooled(4 * 4 * 32);
    for (int64_t r = 0; r < 4; ++r) {
      for (int64_t c = 0; c < 4; ++c) {
        for (int64_t f = 0; f < 32; ++f) {
          double best = -INFINITY;
          for (int64_t dr = 0; dr < 2; ++dr) {
            for (int64_t dc = 0; dc < 2; ++dc) {
              best = std::max(best,
                              first[static_cast<size_t>(((2 * r + dr) * 8 + 2 * c + dc) * 32 + f)]);
            }
          }
          pooled[static_cast<size_t>((r * 4 + c) * 32 + f)] = best;
        }
      }
    }
    std::vector<double> second = conv_same(pooled, 4, 32, "conv2d_1");
    std::vector<double> average(64, 0.0);
    for (size_t i = 0; i < second.size(); ++i) average[i % 64] += second[i] / 16.0;
    std::vector<double> hidden = dense(average, "dense");
    for (double& value : hidden) value = std::max(value, 0.0);
    std::vector<double> logits = dense(hidden, "dense_1");
    double top = *std::max_element(logits.begin(), logits.end()), total = 0;
    for (double& value : logits) total += (value = std::exp(value - top));
    for (int64_t k = 0; k < 4; ++k) {
      EXPECT_NEAR(predicted.data<float>()[sample * 4 + k], logits[static_cast<size_t>(k)] / total,
                  1e-5)
          << "sample " << sample << " class " << k;
    }
  }
}

// Keras on JAX keeps integers 32-bit unless x64 is enabled, so its files hold the optimizer's
// `iterations` as int32 where trainyard (and Keras on TensorFlow) write int64: the counter is
// widened on load, and training continues from it.
TEST_F(SavingTest, ReadsAnInt32IterationCountAsKerasOnJaxWritesIt) {
  Tensor x = random_tensor({32, 8}, 11), y = random_tensor({32, 4}, 12);
  Sequential trained = regression_model();
  compile_adam(trained);
  trained.fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0});
  save_weights(trained, path("int64.weights.h5"));
  {
    H5File original = H5File::open_read_only(path("int64.weights.h5"));
    H5File narrowed = H5File::create(path("int32.weights.h5"));
    std::set<std::string> groups, datasets;
    walk(original, ".", groups, datasets);
    for (const std::string& group : groups) narrowed.create_group(group);
    for (const std::string& dataset : datasets) {
      Tensor value = read(original, dataset);
      if (dataset == "optimizer/vars/0") {
        ASSERT_EQ(value.dtype(), DType::kInt64);
        Tensor count = Tensor::zeros(Shape{}, DType::kInt32);
        count.data<int32_t>()[0] = static_cast<int32_t>(value.data<int64_t>()[0]);
        value = count;
      }
      narrowed.write_dataset(dataset, value);
    }
  }
  Sequential restored = regression_model();
  compile_adam(restored);
  prepare(restored, x, y);
  EXPECT_TRUE(load_weights(restored, path("int32.weights.h5")).optimizer_loaded);
  EXPECT_EQ(restored.optimizer().iterations(), 4);
  EXPECT_TRUE(same_bytes(restored.predict(x, {.verbose = 0}), trained.predict(x, {.verbose = 0})));
}

}  // namespace
}  // namespace trainyard::keras
