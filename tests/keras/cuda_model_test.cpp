// Models placed on a GPU with Model::to train, evaluate, predict, save and load as the same
// model on the CPU does, within float32 rounding (TF32 is turned off for the comparison).
// Every test skips with the reason printed when the machine has no GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "fit_test_support.h"
#include "keras/saving/weights_file.h"

namespace trainyard::keras {
namespace {

using testing::argmax_problem;
using testing::Problem;

// One forward or backward pass apart (identical weights, TF32 off): float32 rounding only.
constexpr double kBound = 1e-4;
// After 60 Adam steps the two devices' float32 rounding has been amplified: Adam divides by
// the root of tiny second moments and BatchNormalization by a batch's spread. Seen on H100s:
// weights 6.5e-4 apart and predictions 5.9e-3 on one machine, both under 1e-4 on another. A
// wrong kernel moves them by order one (0.74 when the initial weights differed).
constexpr double kTrainedWeightsBound = 5e-3;
constexpr double kPredictionBound = 3e-2;
// Logged loss and accuracy after training: a prediction flipped by those differences moves
// accuracy on 320 samples by 1/320.
constexpr double kLogBound = 1e-2;

// ||a - b|| / ||b|| over every weight, both read back to the host.
double weights_error(const Model& got, const Model& reference) {
  std::vector<Tensor> a = got.get_weights(), b = reference.get_weights();
  EXPECT_EQ(a.size(), b.size());
  double difference = 0, norm = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    std::vector<float> x = a[i].to_vector<float>(), y = b[i].to_vector<float>();
    for (size_t j = 0; j < x.size(); ++j) {
      if (!std::isfinite(x[j])) return INFINITY;
      difference += (double{x[j]} - y[j]) * (double{x[j]} - y[j]);
      norm += double{y[j]} * y[j];
    }
  }
  return std::sqrt(difference / norm);
}

double tensor_error(const Tensor& got, const Tensor& reference) {
  std::vector<float> x = got.to_vector<float>(), y = reference.to_vector<float>();
  double difference = 0, norm = 0;
  for (size_t j = 0; j < x.size(); ++j) {
    if (!std::isfinite(x[j])) return INFINITY;
    difference += (double{x[j]} - y[j]) * (double{x[j]} - y[j]);
    norm += double{y[j]} * y[j];
  }
  return std::sqrt(difference / norm);
}

Sequential dense_model() {
  return Sequential({layers::Dense(32, {.activation = "relu"}), layers::BatchNormalization(),
                     layers::Dropout(0.2), layers::Dense(4)});
}

Sequential conv_model() {
  return Sequential(
      {layers::Reshape({4, 4, 1}), layers::Conv2D(6, 3, {.padding = "same", .activation = "relu"}),
       layers::MaxPooling2D(2), layers::BatchNormalization(), layers::Flatten(), layers::Dense(4)});
}

void compile(Model& model) {
  model.compile({.optimizer = optimizers::Adam({.learning_rate = 0.01}),
                 .loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
                 .metrics = {"accuracy"}});
}

class CudaModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason;
    if (backend::cuda::cuda_device_count(&reason) == 0) {
      GTEST_SKIP() << "no GPU, CUDA test skipped: " << reason;
    }
    gpu_ = &backend::cuda::cuda_backend(0);
    previous_tf32_ = gpu_->allow_tf32();
    gpu_->set_allow_tf32(false);  // float32 products, so the CPU is a tight reference
  }
  void TearDown() override {
    if (gpu_ != nullptr) gpu_->set_allow_tf32(previous_tf32_);
  }
  const Device cuda{"cuda:0"};
  backend::cuda::CudaBackend* gpu_ = nullptr;
  bool previous_tf32_ = true;
};

