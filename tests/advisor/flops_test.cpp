// FLOP counts against values worked out by hand: each expected value is written as the
// arithmetic of docs/advisor.md ("FLOP counts") so a reader can check it.
#include "advisor/flops.h"

#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include "core/error.h"
#include "example_models.h"
#include "keras/saving/atomic_file.h"
#include "keras/saving/keras_archive.h"
#include "keras/saving/model_file.h"

namespace trainyard::advisor {
namespace {

namespace k = keras;
using testing::fashion_mnist_cnn;

TEST(FlopsTest, DenseCountsTheProductBiasAndActivation) {
  nn::Dense dense(5, {.activation = "relu"});
  dense.build(Shape{-1, 3});
  const LayerFlops counted = layer_flops(dense);
  // 2*in*out + bias (out) + relu (out)
  EXPECT_EQ(counted.forward, 2 * 3 * 5 + 5 + 5);
  // input and kernel gradients (2 x the product) + the bias and relu gradients
  EXPECT_EQ(counted.backward, 2 * (2 * 3 * 5) + 5 + 5);
}

TEST(FlopsTest, DenseWithoutBiasOrActivationIsTheProductAlone) {
  nn::Dense dense(4, {.use_bias = false});
  dense.build(Shape{-1, 6});
  EXPECT_EQ(layer_flops(dense).forward, 2 * 6 * 4);
  EXPECT_EQ(layer_flops(dense).backward, 2 * (2 * 6 * 4));
}

TEST(FlopsTest, DenseOverASequenceCountsEveryStep) {
  nn::Dense dense(2);
  dense.build(Shape{-1, 7, 3});  // 7 steps of 3 features
  EXPECT_EQ(layer_flops(dense).forward, 7 * (2 * 3 * 2 + 2));
}

TEST(FlopsTest, Conv2DValidPadding) {
  nn::Conv2D conv(16, 3);
  conv.build(Shape{-1, 8, 8, 3});
  // Output 6x6x16 (8 - 3 + 1 = 6): 2*Kh*Kw*Cin*Cout*Hout*Wout + bias per output.
  const int64_t product = 2 * 3 * 3 * 3 * 16 * 6 * 6;
  EXPECT_EQ(product, 31104);
  EXPECT_EQ(layer_flops(conv).forward, product + 6 * 6 * 16);
  EXPECT_EQ(layer_flops(conv).backward, 2 * product + 6 * 6 * 16);
}

TEST(FlopsTest, Conv2DSamePaddingWithStrides) {
  nn::Conv2D conv(4, 3, {.strides = 2, .padding = "same", .activation = "relu"});
  conv.build(Shape{-1, 7, 7, 2});
  // "same" with stride 2: ceil(7 / 2) = 4, so the output is 4x4x4.
  const int64_t product = 2 * 3 * 3 * 2 * 4 * 4 * 4;
  EXPECT_EQ(layer_flops(conv).forward, product + 4 * 4 * 4 + 4 * 4 * 4);
}

TEST(FlopsTest, Conv2DValidPaddingWithStrides) {
  nn::Conv2D conv(2, 3, {.strides = 2});
  conv.build(Shape{-1, 9, 9, 1});
  // "valid" with stride 2: floor((9 - 3) / 2) + 1 = 4, so 4x4x2.
  EXPECT_EQ(layer_flops(conv).forward, 2 * 3 * 3 * 1 * 2 * 4 * 4 + 4 * 4 * 2);
}

TEST(FlopsTest, UnbuiltLayerIsAnError) {
  nn::Dense dense(3);
  EXPECT_THROW(layer_flops(dense), ValueError);
}

TEST(FlopsTest, FashionMnistMlpConfig) {
  const std::string path =
      std::string(TRAINYARD_ADVISOR_SOURCE_DIR) + "/examples/fashion_mnist/model.json";
  auto model = k::deserialize_model(k::saving::read_small_file(path, k::saving::kMaxConfigBytes));
  const ModelFlops counted = count_flops(*model);
  // Flatten 28x28 -> 784 (free); Dense(128, relu); Dense(10).
  const int64_t dense_forward = 2 * 784 * 128 + 128 + 128;
  const int64_t logits_forward = 2 * 128 * 10 + 10;
  EXPECT_EQ(counted.forward_per_sample(), dense_forward + logits_forward);
  EXPECT_EQ(counted.forward_per_sample(), 203530);
  const int64_t dense_backward = 2 * (2 * 784 * 128) + 128 + 128;
  const int64_t logits_backward = 2 * (2 * 128 * 10) + 10;
  EXPECT_EQ(counted.training_per_sample(),
            dense_forward + logits_forward + dense_backward + logits_backward);
  EXPECT_EQ(counted.training_per_sample(), 610324);
}

TEST(FlopsTest, FashionMnistCnn) {
  const k::Functional model = fashion_mnist_cnn();
  const ModelFlops counted = count_flops(model);
  // Conv2D(32, 3x3, relu): 28x28x1 -> 26x26x32.
  const int64_t conv1_product = 2 * 3 * 3 * 1 * 32 * 26 * 26;
  const int64_t conv1_elementwise = 2 * (26 * 26 * 32);  // bias + relu
  // MaxPooling2D(2): 26x26x32 -> 13x13x32, 2*2 comparisons per output.
  const int64_t pool1 = 2 * 2 * 13 * 13 * 32;
  // Conv2D(64, 3x3, relu): 13x13x32 -> 11x11x64.
  const int64_t conv2_product = 2 * 3 * 3 * 32 * 64 * 11 * 11;
  const int64_t conv2_elementwise = 2 * (11 * 11 * 64);
  // MaxPooling2D(2): 11x11x64 -> 5x5x64 (the odd row and column dropped).
  const int64_t pool2 = 2 * 2 * 5 * 5 * 64;
  // Flatten -> 1600; Dense(128, relu); Dense(10).
  const int64_t dense_product = 2 * 1600 * 128;
  const int64_t dense_elementwise = 128 + 128;
  const int64_t logits_product = 2 * 128 * 10;
  const int64_t logits_elementwise = 10;

  const int64_t forward = conv1_product + conv1_elementwise + pool1 + conv2_product +
                          conv2_elementwise + pool2 + dense_product + dense_elementwise +
                          logits_product + logits_elementwise;
  EXPECT_EQ(counted.forward_per_sample(), forward);
  EXPECT_EQ(counted.forward_per_sample(), 5349130);
  const int64_t backward = 2 * (conv1_product + conv2_product + dense_product + logits_product) +
                           conv1_elementwise + pool1 + conv2_elementwise + pool2 +
                           dense_elementwise + logits_elementwise;
  EXPECT_EQ(counted.training_per_sample(), forward + backward);
  EXPECT_EQ(counted.training_per_sample(), 15960340);
}

}  // namespace
}  // namespace trainyard::advisor
