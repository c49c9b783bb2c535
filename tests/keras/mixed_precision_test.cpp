// The mixed_bfloat16 policy end to end on the CPU: layers take the global policy, keep
// float32 variables and compute in bfloat16; predictions, gradients and training agree with
// the float32 model within bfloat16's precision; the policy survives a config round trip;
// layers and policies trainyard cannot run yet are refused by name.
#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include <cmath>
#include <string>
#include <string_view>

#include "fit_test_support.h"
#include "keras/model_config.h"

namespace trainyard::keras {
namespace {

using testing::argmax_problem;
using testing::Problem;

// Sets the global policy for one test and restores float32 after it.
class PolicyScope {
 public:
  explicit PolicyScope(std::string_view name) { mixed_precision::set_global_policy(name); }
  ~PolicyScope() { mixed_precision::set_global_policy("float32"); }
  PolicyScope(const PolicyScope&) = delete;
  PolicyScope& operator=(const PolicyScope&) = delete;
};

Sequential classifier() {
  return Sequential(
      {layers::Dense(32, {.activation = "relu"}), layers::Dropout(0.1), layers::Dense(4)});
}

// No dropout, so a training step is deterministic and the two policies can be compared.
Sequential deterministic_classifier() {
  return Sequential({layers::Dense(32, {.activation = "tanh"}), layers::Dense(4)});
}

// ||a - b|| / ||b|| over float32 tensors.
double relative_error(const Tensor& a, const Tensor& b) {
  double difference = 0, norm = 0;
  for (int64_t i = 0; i < b.num_elements(); ++i) {
    const double x = a.data<float>()[i], y = b.data<float>()[i];
    difference += (x - y) * (x - y);
    norm += y * y;
  }
  return std::sqrt(difference / norm);
}

// A float32 model and a mixed_bfloat16 one with the same weights, built for 4 features.
struct ModelPair {
  Sequential float32 = deterministic_classifier();
  Sequential mixed = [] {
    PolicyScope scope("mixed_bfloat16");
    return deterministic_classifier();
  }();
  ModelPair() {
    float32.build(Shape{-1, 4});
    mixed.build(Shape{-1, 4});
    mixed.set_weights(float32.get_weights());
  }
};

TEST(MixedPrecisionTest, PolicyNamesAndUnknownNames) {
  auto policy = mixed_precision::DTypePolicy::parse("mixed_bfloat16");
  EXPECT_EQ(policy.name(), "mixed_bfloat16");
  EXPECT_EQ(policy.variable_dtype(), DType::kFloat32);
  EXPECT_EQ(policy.compute_dtype(), DType::kBFloat16);
  EXPECT_TRUE(policy.is_mixed());
  EXPECT_FALSE(mixed_precision::DTypePolicy::parse("float64").is_mixed());
  try {
    mixed_precision::set_global_policy("mixed_bfloat32");
    FAIL() << "an unknown policy name was accepted";
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what()).find("'mixed_bfloat32'"), std::string::npos);
  }
  EXPECT_EQ(mixed_precision::global_policy().name(), "float32");
}

TEST(MixedPrecisionTest, LayersTakeTheGlobalPolicyWhenConstructed) {
  auto before = layers::Dense(3);
  nn::LayerPtr during;
  {
    PolicyScope scope("mixed_bfloat16");
    during = layers::Dense(3);
  }
  auto after = layers::Dense(3);
  EXPECT_EQ(before->dtype_policy().name(), "float32");
  EXPECT_EQ(during->dtype_policy().name(), "mixed_bfloat16");
  EXPECT_EQ(during->dtype(), DType::kFloat32);
  EXPECT_EQ(during->compute_dtype(), DType::kBFloat16);
  EXPECT_EQ(after->dtype_policy().name(), "float32");
  after->set_dtype_policy(mixed_precision::DTypePolicy::parse("mixed_bfloat16"));  // dtype=...
  EXPECT_EQ(after->compute_dtype(), DType::kBFloat16);
}