// Two models with the same initial weights, one moved to the GPU, fit the same batches.
template <typename Make>
void expect_same_training(Make make, const Device& cuda, const Problem& data) {
  // Weights are drawn when a model is built, so each is built right after the same seed.
  const Shape input = data.x.shape().with_batch(-1);
  set_random_seed(7);
  Sequential cpu_model = make();
  cpu_model.build(input);
  set_random_seed(7);
  Sequential gpu_model = make();
  gpu_model.build(input);
  ASSERT_EQ(weights_error(gpu_model, cpu_model), 0.0);
  gpu_model.to(cuda);
  compile(cpu_model);
  compile(gpu_model);
  FitOptions options{.batch_size = 16, .epochs = 3, .verbose = 0, .seed = 11};
  History cpu_history = cpu_model.fit(data.x, data.y, options);
  History gpu_history = gpu_model.fit(data.x, data.y, options);
  EXPECT_EQ(gpu_model.weights().front()->value.device(), cuda);
  EXPECT_LT(weights_error(gpu_model, cpu_model), kTrainedWeightsBound);
  for (const char* name : {"loss", "accuracy"}) {
    const double cpu_value = cpu_history.history.at(name).back();
    const double gpu_value = gpu_history.history.at(name).back();
    EXPECT_NEAR(gpu_value, cpu_value, kLogBound * std::max(1.0, std::fabs(cpu_value))) << name;
  }
  Logs cpu_logs = cpu_model.evaluate(data.x, data.y, {.verbose = 0});
  Logs gpu_logs = gpu_model.evaluate(data.x, data.y, {.verbose = 0});
  ASSERT_EQ(cpu_logs.size(), gpu_logs.size());
  for (size_t i = 0; i < cpu_logs.size(); ++i) {
    EXPECT_NEAR(gpu_logs[i].second, cpu_logs[i].second, kLogBound) << cpu_logs[i].first;
  }
  Tensor cpu_predictions = cpu_model.predict(data.x, {.verbose = 0});
  Tensor gpu_predictions = gpu_model.predict(data.x, {.verbose = 0});
  EXPECT_TRUE(gpu_predictions.device().is_cpu());
  EXPECT_LT(tensor_error(gpu_predictions, cpu_predictions), kPredictionBound);
}

TEST_F(CudaModelTest, DenseBatchNormDropoutTrainsAsOnTheCpu) {
  expect_same_training(dense_model, cuda, argmax_problem(320, 3));
}

TEST_F(CudaModelTest, ConvolutionalModelTrainsAsOnTheCpu) {
  // 16 features as a 4x4 image: the class is still the argmax of the first four.
  Tensor wide = Tensor::zeros(Shape{320, 16});
  Problem base = argmax_problem(320, 4);
  for (int64_t r = 0; r < 320; ++r) {
    for (int j = 0; j < 16; ++j)
      wide.data<float>()[r * 16 + j] = base.x.data<float>()[r * 4 + j % 4];
  }
  expect_same_training(conv_model, cuda, Problem{wide, base.y});
}

// mixed_bfloat16: both devices round each product and activation to bfloat16 (2^-9
// relative) after summing in different orders, so they agree to bfloat16's precision; a
// wrong kernel or a missing cast moves the results by order one.
constexpr double kBFloat16Bound = 2e-2;

