// Kernels that split their rows across the compute pool give the same bits on one and two
// threads and from run to run: each element's arithmetic never depends on the split.
#include <gtest/gtest.h>

#include "backend_test_util.h"

namespace trainyard::backend_test {
namespace {

using backend::Activation;
using backend::ActivationKind;
using backend::Loss;
using backend::LossKind;

// [rows, columns] with rows * columns >= 2 * 16384 elements, and rows >= 2 * 4096 / columns,
// so elementwise and per-row (softmax, loss) kernels both split.
constexpr int64_t kRows = 1200, kColumns = 40;

struct Outputs {
  std::vector<Tensor> tensors;
};

template <typename Run>
void expect_same_bits_on_all_runs(const char* what, Run&& run) {
  std::vector<Outputs> results;
  for (int threads : {1, 1, 2, 2}) {
    ThreadCountScope scope(threads);
    results.push_back(run());
  }
  for (size_t r = 1; r < results.size(); ++r) {
    ASSERT_EQ(results[r].tensors.size(), results[0].tensors.size());
    for (size_t t = 0; t < results[0].tensors.size(); ++t) {
      EXPECT_TRUE(bitwise_equal(results[0].tensors[t], results[r].tensors[t]))
          << what << ": output " << t << " of run " << r << " (" << (r < 2 ? 1 : 2)
          << " thread(s)) differs from the first one-thread run";
    }
  }
}

TEST(ThreadingTest, ActivationsForwardAndBackward) {
  Shape shape{kRows, kColumns};
  Tensor x = tensor_of<float>(shape, sample_values(kRows * kColumns, 1, -6, 6));
  Tensor y_grad = tensor_of<float>(shape, sample_values(kRows * kColumns, 2, -1, 1));
  for (Activation activation :
       {Activation{ActivationKind::kRelu}, Activation{ActivationKind::kSigmoid},
        Activation{ActivationKind::kTanh}, Activation{ActivationKind::kSoftmax},
        Activation{ActivationKind::kGelu}, Activation{ActivationKind::kSilu},
        Activation{ActivationKind::kLeakyRelu, 0.2}, Activation{ActivationKind::kElu, 1.0},
        Activation{ActivationKind::kSoftplus}}) {
    expect_same_bits_on_all_runs(
        std::string(backend::activation_name(activation.kind)).c_str(), [&] {
          Tensor y = Tensor::zeros(shape);
          cpu().activation_forward(activation, x, y);
          Tensor x_grad = Tensor::zeros(shape);
          cpu().activation_backward(activation, x, y, y_grad, x_grad, false);
          Tensor accumulated = y_grad.clone();
          cpu().activation_backward(activation, x, y, y_grad, accumulated, true);
          return Outputs{{y, x_grad, accumulated}};
        });
  }
}

TEST(ThreadingTest, LossesForwardAndBackward) {
  Shape shape{kRows, kColumns};
  Tensor probabilities = tensor_of<float>(shape, sample_values(kRows * kColumns, 3, 0.05, 0.95));
  Tensor targets = tensor_of<float>(shape, sample_values(kRows * kColumns, 4, 0, 1));
  std::vector<int32_t> label_values;
  for (int64_t r = 0; r < kRows; ++r) label_values.push_back(static_cast<int32_t>(r % kColumns));
  Tensor labels = Tensor::from_vector<int32_t>(Shape{kRows}, label_values);
  Tensor weights = tensor_of<float>(Shape{kRows}, sample_values(kRows, 5, 0, 2));
  for (Loss loss : {Loss{LossKind::kMeanSquaredError}, Loss{LossKind::kMeanAbsoluteError},
                    Loss{LossKind::kBinaryCrossentropy, false, 0.1},
                    Loss{LossKind::kCategoricalCrossentropy, true, 0.1},
                    Loss{LossKind::kCategoricalCrossentropy, false},
                    Loss{LossKind::kSparseCategoricalCrossentropy, true},
                    Loss{LossKind::kSparseCategoricalCrossentropy, false}}) {
    const Tensor& truth = loss.kind == LossKind::kSparseCategoricalCrossentropy ? labels : targets;
    expect_same_bits_on_all_runs("loss", [&] {
      Tensor value = Tensor::zeros(Shape{});
      cpu().loss_forward(loss, probabilities, truth, weights, value);
      Tensor grad = Tensor::zeros(shape);
      cpu().loss_backward(loss, probabilities, truth, weights, tensor_of<float>(Shape{}, {1}), grad,
                          false);
      return Outputs{{value, grad}};
    });
  }
}

// An out-of-range label in the half of the batch a second thread would handle is a
// ValueError for the caller, and the accumulated gradient is left exactly as it was.
TEST(ThreadingTest, LabelErrorsLeaveTheGradientUntouched) {
  ThreadCountScope scope(2);
  Shape shape{kRows, kColumns};
  Tensor logits = Tensor::zeros(shape);
  std::vector<int32_t> label_values(kRows, 1);
  label_values[kRows - 1] = kColumns;  // the last row
  Tensor labels = Tensor::from_vector<int32_t>(Shape{kRows}, label_values);
  Tensor grad = tensor_of<float>(shape, sample_values(kRows * kColumns, 6, -1, 1));
  Tensor before = grad.clone();
  try {
    cpu().loss_backward({LossKind::kSparseCategoricalCrossentropy, true}, logits, labels, Tensor(),
                        tensor_of<float>(Shape{}, {1}), grad, true);
    FAIL() << "label " << kColumns << " accepted";
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what()).find("label 40"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("row 1199"), std::string::npos) << error.what();
  }
  EXPECT_TRUE(bitwise_equal(grad, before)) << "a rejected batch changed the gradient";
}

}  // namespace
}  // namespace trainyard::backend_test