TEST(MixedPrecisionTest, VariablesStayFloat32AndPredictionsMatchFloat32) {
  set_random_seed(3);
  ModelPair models;
  for (const auto& variable : models.mixed.weights()) {
    EXPECT_EQ(variable->value.dtype(), DType::kFloat32) << variable->path;
  }
  Problem data = argmax_problem(64, 4);
  Tensor expected = models.float32.predict(data.x);
  Tensor got = models.mixed.predict(data.x);
  ASSERT_EQ(got.dtype(), DType::kFloat32);  // predict casts the bfloat16 outputs back
  ASSERT_EQ(got.shape(), expected.shape());
  const double error = relative_error(got, expected);
  EXPECT_LT(error, 2e-2);
  EXPECT_GT(error, 0.0) << "the mixed model computed in float32";
}

TEST(MixedPrecisionTest, OneSgdStepMovesTheWeightsAsFloat32Does) {
  set_random_seed(4);
  ModelPair models;
  Problem data = argmax_problem(128, 5);
  std::vector<Tensor> start = models.float32.get_weights();
  for (Sequential* model : {&models.float32, &models.mixed}) {
    model->compile({.optimizer = optimizers::SGD({.learning_rate = 0.5}),
                    .loss = losses::SparseCategoricalCrossentropy({.from_logits = true})});
    model->train_on_batch(data.x, data.y);
  }
  std::vector<Tensor> float_end = models.float32.get_weights();
  std::vector<Tensor> mixed_end = models.mixed.get_weights();
  for (size_t v = 0; v < start.size(); ++v) {
    // The update is -lr * gradient: compare the two models' updates.
    Tensor float_step = Tensor::zeros(start[v].shape()),
           mixed_step = Tensor::zeros(start[v].shape());
    for (int64_t i = 0; i < start[v].num_elements(); ++i) {
      float_step.data<float>()[i] = float_end[v].data<float>()[i] - start[v].data<float>()[i];
      mixed_step.data<float>()[i] = mixed_end[v].data<float>()[i] - start[v].data<float>()[i];
    }
    EXPECT_LT(relative_error(mixed_step, float_step), 5e-2) << "variable " << v;
  }
}

TEST(MixedPrecisionTest, FitReducesTheLoss) {
  set_random_seed(5);
  PolicyScope scope("mixed_bfloat16");
  Problem data = argmax_problem(1000, 6);
  auto model = classifier();
  model.compile({.optimizer = optimizers::Adam({.learning_rate = 0.01}),
                 .loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
                 .metrics = {"accuracy"}});
  History history = model.fit(data.x, data.y, {.batch_size = 32, .epochs = 4, .verbose = 0});
  const auto& loss = history.history["loss"];
  ASSERT_EQ(loss.size(), 4u);
  EXPECT_TRUE(std::isfinite(loss.back()));
  EXPECT_LT(loss.back(), 0.7 * loss.front());
  EXPECT_GT(history.last("accuracy"), 0.7);
}

TEST(MixedPrecisionTest, ConfigRoundTripKeepsThePolicy) {
  std::string json;
  {
    PolicyScope scope("mixed_bfloat16");
    auto model = Sequential({layers::Dense(8, {.activation = "relu"}), layers::Dense(2)});
    model.build(Shape{-1, 3});
    json = to_json(model);
  }
  EXPECT_NE(
      json.find(
          R"("dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "mixed_bfloat16"}, "registered_name": null})"),
      std::string::npos)
      << json;
  Sequential loaded = model_from_json(json);  // the global policy is float32 again
  for (const auto& layer : loaded.layers()) {
    EXPECT_EQ(layer->dtype_policy().name(), "mixed_bfloat16") << layer->name();
  }
  EXPECT_EQ(to_json(loaded), json);

  std::string half = json;
  for (size_t at = half.find("mixed_bfloat16"); at != std::string::npos;
       at = half.find("mixed_bfloat16")) {
    half.replace(at, 14, "mixed_float16");
  }
  try {
    model_from_json(half);
    FAIL() << "a mixed_float16 config was accepted";
  } catch (const ValueError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("dtype"), std::string::npos) << message;
    EXPECT_NE(message.find("mixed_float16"), std::string::npos) << message;
  }
}

