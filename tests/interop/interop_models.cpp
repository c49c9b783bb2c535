// One half of scripts/interop-test, where real Keras judges trainyard's model files.
//
//   interop_models write DIR   trains small models and writes, for each NAME, NAME.keras,
//                              legacy NAME.h5, NAME.weights.h5, NAME.json (to_json), the inputs
//                              (NAME.inputs.K.npy, one per model input) and
//                              NAME.predictions.npy, for tests/interop/keras_interop.py check.
//   interop_models check DIR   loads every model Keras wrote into DIR (keras_interop.py write)
//                              each way trainyard can (NAME.keras; NAME.json + NAME.weights.h5;
//                              legacy NAME.h5) and compares its predictions with Keras's.
//
// Not a ctest test: it needs Keras on the other side, which scripts/interop-test installs.
#include <trainyard/keras.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "data/npy.h"
#include "keras/model_config.h"
#include "keras/saving/model_file.h"
#include "keras/saving/weights_file.h"

namespace {

namespace fs = std::filesystem;
namespace k = trainyard::keras;
using trainyard::RandomGenerator;
using trainyard::Shape;
using trainyard::Tensor;

// float32 forward passes in two engines differ by summation order only; 1e-5 relative is a
// few ulps over these small models, and far below what a wrong weight or layout gives.
constexpr double kTolerance = 1e-5;

Tensor uniform(const Shape& shape, uint64_t seed) {
  Tensor tensor = Tensor::zeros(shape);
  RandomGenerator generator(seed);
  float* data = tensor.data<float>();
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    data[i] = static_cast<float>(generator.uniform() * 2 - 1);
  }
  return tensor;
}

// ||a - b|| / ||b||, in double; infinity when the shapes or dtypes (float32 on both sides)
// differ.
double relative_error(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype() || b.dtype() != trainyard::DType::kFloat32) {
    return INFINITY;
  }
  const float* x = a.data<float>();
  const float* y = b.data<float>();
  double difference = 0, norm = 0;
  for (int64_t i = 0; i < b.num_elements(); ++i) {
    difference += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
    norm += double(y[i]) * y[i];
  }
  return std::sqrt(difference) / std::max(std::sqrt(norm), 1e-30);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Trains a few steps without shuffling (the data alone decides the result), then writes every
// file keras_interop.py check reads.
void train_and_write(k::Model& model, const std::vector<Tensor>& x, const Tensor& y,
                     const fs::path& dir, const std::string& name) {
  model.fit(x, y, {.batch_size = 16, .epochs = 3, .verbose = 0, .shuffle = false});
  model.save((dir / (name + ".keras")).string());
  model.save((dir / (name + ".h5")).string());
  std::ofstream(dir / (name + ".json"), std::ios::binary) << k::serialize_model(model);
  k::save_weights(model, (dir / (name + ".weights.h5")).string());
  for (size_t i = 0; i < x.size(); ++i) {
    trainyard::data::write_npy((dir / (name + ".inputs." + std::to_string(i) + ".npy")).string(),
                               x[i]);
  }
  trainyard::data::write_npy((dir / (name + ".predictions.npy")).string(),
                             model.predict(x, {.batch_size = 64, .verbose = 0})[0]);
  std::cout << "wrote " << name << " (.keras, legacy .h5, .weights.h5, .json)\n";
}

// Conv2D, BatchNormalization, ReLU, MaxPooling2D, Flatten, Dense, built the same way in
// keras_interop.py; it travels in every format, and its .weights.h5 is also loaded into the
// model built in code. Its layers' moving statistics (momentum 0.5, so a few steps move them
// far from 0 and 1) must land where the other side reads them.
std::unique_ptr<k::Model> build_bn_cnn() {
  k::KerasTensor image = k::Input({8, 8, 2}, "image");
  k::KerasTensor h = k::layers::Conv2D(4, 3)(image);
  h = k::layers::BatchNormalization({.momentum = 0.5})(h);
  h = k::layers::Activation("relu")(h);
  h = k::layers::MaxPooling2D(2)(h);
  h = k::layers::Flatten()(h);
  return std::make_unique<k::Functional>(image, k::layers::Dense(3)(h), "bn_cnn");
}

