// fill, copy, bias_add and bias_add_backward, with and without accumulation, on shapes
// small enough to check by hand and large enough to run on both threads.
#include <gtest/gtest.h>

#include "backend_test_util.h"

namespace trainyard::backend_test {
namespace {

template <typename T>
class ElementwiseTest : public ::testing::Test {};
TYPED_TEST_SUITE(ElementwiseTest, FloatTypes);

TYPED_TEST(ElementwiseTest, FillAndCopy) {
  using T = TypeParam;
  Tensor out = Tensor::zeros(Shape{2, 3}, dtype_of<T>());
  cpu().fill(out, 1.5);
  for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(out.item(i), 1.5);

  // copy accepts another shape with the same element count ([3, 2] into [2, 3]).
  Tensor source = tensor_of<T>(Shape{3, 2}, {1, 2, 3, 4, 5, 6});
  cpu().copy(source, out, false);
  for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(out.item(i), double(i + 1));
  cpu().copy(source, out, true);
  for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(out.item(i), 2.0 * double(i + 1));
  // Copying a tensor onto itself is a no-op, not a read of half-written memory.
  cpu().copy(out, out, false);
  for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(out.item(i), 2.0 * double(i + 1));
}

TYPED_TEST(ElementwiseTest, BiasAddOverRowsOfAnyRank) {
  using T = TypeParam;
  // x [2, 2, 3] is 4 rows of 3: out[r, j] = x[r, j] + bias[j].
  Tensor x = tensor_of<T>(Shape{2, 2, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  Tensor bias = tensor_of<T>(Shape{3}, {100, 200, 300});
  Tensor out = Tensor::zeros(x.shape(), x.dtype());
  cpu().bias_add(x, bias, out);
  for (int64_t i = 0; i < 12; ++i) {
    EXPECT_EQ(out.item(i), double(i) + 100.0 * double(i % 3 + 1)) << i;
  }
  // In place, as Affine adds its bias to the product it just wrote.
  cpu().bias_add(out, bias, out);
  for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(out.item(i), double(i) + 200.0 * double(i % 3 + 1));
}

TYPED_TEST(ElementwiseTest, BiasAddBackwardSumsRowsAndAccumulates) {
  using T = TypeParam;
  Tensor dy = tensor_of<T>(Shape{2, 2, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  Tensor grad = tensor_of<T>(Shape{3}, {1000, 1000, 1000});
  cpu().bias_add_backward(dy, grad, false);
  // Column sums: 0+3+6+9 = 18, 1+4+7+10 = 22, 2+5+8+11 = 26.
  EXPECT_EQ(grad.item(0), 18.0);
  EXPECT_EQ(grad.item(1), 22.0);
  EXPECT_EQ(grad.item(2), 26.0);
  cpu().bias_add_backward(dy, grad, true);
  EXPECT_EQ(grad.item(0), 36.0);
  EXPECT_EQ(grad.item(1), 44.0);
  EXPECT_EQ(grad.item(2), 52.0);
}

// Large enough (rows * columns >= 2 * 16384) that bias_add and accumulating copies run on
// two threads; the results match a serial reference and each other bit for bit.
TYPED_TEST(ElementwiseTest, LargeTensorsGiveTheSameBitsOnOneAndTwoThreads) {
  using T = TypeParam;
  const int64_t rows = 700, columns = 97;
  Tensor x = tensor_of<T>(Shape{rows, columns}, sample_values(rows * columns, 1, -1, 1));
  Tensor bias = tensor_of<T>(Shape{columns}, sample_values(columns, 2, -1, 1));
  std::vector<Tensor> sums, copies, bias_grads;
  for (int threads : {1, 1, 2, 2}) {
    ThreadCountScope scope(threads);
    Tensor out = Tensor::zeros(x.shape(), x.dtype());
    cpu().bias_add(x, bias, out);
    sums.push_back(out);
    Tensor accumulated = x.clone();
    cpu().copy(out, accumulated, true);
    copies.push_back(accumulated);
    Tensor grad = Tensor::zeros(Shape{columns}, x.dtype());
    cpu().bias_add_backward(x, grad, false);
    bias_grads.push_back(grad);
  }
  const T* in = x.data<T>();
  const T* b = bias.data<T>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < columns; ++j) {
      T expected = in[r * columns + j] + b[j];
      ASSERT_EQ(sums[0].data<T>()[r * columns + j], expected) << r << ", " << j;
      ASSERT_EQ(copies[0].data<T>()[r * columns + j], in[r * columns + j] + expected);
    }
  }
  std::vector<Real> column_sums(columns, 0);
  for (int64_t i = 0; i < rows * columns; ++i) column_sums[i % columns] += in[i];
  for (int64_t j = 0; j < columns; ++j) {
    EXPECT_TRUE(near_reference<T>(bias_grads[0].item(j), column_sums[j],
                                  std::is_same_v<T, float> ? 1e-4 : 1e-12,
                                  "bias gradient column " + std::to_string(j)));
  }
  for (size_t run = 1; run < 4; ++run) {
    EXPECT_TRUE(bitwise_equal(sums[0], sums[run])) << "run " << run;
    EXPECT_TRUE(bitwise_equal(copies[0], copies[run])) << "run " << run;
    EXPECT_TRUE(bitwise_equal(bias_grads[0], bias_grads[run])) << "run " << run;
  }
}

TEST(ElementwiseErrorTest, MismatchesNameTheEntry) {
  auto message_of = [](auto&& call) {
    try {
      call();
    } catch (const ShapeError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  std::string copy =
      message_of([] { cpu().copy(Tensor::zeros(Shape{4}), Tensor::zeros(Shape{5}), false); });
  EXPECT_NE(copy.find("copy"), std::string::npos) << copy;
  std::string copy_dtype = message_of(
      [] { cpu().copy(Tensor::zeros(Shape{4}), Tensor::zeros(Shape{4}, DType::kFloat64), true); });
  EXPECT_NE(copy_dtype.find("copy"), std::string::npos) << copy_dtype;
  std::string bias = message_of([] {
    Tensor x = Tensor::zeros(Shape{2, 3});
    cpu().bias_add(x, Tensor::zeros(Shape{2}), x);
  });
  EXPECT_NE(bias.find("bias_add"), std::string::npos) << bias;
  EXPECT_NE(bias.find("[2]"), std::string::npos) << bias;
  std::string bias_grad = message_of([] {
    cpu().bias_add_backward(Tensor::zeros(Shape{2, 3}), Tensor::zeros(Shape{4}), true);
  });
  EXPECT_NE(bias_grad.find("bias_add_backward"), std::string::npos) << bias_grad;
}

}  // namespace
}  // namespace trainyard::backend_test