TEST(MixedPrecisionTest, FunctionalModelsCastAtTheirLayersAndRoundTrip) {
  set_random_seed(6);
  std::string json;
  Tensor expected;
  Problem data = argmax_problem(16, 7);
  {
    PolicyScope scope("mixed_bfloat16");
    auto input = Input({4}, "features");
    auto hidden = layers::Dense(8, {.activation = "relu"})(input);
    Functional model(input, layers::Dense(3)(hidden));
    EXPECT_EQ(model.layers().front()->dtype_policy().name(), "float32");  // inputs stay float32
    expected = model.predict(data.x);
    EXPECT_EQ(expected.dtype(), DType::kFloat32);
    json = to_json(model);
    Functional loaded = functional_from_json(json);
    loaded.set_weights(model.get_weights());
    Tensor again = loaded.predict(data.x);
    EXPECT_EQ(again.to_vector<float>(), expected.to_vector<float>());
  }
  // A layer's output tensor is in its compute dtype, as Keras writes it.
  EXPECT_NE(json.find(R"("dtype": "bfloat16")"), std::string::npos) << json;
}

// A layer called twice writes its kernel gradient twice into the one float32 variable: the
// second product must add to the first (the master-kernel Affine's accumulate path).
TEST(MixedPrecisionTest, ASharedLayerSumsItsGradientsInFloat32) {
  auto make = [](const char* policy) {
    PolicyScope scope(policy);
    auto input = Input({4});
    auto shared = layers::Dense(4, {.activation = "tanh"});
    auto output = layers::Dense(4)(shared(shared(input)));
    return Functional(input, output);
  };
  set_random_seed(8);
  Functional float32 = make("float32");
  Functional mixed = make("mixed_bfloat16");
  mixed.set_weights(float32.get_weights());
  std::vector<Tensor> start = float32.get_weights();
  Problem data = argmax_problem(64, 9);
  for (Functional* model : {&float32, &mixed}) {
    model->compile({.optimizer = optimizers::SGD({.learning_rate = 1.0}),
                    .loss = losses::SparseCategoricalCrossentropy({.from_logits = true})});
    model->train_on_batch(data.x, data.y);
  }
  std::vector<Tensor> float_end = float32.get_weights(), mixed_end = mixed.get_weights();
  for (size_t v = 0; v < start.size(); ++v) {
    Tensor float_step = Tensor::zeros(start[v].shape());
    Tensor mixed_step = Tensor::zeros(start[v].shape());
    for (int64_t i = 0; i < start[v].num_elements(); ++i) {
      float_step.data<float>()[i] = float_end[v].data<float>()[i] - start[v].data<float>()[i];
      mixed_step.data<float>()[i] = mixed_end[v].data<float>()[i] - start[v].data<float>()[i];
    }
    EXPECT_LT(relative_error(mixed_step, float_step), 5e-2) << "variable " << v;
  }
}

TEST(MixedPrecisionTest, UnsupportedLayersAndPoliciesAreRefusedByName) {
  {
    PolicyScope scope("mixed_bfloat16");
    auto model = Sequential(
        {layers::Conv2D(4, {3, 3}, {.name = "conv"}), layers::Flatten(), layers::Dense(2)});
    try {
      model.build(Shape{-1, 8, 8, 1});
      FAIL() << "Conv2D built under mixed_bfloat16";
    } catch (const ValueError& error) {
      EXPECT_NE(std::string(error.what())
                    .find("Conv2D 'conv' does not support the mixed_bfloat16 policy yet"),
                std::string::npos)
          << error.what();
    }
  }
  {
    PolicyScope scope("mixed_float16");
    auto model = Sequential({layers::Dense(2)});
    try {
      model.build(Shape{-1, 3});
      FAIL() << "a mixed_float16 model built without loss scaling";
    } catch (const ValueError& error) {
      EXPECT_NE(std::string(error.what()).find("loss scaling"), std::string::npos) << error.what();
    }
  }
}

}  // namespace
}  // namespace trainyard::keras
