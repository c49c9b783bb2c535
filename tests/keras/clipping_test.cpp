// Gradient clipping end to end: compile a model with a clipping optimizer, fit one step,
// and compare its weights with a float64 reference of the same step (the Dense layer's
// gradients, Keras's clipping, then SGD). The kernel's gradient is over the threshold and
// the bias's under it, so clipping per variable and clipping the packed buffer as a whole
// give different answers.
#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "keras/trainer.h"
#include "support/allocation_counter.h"

namespace trainyard::keras {
namespace {

constexpr int64_t kRows = 8;
constexpr int64_t kFeatures = 3;

// x: [8, 3]; y: [8, 1]. The targets sit above and below the initial predictions in turn, so
// the bias's gradient (the sum of residuals) stays small while the kernel's does not.
const std::vector<float> kX{1.0f, 2.0f,  0.5f, -1.5f, 0.3f,  2.5f,  2.0f, -1.0f,
                            1.0f, -0.5f, 1.5f, -2.0f, 3.0f,  0.2f,  0.7f, -2.5f,
                            1.0f, 1.5f,  0.8f, -0.6f, -1.2f, -1.0f, 2.2f, 0.4f};
const std::vector<float> kY{4.0f, -3.0f, 3.5f, -2.5f, 5.0f, -4.0f, 2.0f, -3.5f};
const std::vector<float> kKernel{0.5f, -0.25f, 0.75f};
const float kBias = 0.1f;

enum class Mode { kClipnorm, kGlobalClipnorm, kClipvalue };

struct Gradients {
  std::vector<double> kernel;
  double bias = 0;
};

// One batch of Dense(1) + mean squared error, in float64: dL/dprediction = 2 r / N.
Gradients reference_gradients() {
  Gradients gradients{std::vector<double>(kFeatures, 0.0), 0.0};
  for (int64_t i = 0; i < kRows; ++i) {
    double prediction = kBias;
    for (int64_t j = 0; j < kFeatures; ++j) {
      prediction += double(kX[size_t(i * kFeatures + j)]) * double(kKernel[size_t(j)]);
    }
    double upstream = 2.0 * (prediction - double(kY[size_t(i)])) / double(kRows);
    for (int64_t j = 0; j < kFeatures; ++j) {
      gradients.kernel[size_t(j)] += double(kX[size_t(i * kFeatures + j)]) * upstream;
    }
    gradients.bias += upstream;
  }
  return gradients;
}

double kernel_norm(const Gradients& gradients) {
  double sum = 0;
  for (double g : gradients.kernel) sum += g * g;
  return std::sqrt(sum);
}

// Keras's _clip_gradients over the two variables, kernel and bias.
Gradients reference_clip(Gradients gradients, Mode mode, double c) {
  double kernel_scale = 1, bias_scale = 1;
  if (mode == Mode::kClipnorm) {
    kernel_scale = c / std::max(kernel_norm(gradients), c);
    bias_scale = c / std::max(std::fabs(gradients.bias), c);
  } else if (mode == Mode::kGlobalClipnorm) {
    double global = std::hypot(kernel_norm(gradients), gradients.bias);
    kernel_scale = bias_scale = c / std::max(global, c);
  } else {
    for (double& g : gradients.kernel) g = std::clamp(g, -c, c);
    gradients.bias = std::clamp(gradients.bias, -c, c);
  }
  for (double& g : gradients.kernel) g *= kernel_scale;
  gradients.bias *= bias_scale;
  return gradients;
}

nn::SgdOptions sgd_options(Mode mode, double c) {
  nn::SgdOptions options{.learning_rate = 0.1};
  if (mode == Mode::kClipnorm) options.clipnorm = c;
  if (mode == Mode::kGlobalClipnorm) options.global_clipnorm = c;
  if (mode == Mode::kClipvalue) options.clipvalue = c;
  return options;
}

Sequential make_model(Mode mode, double c) {
  auto model = Sequential({layers::Dense(1)});
  model.build(Shape{-1, kFeatures});
  model.set_weights({Tensor::from_vector<float>({kFeatures, 1}, kKernel),
                     Tensor::from_vector<float>({1}, {kBias})});
  model.compile({.optimizer = optimizers::SGD(sgd_options(mode, c)), .loss = "mse"});
  return model;
}

TEST(ClippingFitTest, OneStepOfFitUsesKerasClippedGradients) {
  const double c = 1.0;
  Gradients gradients = reference_gradients();
  // The data must make the three modes disagree, or this test would prove little.
  ASSERT_GT(kernel_norm(gradients), 2 * c);
  ASSERT_LT(std::fabs(gradients.bias), c);
  ASSERT_GT(*std::max_element(gradients.kernel.begin(), gradients.kernel.end()), c);

  Tensor x = Tensor::from_vector<float>({kRows, kFeatures}, kX);
  Tensor y = Tensor::from_vector<float>({kRows, 1}, kY);
  const double lr = static_cast<float>(0.1);
  for (Mode mode : {Mode::kClipnorm, Mode::kGlobalClipnorm, Mode::kClipvalue}) {
    SCOPED_TRACE("mode " + std::to_string(int(mode)));
    Sequential model = make_model(mode, c);
    model.fit(x, y, {.batch_size = kRows, .epochs = 1, .verbose = 0, .shuffle = false});
    EXPECT_EQ(model.optimizer().iterations(), 1);

    Gradients clipped = reference_clip(gradients, mode, c);
    std::vector<Tensor> weights = model.get_weights();
    for (int64_t j = 0; j < kFeatures; ++j) {
      double want = double(kKernel[size_t(j)]) - lr * clipped.kernel[size_t(j)];
      EXPECT_NEAR(weights[0].data<float>()[j], want, 2e-6) << "kernel " << j;
    }
    double want_bias = double(kBias) - lr * clipped.bias;
    EXPECT_NEAR(weights[1].data<float>()[0], want_bias, 2e-6) << "bias";
  }

  // clipnorm clipped the kernel only: the bias moved by its full gradient.
  Sequential unclipped_bias = make_model(Mode::kClipnorm, c);
  unclipped_bias.fit(x, y, {.batch_size = kRows, .epochs = 1, .verbose = 0, .shuffle = false});
  EXPECT_NEAR(unclipped_bias.get_weights()[1].data<float>()[0], kBias - lr * gradients.bias, 2e-6);
}

TEST(ClippingFitTest, TrainingWithClippingLowersTheLoss) {
  Tensor x = Tensor::from_vector<float>({kRows, kFeatures}, kX);
  Tensor y = Tensor::from_vector<float>({kRows, 1}, kY);
  for (Mode mode : {Mode::kClipnorm, Mode::kGlobalClipnorm, Mode::kClipvalue}) {
    Sequential model = make_model(mode, 0.5);
    History history =
        model.fit(x, y, {.batch_size = kRows, .epochs = 20, .verbose = 0, .shuffle = false});
    const std::vector<double>& loss = history.history.at("loss");
    EXPECT_LT(loss.back(), loss.front()) << "mode " << int(mode);
  }
}

// A warm training step with clipping allocates nothing, on one thread or two.
TEST(ClippingFitTest, TrainStepWithClippingAllocatesNothing) {
  Tensor x = Tensor::from_vector<float>({kRows, kFeatures}, kX);
  Tensor y = Tensor::from_vector<float>({kRows, 1}, kY);
  int previous_threads = num_threads();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (Mode mode : {Mode::kClipnorm, Mode::kGlobalClipnorm, Mode::kClipvalue}) {
      Sequential model = make_model(mode, 0.5);
      Trainer& trainer = model.trainer();
      trainer.prepare(x.shape(), y.shape());
      for (int i = 0; i < 3; ++i) trainer.train_step(x, y);  // compiles the plan

      int64_t heap_before = testing::heap_allocation_count();
      int64_t storage_before = storage_allocation_count();
      for (int i = 0; i < 20; ++i) trainer.train_step(x, y);
      EXPECT_EQ(testing::heap_allocation_count() - heap_before, 0) << "mode " << int(mode);
      EXPECT_EQ(storage_allocation_count() - storage_before, 0) << "mode " << int(mode);
    }
  }
  set_num_threads(previous_threads);
}

}  // namespace
}  // namespace trainyard::keras
