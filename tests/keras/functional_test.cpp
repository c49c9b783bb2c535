// The Functional API: Input, layers called on symbolic tensors (shared layers included),
// Functional(inputs, outputs) with several inputs and outputs, and compile/fit/evaluate/predict
// with per-output losses, loss weights and metrics. Expected values come from a forward pass
// written out in this file with plain loops.
#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include <cmath>
#include <sstream>

#include "keras/trainer.h"

namespace trainyard::keras {
namespace {

using Matrix = std::vector<std::vector<double>>;

// The model every test here uses (Keras orders its layers b, a, proj, shared, add, cat, out1, out2;
// see LayersComeInKerasOrder):
//   a [4] --------------------------> shared (Dense 5) --+--> add --+--> out2 (Dense 1)
//   b [3] -> proj (Dense 4) -> shared (the same layer) --+          |
//   [shared(a), add] -> cat -> out1 (Dense 3)  <-------------------+
struct TwoHeads {
  KerasTensor a, b, out1, out2;
  Functional model;
};

TwoHeads two_heads(const std::string& name = "two_heads") {
  auto a = Input({4}, "a");
  auto b = Input({3}, "b");
  auto shared = layers::Dense(5, {.name = "shared"});
  auto from_a = shared(a);
  auto from_b = shared(layers::Dense(4, {.name = "proj"})(b));
  auto sum = layers::Add("add")({from_a, from_b});
  auto out1 = layers::Dense(3, {.name = "out1"})(layers::Concatenate(-1, "cat")({from_a, sum}));
  auto out2 = layers::Dense(1, {.name = "out2"})(sum);
  return {a, b, out1, out2, Functional({a, b}, {out1, out2}, name)};
}

// Deterministic weights, different for every element of every weight.
void set_known_weights(Model& model) {
  std::vector<Tensor> values;
  int counter = 0;
  for (const auto& variable : model.weights()) {
    std::vector<float> data;
    for (int64_t i = 0; i < variable->value.num_elements(); ++i, ++counter) {
      data.push_back(0.05f * static_cast<float>((counter * 7) % 13 - 6));
    }
    values.push_back(Tensor::from_vector<float>(variable->value.shape(), data));
  }
  model.set_weights(values);
}

Matrix rows_of(const Tensor& tensor) {
  Tensor values = tensor.cast(DType::kFloat64);
  int64_t columns = tensor.shape()[-1];
  Matrix matrix(static_cast<size_t>(tensor.shape()[0]), std::vector<double>(columns));
  for (size_t r = 0; r < matrix.size(); ++r) {
    for (int64_t c = 0; c < columns; ++c) matrix[r][c] = values.data<double>()[r * columns + c];
  }
  return matrix;
}

// x @ kernel + bias, with kernel [K, N] and bias [N] read from a Dense layer's weights.
Matrix dense(const Matrix& x, const nn::LayerPtr& layer) {
  Matrix kernel = rows_of(layer->weights()[0]->value);
  std::vector<double> bias = layer->weights()[1]->value.cast(DType::kFloat64).to_vector<double>();
  Matrix y(x.size(), bias);
  for (size_t r = 0; r < x.size(); ++r) {
    for (size_t n = 0; n < bias.size(); ++n) {
      for (size_t k = 0; k < kernel.size(); ++k) y[r][n] += x[r][k] * kernel[k][n];
    }
  }
  return y;
}

nn::LayerPtr layer_named(const Model& model, const std::string& name) {
  for (const auto& layer : model.layers()) {
    if (layer->name() == name) return layer;
  }
  throw ValueError("no layer " + name);
}

struct Heads {
  Matrix out1, out2;
};

Heads reference_forward(const Model& model, const Tensor& a, const Tensor& b) {
  Matrix from_a = dense(rows_of(a), layer_named(model, "shared"));
  Matrix from_b =
      dense(dense(rows_of(b), layer_named(model, "proj")), layer_named(model, "shared"));
  Matrix sum = from_a, joined = from_a;
  for (size_t r = 0; r < sum.size(); ++r) {
    for (size_t c = 0; c < sum[r].size(); ++c) sum[r][c] += from_b[r][c];
    joined[r].insert(joined[r].end(), sum[r].begin(), sum[r].end());
  }
  return {dense(joined, layer_named(model, "out1")), dense(sum, layer_named(model, "out2"))};
}

Tensor uniform(const Shape& shape, uint64_t seed) {
  Tensor tensor = Tensor::zeros(shape);
  RandomGenerator generator(seed);
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    tensor.data<float>()[i] = static_cast<float>(2 * generator.uniform() - 1);
  }
  return tensor;
}

Tensor labels(int64_t rows, int64_t classes, uint64_t seed) {
  Tensor tensor = Tensor::zeros(Shape{rows}, DType::kInt32);
  RandomGenerator generator(seed);
  for (int64_t r = 0; r < rows; ++r) {
    tensor.data<int32_t>()[r] = static_cast<int32_t>(generator.below(classes));
  }
  return tensor;
}

std::vector<std::string> names_of(const Logs& logs) {
  std::vector<std::string> names;
  for (const auto& [name, value] : logs) names.push_back(name);
  return names;
}

double log_value(const Logs& logs, const std::string& name) {
  std::optional<double> value = find_log(logs, name);
  if (!value) throw ValueError("no log " + name);
  return *value;
}

TEST(FunctionalTest, LayersComeInKerasOrder) {
  TwoHeads heads = two_heads();
  // Keras sorts layers by depth from the outputs, deepest first; within a depth, by the order a
  // depth-first walk from the outputs met them (b is deepest: b -> proj -> shared -> add -> cat
  // -> out1).
  std::vector<std::string> names;
  for (const auto& layer : heads.model.layers()) names.push_back(layer->name());
  EXPECT_EQ(names,
            (std::vector<std::string>{"b", "a", "proj", "shared", "add", "cat", "out1", "out2"}));
  EXPECT_EQ(heads.model.layers()[0]->class_name(), "InputLayer");
  EXPECT_EQ(heads.model.input_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(heads.model.output_names(), (std::vector<std::string>{"out1", "out2"}));

  std::vector<std::string> paths;
  for (const auto& variable : heads.model.weights()) paths.push_back(variable->path);
  EXPECT_EQ(paths,
            (std::vector<std::string>{"proj/kernel", "proj/bias", "shared/kernel", "shared/bias",
                                      "out1/kernel", "out1/bias", "out2/kernel", "out2/bias"}));
  // proj 3*4+4, shared 4*5+5 (once, though called twice), out1 10*3+3, out2 5*1+1.
  EXPECT_EQ(heads.model.count_params(), 16 + 25 + 33 + 6);
  EXPECT_TRUE(heads.model.built());
  EXPECT_EQ(heads.out1.shape(), Shape({-1, 3}));
  EXPECT_EQ(heads.model.name(), "two_heads");
}

TEST(FunctionalTest, PredictMatchesAHandWrittenForwardPass) {
  TwoHeads heads = two_heads();
  set_known_weights(heads.model);
  Tensor a = uniform(Shape{5, 4}, 1), b = uniform(Shape{5, 3}, 2);
  std::vector<Tensor> outputs = heads.model.predict({a, b}, {.batch_size = 2});
  ASSERT_EQ(outputs.size(), 2u);
  ASSERT_EQ(outputs[0].shape(), Shape({5, 3}));
  ASSERT_EQ(outputs[1].shape(), Shape({5, 1}));
  Heads expected = reference_forward(heads.model, a, b);
  Matrix out1 = rows_of(outputs[0]), out2 = rows_of(outputs[1]);
  for (size_t r = 0; r < 5; ++r) {
    for (size_t c = 0; c < 3; ++c) EXPECT_NEAR(out1[r][c], expected.out1[r][c], 1e-5);
    EXPECT_NEAR(out2[r][0], expected.out2[r][0], 1e-5);
  }
  // The map form, by input name, gives the same outputs.
  std::vector<Tensor> by_name = heads.model.predict({{"b", b}, {"a", a}});
  EXPECT_EQ(by_name[0].to_vector<float>(), outputs[0].to_vector<float>());
  EXPECT_EQ(by_name[1].to_vector<float>(), outputs[1].to_vector<float>());
}

TEST(FunctionalTest, EvaluateWeighsEachOutputsLossAndLogsKerasNames) {
  TwoHeads heads = two_heads();
  set_known_weights(heads.model);
  const int64_t rows = 7;  // batches of 4 and 3
  Tensor a = uniform(Shape{rows, 4}, 3), b = uniform(Shape{rows, 3}, 4);
  Tensor y1 = labels(rows, 3, 5), y2 = uniform(Shape{rows, 1}, 6);
  heads.model.compile(
      {.optimizer = "sgd",
       .losses = {losses::SparseCategoricalCrossentropy({.from_logits = true}), "mse"},
       .loss_weights = {0.5, 2.0},
       .metrics_per_output = {{"accuracy"}, {"mae", "mse"}}});
  Logs logs = heads.model.evaluate({a, b}, {y1, y2}, {.batch_size = 4, .verbose = 0});
  EXPECT_EQ(names_of(logs), (std::vector<std::string>{"loss", "out1_accuracy", "out1_loss",
                                                      "out2_loss", "out2_mae", "out2_mse"}));

  Heads expected = reference_forward(heads.model, a, b);
  double crossentropy = 0, squared = 0, absolute = 0, correct = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const auto& logits = expected.out1[r];
    int label = y1.data<int32_t>()[r];
    double top = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (double logit : logits) sum += std::exp(logit - top);
    crossentropy += top + std::log(sum) - logits[label];
    correct += std::max_element(logits.begin(), logits.end()) - logits.begin() == label ? 1 : 0;
    double error = expected.out2[r][0] - y2.data<float>()[r];
    squared += error * error;
    absolute += std::abs(error);
  }
  crossentropy /= rows, squared /= rows, absolute /= rows;
  // Each output's logged loss is unweighted; the total carries the weights.
  EXPECT_NEAR(log_value(logs, "out1_loss"), crossentropy, 1e-5);
  EXPECT_NEAR(log_value(logs, "out2_loss"), squared, 1e-5);
  EXPECT_NEAR(log_value(logs, "loss"), 0.5 * crossentropy + 2.0 * squared, 1e-5);
  EXPECT_NEAR(log_value(logs, "out1_accuracy"), correct / rows, 1e-6);
  EXPECT_NEAR(log_value(logs, "out2_mae"), absolute, 1e-5);
  EXPECT_NEAR(log_value(logs, "out2_mse"), squared, 1e-5);

  // The dict forms of every argument, and x and y by name, give the same logs.
  TwoHeads twin = two_heads("twin");
  twin.model.set_weights(heads.model.get_weights());
  twin.model.compile(
      {.optimizer = "sgd",
       .loss_by_output = {{"out2", "mse"},
                          {"out1", losses::SparseCategoricalCrossentropy({.from_logits = true})}},
       .loss_weights_by_output = {{"out1", 0.5}, {"out2", 2.0}},
       .metrics_by_output = {{"out2", {"mae", "mse"}}, {"out1", {"accuracy"}}}});
  Logs by_name = twin.model.evaluate({{"a", a}, {"b", b}}, {{"out2", y2}, {"out1", y1}},
                                     {.batch_size = 4, .verbose = 0});
  ASSERT_EQ(names_of(by_name), names_of(logs));
  for (size_t i = 0; i < logs.size(); ++i) EXPECT_NEAR(by_name[i].second, logs[i].second, 1e-6);
}

TEST(FunctionalTest, OneLossForAllOutputsAndFlatMetricsGoOnePerOutput) {
  TwoHeads heads = two_heads();
  set_known_weights(heads.model);
  Tensor a = uniform(Shape{6, 4}, 7), b = uniform(Shape{6, 3}, 8);
  Tensor y1 = uniform(Shape{6, 3}, 9), y2 = uniform(Shape{6, 1}, 10);
  // Keras reads a flat list as long as the outputs as one metric per output.
  heads.model.compile({.optimizer = "sgd", .loss = "mse", .metrics = {"mae", "mse"}});
  Logs logs = heads.model.evaluate({a, b}, {y1, y2}, {.verbose = 0});
  EXPECT_EQ(names_of(logs),
            (std::vector<std::string>{"loss", "out1_loss", "out1_mae", "out2_loss", "out2_mse"}));
  // No weights: the total is the plain sum of the two losses.
  EXPECT_NEAR(log_value(logs, "loss"), log_value(logs, "out1_loss") + log_value(logs, "out2_loss"),
              1e-6);
  EXPECT_NEAR(log_value(logs, "out2_mse"), log_value(logs, "out2_loss"), 1e-6);
}

TEST(FunctionalTest, FitTrainsBothHeadsAndLogsValidation) {
  set_random_seed(11);
  TwoHeads heads = two_heads();
  const int64_t rows = 256;
  Tensor a = uniform(Shape{rows, 4}, 12), b = uniform(Shape{rows, 3}, 13);
  // Learnable targets: the class is the sign pattern of a[0] and b[0]; the score a sum.
  Tensor y1 = Tensor::zeros(Shape{rows}, DType::kInt32), y2 = Tensor::zeros(Shape{rows, 1});
  for (int64_t r = 0; r < rows; ++r) {
    float first = a.data<float>()[r * 4], second = b.data<float>()[r * 3];
    y1.data<int32_t>()[r] = first > 0 ? 2 : (second > 0 ? 1 : 0);
    y2.data<float>()[r] = first + 0.5f * second;
  }
  heads.model.compile(
      {.optimizer = optimizers::Adam({.learning_rate = 0.02}),
       .losses = {losses::SparseCategoricalCrossentropy({.from_logits = true}), "mse"},
       .loss_weights = {1.0, 0.5},
       .metrics_per_output = {{"accuracy"}, {}}});
  std::ostringstream out;
  History history = heads.model.fit(
      {a, b}, {y1, y2},
      {.batch_size = 16, .epochs = 15, .verbose = 2, .validation_split = 0.25, .output = &out});
  for (const char* key : {"loss", "out1_loss", "out2_loss", "out1_accuracy", "val_loss",
                          "val_out1_loss", "val_out2_loss", "val_out1_accuracy"}) {
    ASSERT_EQ(history.history.count(key), 1u) << key;
  }
  EXPECT_EQ(history.history.size(), 8u);
  EXPECT_LT(history.last("loss"), 0.5 * history.history["loss"].front());
  EXPECT_GT(history.last("val_out1_accuracy"), 0.8);
  EXPECT_LT(history.last("val_out2_loss"), 0.05);
  EXPECT_NE(out.str().find(" - out1_accuracy: "), std::string::npos) << out.str();
}

TEST(FunctionalTest, SharedLayerHasOneSetOfWeightsAndChecksShapes) {
  auto shared = layers::Dense(2, {.name = "twice"});
  auto x = Input({3});
  auto once = shared(x);
  EXPECT_THROW(shared(Input({4})), ShapeError);  // built for 3 features
  Functional model(x, shared(layers::Dense(3)(once)));
  // twice: 3 * 2 + 2 (once, though called twice); the Dense between: 2 * 3 + 3.
  EXPECT_EQ(model.weights().size(), 4u);
  EXPECT_EQ(model.count_params(), 8 + 9);
  int uses = 0;
  for (const auto& layer : model.layers()) uses += layer.get() == shared.get() ? 1 : 0;
  EXPECT_EQ(uses, 1);
  // Single input and output: the Tensor forms work as for Sequential.
  Tensor out = model.predict(uniform(Shape{2, 3}, 1));
  EXPECT_EQ(out.shape(), Shape({2, 2}));
}

TEST(FunctionalTest, GetAndSetWeightsRoundTrip) {
  TwoHeads heads = two_heads();
  set_known_weights(heads.model);
  std::vector<Tensor> weights = heads.model.get_weights();
  ASSERT_EQ(weights.size(), 8u);
  EXPECT_EQ(weights[2].shape(), Shape({4, 5}));  // shared/kernel
  TwoHeads other = two_heads("other");
  other.model.set_weights(weights);
  Tensor a = uniform(Shape{3, 4}, 1), b = uniform(Shape{3, 3}, 2);
  EXPECT_EQ(other.model.predict({a, b})[1].to_vector<float>(),
            heads.model.predict({a, b})[1].to_vector<float>());
}

TEST(FunctionalTest, ClearErrors) {
  auto a = Input({4}, "a");
  auto b = Input({3}, "b");
  auto hidden = layers::Dense(2)(layers::Concatenate()({a, b}));
  // An output that needs an input the model was not given.
  EXPECT_THROW(Functional(a, hidden), ValueError);
  // Inputs must come from Input().
  EXPECT_THROW(Functional(hidden, layers::Dense(1)(hidden)), ValueError);
  // Two layers with one name.
  auto x = Input({2});
  EXPECT_THROW(
      Functional(x, layers::Dense(1, {.name = "twin"})(layers::Dense(2, {.name = "twin"})(x))),
      ValueError);
  EXPECT_THROW(layers::Dense(2)(KerasTensor()), ValueError);
  EXPECT_THROW(Input({0}), ValueError);

  TwoHeads heads = two_heads();
  auto compile_throws = [&](const CompileOptions& options) {
    EXPECT_THROW(heads.model.compile(options), ValueError);
  };
  compile_throws({.optimizer = "sgd"});                                       // no loss
  compile_throws({.optimizer = "sgd", .losses = {"mse"}});                    // 1 for 2
  compile_throws({.optimizer = "sgd", .loss_by_output = {{"out1", "mse"}}});  // missing
  compile_throws({.optimizer = "sgd", .loss = "mse", .losses = {"mse", "mse"}});
  compile_throws({.optimizer = "sgd", .loss = "mse", .loss_weights = {1.0}});
  compile_throws({.optimizer = "sgd", .loss = "mse", .loss_weights_by_output = {{"out3", 1}}});
  compile_throws({.optimizer = "sgd", .loss = "mse", .metrics = {"mae"}});  // 1 for 2
  compile_throws({.optimizer = "sgd", .loss = "mse", .metrics_by_output = {{"x", {"mae"}}}});

  heads.model.compile({.optimizer = "sgd", .loss = "mse"});
  Tensor a_data = uniform(Shape{4, 4}, 1), b_data = uniform(Shape{4, 3}, 2);
  Tensor y1 = uniform(Shape{4, 3}, 3), y2 = uniform(Shape{4, 1}, 4);
  EXPECT_THROW(heads.model.fit(a_data, {y1, y2}), ValueError);  // one x for two
  EXPECT_THROW(heads.model.fit({a_data, b_data}, y1),
               ValueError);  // one y for two
  EXPECT_THROW(heads.model.fit({{"a", a_data}, {"c", b_data}}, {y1, y2}), ValueError);
  EXPECT_THROW(heads.model.fit({b_data, a_data}, {y1, y2}),
               ShapeError);  // swapped
  EXPECT_THROW(heads.model.fit({a_data, b_data.slice_rows(0, 3)}, {y1, y2}), ShapeError);
  EXPECT_THROW(heads.model.predict(a_data),
               ValueError);  // two outputs need the list form
}

}  // namespace
}  // namespace trainyard::keras