void write_models(const fs::path& dir) {
  k::utils::set_random_seed(2026);
  {  // A Sequential MLP; Dropout is active in fit and must be the identity in predict.
    k::Sequential model({k::layers::Dense(16, {.activation = "relu"}), k::layers::Dropout(0.25),
                         k::layers::Dense(3, {.activation = "softmax"})},
                        "mlp");
    model.build(Shape{-1, 8});
    model.compile({.optimizer = k::optimizers::Adam({.learning_rate = 1e-2}),
                   .loss = "categorical_crossentropy"});
    Tensor x = uniform({64, 8}, 1);
    Tensor y = Tensor::zeros({64, 3});
    for (int64_t i = 0; i < 64; ++i) y.data<float>()[i * 3 + i % 3] = 1;
    train_and_write(model, {x}, y, dir, "mlp");
  }
  {  // A Functional CNN: channels-last convolution and pooling, Flatten's element order.
    k::KerasTensor image = k::Input({8, 8, 2}, "image");
    k::KerasTensor h = k::layers::Conv2D(4, 3, {.activation = "relu"})(image);
    h = k::layers::MaxPooling2D(2)(h);
    h = k::layers::Flatten()(h);
    k::Functional model(image, k::layers::Dense(3)(h), "cnn");
    model.compile(
        {.optimizer = k::optimizers::SGD({.learning_rate = 0.05, .momentum = 0.9}), .loss = "mse"});
    Tensor x = uniform({64, 8, 8, 2}, 2), y = uniform({64, 3}, 3);
    train_and_write(model, {x}, y, dir, "cnn");
  }
  {  // Two inputs joined by Concatenate: input order and the merge's axis.
    k::KerasTensor a = k::Input({6}, "a"), b = k::Input({4}, "b");
    k::KerasTensor joined =
        k::layers::Concatenate()({k::layers::Dense(8, {.activation = "tanh"})(a), b});
    k::Functional model({a, b}, k::layers::Dense(2)(joined), "two_inputs");
    model.compile({.optimizer = "rmsprop", .loss = "mse"});
    Tensor xa = uniform({64, 6}, 4), xb = uniform({64, 4}, 5), y = uniform({64, 2}, 6);
    train_and_write(model, {xa, xb}, y, dir, "two_inputs");
  }
  {
    std::unique_ptr<k::Model> model = build_bn_cnn();
    model->compile({.optimizer = k::optimizers::Adam({.learning_rate = 1e-2}), .loss = "mse"});
    Tensor x = uniform({64, 8, 8, 2}, 7), y = uniform({64, 3}, 8);
    train_and_write(*model, {x}, y, dir, "bn_cnn");
  }
  {  // Token ids through Embedding, LayerNormalization and causal Conv1D.
    k::Sequential model({k::layers::Embedding(12, 4), k::layers::LayerNormalization(),
                         k::layers::Conv1D(3, 2, {.padding = "causal", .activation = "relu"}),
                         k::layers::Flatten(), k::layers::Dense(2)},
                        "tokens");
    model.build(Shape{-1, 6});
    model.compile({.optimizer = k::optimizers::Adam({.learning_rate = 1e-2}), .loss = "mse"});
    Tensor x = Tensor::zeros({64, 6});
    for (int64_t i = 0; i < x.num_elements(); ++i) x.data<float>()[i] = float((i * 5 + 1) % 12);
    train_and_write(model, {x}, uniform({64, 2}, 9), dir, "tokens");
  }
}

// Predicts with `model` on NAME's inputs and prints one line; false on a mismatch.
bool compare(k::Model& model, const std::vector<Tensor>& x, const Tensor& expected,
             const std::string& name, const std::string& format) {
  double error = relative_error(model.predict(x, {.batch_size = 64, .verbose = 0})[0], expected);
  bool ok = error <= kTolerance;
  std::cout << (ok ? "ok   " : "FAIL ") << name << " " << format << ": relative error " << error
            << (ok ? "" : " (over 1e-5)") << "\n";
  return ok;
}

int check_models(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string file = entry.path().filename().string();
    const std::string suffix = ".predictions.npy";
    if (file.size() > suffix.size() && file.ends_with(suffix)) {
      names.push_back(file.substr(0, file.size() - suffix.size()));
    }
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) {
    std::cerr << "interop_models check: no NAME.predictions.npy in " << dir << "\n";
    return 1;
  }
  int failures = 0, checks = 0;
  for (const std::string& name : names) {
    auto file = [&](const std::string& suffix) { return (dir / (name + suffix)).string(); };
    std::vector<Tensor> x;
    while (fs::exists(file(".inputs." + std::to_string(x.size()) + ".npy"))) {
      x.push_back(trainyard::data::read_npy(file(".inputs." + std::to_string(x.size()) + ".npy")));
    }
    Tensor expected = trainyard::data::read_npy(file(".predictions.npy"));
    // Each way of loading runs on its own, so one failure does not hide the others.
    auto attempt = [&](const std::string& format, const std::string& needed, auto load) {
      if (!fs::exists(file(needed))) return;
      ++checks;
      try {
        std::unique_ptr<k::Model> model = load();
        if (!compare(*model, x, expected, name, format)) ++failures;
      } catch (const std::exception& error) {
        std::cout << "FAIL " << name << " " << format << ": cannot load: " << error.what() << "\n";
        ++failures;
      }
    };
    attempt(".keras", ".keras", [&] { return k::load_model(file(".keras")); });
    attempt(".json + .weights.h5", ".json", [&] {
      std::unique_ptr<k::Model> model =
          k::deserialize_model(read_text(file(".json")), {.compile = false});
      k::load_weights(*model, file(".weights.h5"));
      return model;
    });
    if (name == "bn_cnn") {  // also into the architecture built in code
      attempt("built in code + .weights.h5", ".weights.h5", [&] {
        std::unique_ptr<k::Model> model = build_bn_cnn();
        k::load_weights(*model, file(".weights.h5"));
        return model;
      });
    }
    attempt("legacy .h5", ".h5", [&] { return k::load_model(file(".h5")); });
  }
  std::cout << checks - failures << " of " << checks << " checks passed\n";
  return failures == 0 && checks > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc == 3 ? argv[1] : "";
  if (mode != "write" && mode != "check") {
    std::cerr << "usage: interop_models write|check DIR\n";
    return 2;
  }
  try {
    if (mode == "write") {
      write_models(argv[2]);
      return 0;
    }
    return check_models(argv[2]);
  } catch (const std::exception& error) {
    std::cerr << "interop_models " << mode << ": " << error.what() << "\n";
    return 1;
  }
}