TEST_F(CudaModelTest, MixedBFloat16DenseTrainsAsOnTheCpu) {
  mixed_precision::set_global_policy("mixed_bfloat16");
  auto make = [] {
    return Sequential({layers::Dense(64, {.activation = "relu"}), layers::Dropout(0.2),
                       layers::Dense(32, {.activation = "tanh"}), layers::Dense(4)});
  };
  set_random_seed(9);
  Sequential cpu_model = make();
  cpu_model.build(Shape{-1, 4});
  set_random_seed(9);
  Sequential gpu_model = make();
  gpu_model.build(Shape{-1, 4});
  mixed_precision::set_global_policy("float32");
  gpu_model.to(cuda);
  Problem data = argmax_problem(256, 8);
  for (Sequential* model : {&cpu_model, &gpu_model}) {
    model->compile({.optimizer = optimizers::SGD({.learning_rate = 0.1}),
                    .loss = losses::SparseCategoricalCrossentropy({.from_logits = true})});
  }
  Tensor cpu_predictions = cpu_model.predict(data.x, {.verbose = 0});
  Tensor gpu_predictions = gpu_model.predict(data.x, {.verbose = 0});
  EXPECT_EQ(gpu_predictions.dtype(), DType::kFloat32);
  EXPECT_LT(tensor_error(gpu_predictions, cpu_predictions), kBFloat16Bound);

  // One step (dropout masks agree across devices), then a few epochs on the GPU alone.
  cpu_model.train_on_batch(data.x, data.y);
  gpu_model.train_on_batch(data.x, data.y);
  EXPECT_LT(weights_error(gpu_model, cpu_model), kBFloat16Bound);
  for (const auto& variable : gpu_model.weights()) {
    EXPECT_EQ(variable->value.dtype(), DType::kFloat32) << variable->path;
  }
  History history = gpu_model.fit(data.x, data.y, {.batch_size = 32, .epochs = 5, .verbose = 0});
  const auto& loss = history.history.at("loss");
  EXPECT_TRUE(std::isfinite(loss.back()));
  EXPECT_LT(loss.back(), loss.front());
}

TEST_F(CudaModelTest, WeightsSavedFromTheGpuLoadOnTheCpuAndBack) {
  Problem data = argmax_problem(128, 5);
  set_random_seed(3);
  Sequential gpu_model = dense_model();
  gpu_model.to(cuda);
  compile(gpu_model);
  gpu_model.fit(data.x, data.y, {.batch_size = 32, .epochs = 2, .verbose = 0});
  const std::string path =
      (std::filesystem::temp_directory_path() / "trainyard-cuda-model.weights.h5").string();
  save_weights(gpu_model, path);

  set_random_seed(99);
  Sequential cpu_model = dense_model();
  compile(cpu_model);
  cpu_model.build(Shape{-1, 4});
  load_weights(cpu_model, path, {.load_optimizer = false});
  EXPECT_EQ(weights_error(cpu_model, gpu_model), 0.0);

  set_random_seed(98);
  Sequential second_gpu_model = dense_model();
  second_gpu_model.to(cuda);
  compile(second_gpu_model);
  second_gpu_model.build(Shape{-1, 4});
  load_weights(second_gpu_model, path, {.load_optimizer = false});
  EXPECT_EQ(weights_error(second_gpu_model, gpu_model), 0.0);
  EXPECT_LT(tensor_error(second_gpu_model.predict(data.x, {.verbose = 0}),
                         cpu_model.predict(data.x, {.verbose = 0})),
            kBound);
  std::filesystem::remove(path);
}

TEST_F(CudaModelTest, TheSteadyStateAllocatesNoDeviceMemory) {
  Problem data = argmax_problem(256, 6);
  set_random_seed(5);
  Sequential model = dense_model();
  model.to(cuda);
  compile(model);
  model.fit(data.x, data.y, {.batch_size = 32, .epochs = 1, .verbose = 0});
  const int64_t before = gpu_->caching_allocator().driver_allocation_count();
  model.fit(data.x, data.y, {.batch_size = 32, .epochs = 3, .verbose = 0, .initial_epoch = 1});
  EXPECT_EQ(gpu_->caching_allocator().driver_allocation_count(), before);
}

TEST_F(CudaModelTest, MovingAfterCompileOrToAMissingDeviceIsAClearError) {
  Sequential model = dense_model();
  compile(model);
  try {
    model.to(cuda);
    FAIL() << "to() after compile() should throw";
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what()).find("call to(cuda:0) before compile()"), std::string::npos)
        << error.what();
  }
  Sequential other = dense_model();
  try {
    other.to(Device("cuda:64"));
    FAIL() << "to(cuda:64) should throw";
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what()).find("no CUDA device cuda:64"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace trainyard::keras
