// Embedding lookup and scatter, slice copies (Concatenate), zero padding and the L1/L2
// penalty: hand-worked values, accumulation, and errors that leave outputs untouched.
#include <gtest/gtest.h>

#include "backend_test_util.h"

namespace trainyard::backend_test {
namespace {

template <typename T>
class EmbeddingSlicesTest : public ::testing::Test {};
TYPED_TEST_SUITE(EmbeddingSlicesTest, FloatTypes);

TYPED_TEST(EmbeddingSlicesTest, EmbeddingGathersRowsForAnyIndexDtype) {
  using T = TypeParam;
  // table row v is {10v, 10v + 1}.
  Tensor table = tensor_of<T>(Shape{4, 2}, {0, 1, 10, 11, 20, 21, 30, 31});
  for (Tensor indices : {Tensor::from_vector<float>(Shape{2, 3}, {3, 0, 1, 1, 2, 3}),
                         Tensor::from_vector<int32_t>(Shape{2, 3}, {3, 0, 1, 1, 2, 3}),
                         Tensor::from_vector<int64_t>(Shape{2, 3}, {3, 0, 1, 1, 2, 3}),
                         Tensor::from_vector<uint8_t>(Shape{2, 3}, {3, 0, 1, 1, 2, 3}),
                         Tensor::from_vector<double>(Shape{2, 3}, {3, 0, 1, 1, 2, 3})}) {
    Tensor y = Tensor::zeros(Shape{2, 3, 2}, dtype_of<T>());
    cpu().embedding_forward(indices, table, y);
    std::vector<double> expected{30, 31, 0, 1, 10, 11, 10, 11, 20, 21, 30, 31};
    for (int64_t i = 0; i < 12; ++i) {
      EXPECT_EQ(y.item(i), expected[i]) << dtype_name(indices.dtype()) << " element " << i;
    }
  }
}

TYPED_TEST(EmbeddingSlicesTest, EmbeddingBackwardScatterAddsRepeatedIndices) {
  using T = TypeParam;
  Tensor indices = Tensor::from_vector<float>(Shape{2, 2}, {1, 3, 1, 1});
  Tensor dy = tensor_of<T>(Shape{2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor grad = tensor_of<T>(Shape{4, 2}, std::vector<double>(8, 100));
  cpu().embedding_backward(indices, dy, grad, false);
  // Row 1 gets positions 0, 2 and 3: {1 + 5 + 7, 2 + 6 + 8}; row 3 gets position 1.
  std::vector<double> expected{0, 0, 13, 16, 0, 0, 3, 4};
  for (int64_t i = 0; i < 8; ++i) EXPECT_EQ(grad.item(i), expected[i]) << i;
  cpu().embedding_backward(indices, dy, grad, true);
  for (int64_t i = 0; i < 8; ++i) EXPECT_EQ(grad.item(i), 2 * expected[i]) << i;
}

TYPED_TEST(EmbeddingSlicesTest, BadIndicesAreNamedAndNothingIsWritten) {
  using T = TypeParam;
  Tensor table = tensor_of<T>(Shape{4, 2}, {0, 1, 10, 11, 20, 21, 30, 31});
  struct Case {
    Tensor indices;
    std::string message;
  };
  std::vector<Case> cases{
      {Tensor::from_vector<float>(Shape{2, 2}, {0, 1, 2, 4}), "index 4 at position [1, 1]"},
      {Tensor::from_vector<float>(Shape{2, 2}, {0, 1.5, 2, 3}), "index 1.5"},
      {Tensor::from_vector<int32_t>(Shape{2, 2}, {0, 1, -1, 3}), "index -1 at position [1, 0]"},
      {Tensor::from_vector<float>(Shape{2, 2}, {0, 1, 2, NAN}), "at position [1, 1]"},
  };
  for (const Case& c : cases) {
    Tensor y = tensor_of<T>(Shape{2, 2, 2}, std::vector<double>(8, 7));
    try {
      cpu().embedding_forward(c.indices, table, y);
      ADD_FAILURE() << "expected a ValueError for " << c.message;
    } catch (const ValueError& error) {
      EXPECT_NE(std::string(error.what()).find(c.message), std::string::npos) << error.what();
    }
    for (int64_t i = 0; i < 8; ++i) EXPECT_EQ(y.item(i), 7.0) << "output written before the check";
    Tensor grad = tensor_of<T>(Shape{4, 2}, std::vector<double>(8, 5));
    Tensor saved = grad.clone();
    EXPECT_THROW(cpu().embedding_backward(c.indices, y, grad, true), ValueError);
    EXPECT_THROW(cpu().embedding_backward(c.indices, y, grad, false), ValueError);
    EXPECT_TRUE(bitwise_equal(grad, saved)) << "gradient touched for " << c.message;
  }
  Tensor y = Tensor::zeros(Shape{2, 3}, dtype_of<T>());
  EXPECT_THROW(cpu().embedding_forward(cases[0].indices, table, y), ShapeError);
}

TYPED_TEST(EmbeddingSlicesTest, SlicesAlongEachAxis) {
  using T = TypeParam;
  // a [2, 1, 2] and b [2, 2, 2] joined along axis 1 into [2, 3, 2].
  Tensor a = tensor_of<T>(Shape{2, 1, 2}, {1, 2, 3, 4});
  Tensor b = tensor_of<T>(Shape{2, 2, 2}, {10, 11, 12, 13, 14, 15, 16, 17});
  Tensor whole = Tensor::zeros(Shape{2, 3, 2}, dtype_of<T>());
  cpu().insert_slice(a, 1, 0, whole);
  cpu().insert_slice(b, 1, 1, whole);
  std::vector<double> expected{1, 2, 10, 11, 12, 13, 3, 4, 14, 15, 16, 17};
  for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(whole.item(i), expected[i]) << i;
  // Along the last axis: [2, 1] and [2, 2] into [2, 3].
  Tensor c = tensor_of<T>(Shape{2, 1}, {1, 2});
  Tensor d = tensor_of<T>(Shape{2, 2}, {3, 4, 5, 6});
  Tensor joined = Tensor::zeros(Shape{2, 3}, dtype_of<T>());
  cpu().insert_slice(c, 1, 0, joined);
  cpu().insert_slice(d, 1, 1, joined);
  std::vector<double> rows{1, 3, 4, 2, 5, 6};
  for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(joined.item(i), rows[i]) << i;

  Tensor part = tensor_of<T>(Shape{2, 2, 2}, std::vector<double>(8, 1));
  cpu().extract_slice(whole, 1, 1, part, false);
  for (int64_t i = 0; i < 8; ++i) EXPECT_EQ(part.item(i), b.item(i)) << i;
  cpu().extract_slice(whole, 1, 1, part, true);
  for (int64_t i = 0; i < 8; ++i) EXPECT_EQ(part.item(i), 2 * b.item(i)) << i;

  EXPECT_THROW(cpu().insert_slice(b, 1, 2, whole), ShapeError);  // runs past the end
  EXPECT_THROW(cpu().insert_slice(b, 0, 0, whole), ShapeError);  // other dims differ
  EXPECT_THROW(cpu().insert_slice(b, 3, 0, whole), ShapeError);  // no such axis
}

TYPED_TEST(EmbeddingSlicesTest, ZeroPaddingAndCrop) {
  using T = TypeParam;
  // x [1, 2, 2, 1] padded by top 1, bottom 0, left 0, right 2 -> [1, 3, 4, 1].
  Tensor x = tensor_of<T>(Shape{1, 2, 2, 1}, {1, 2, 3, 4});
  backend::Padding2d padding{.top = 1, .bottom = 0, .left = 0, .right = 2};
  Tensor y = tensor_of<T>(Shape{1, 3, 4, 1}, std::vector<double>(12, 9));
  cpu().zero_pad2d_forward(padding, x, y);
  std::vector<double> expected{0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0};
  for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(y.item(i), expected[i]) << i;

  // Two channels, padding on every side: x [1, 1, 1, 2] -> [1, 3, 4, 2].
  Tensor pixel = tensor_of<T>(Shape{1, 1, 1, 2}, {5, 6});
  backend::Padding2d around{.top = 1, .bottom = 1, .left = 2, .right = 1};
  Tensor framed = Tensor::zeros(Shape{1, 3, 4, 2}, dtype_of<T>());
  cpu().zero_pad2d_forward(around, pixel, framed);
  for (int64_t i = 0; i < 24; ++i) {
    double want = i == (1 * 4 + 2) * 2 ? 5 : (i == (1 * 4 + 2) * 2 + 1 ? 6 : 0);
    EXPECT_EQ(framed.item(i), want) << i;
  }

  Tensor dy = tensor_of<T>(Shape{1, 3, 4, 1}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  Tensor dx = tensor_of<T>(Shape{1, 2, 2, 1}, {100, 100, 100, 100});
  cpu().zero_pad2d_backward(padding, dy, dx, false);
  std::vector<double> cropped{4, 5, 8, 9};
  for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(dx.item(i), cropped[i]) << i;
  cpu().zero_pad2d_backward(padding, dy, dx, true);
  for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(dx.item(i), 2 * cropped[i]) << i;
  EXPECT_THROW(cpu().zero_pad2d_forward({.top = 1}, x, y), ShapeError);
}

TYPED_TEST(EmbeddingSlicesTest, RegularizerPenaltyAndGradient) {
  using T = TypeParam;
  Tensor w = tensor_of<T>(Shape{2, 2}, {1, -2, 0, 0.5});
  Tensor penalty = Tensor::zeros(Shape{}, dtype_of<T>());
  // l1 * (1 + 2 + 0 + 0.5) + l2 * (1 + 4 + 0 + 0.25)
  cpu().regularizer_forward(0.01, 0.0, w, penalty);
  EXPECT_NEAR(penalty.item(), 0.035, 1e-7);
  cpu().regularizer_forward(0.0, 0.01, w, penalty);
  EXPECT_NEAR(penalty.item(), 0.0525, 1e-7);
  cpu().regularizer_forward(0.1, 0.2, w, penalty);
  EXPECT_NEAR(penalty.item(), 0.35 + 1.05, 1e-6);

  // (l1 sign(w) + 2 l2 w) * upstream, with sign(0) = 0.
  Tensor upstream = tensor_of<T>(Shape{}, {3});
  Tensor grad = Tensor::zeros(w.shape(), w.dtype());
  cpu().regularizer_backward(0.1, 0.2, w, upstream, grad, false);
  std::vector<double> expected{3 * (0.1 + 0.4), 3 * (-0.1 - 0.8), 0, 3 * (0.1 + 0.2)};
  for (int64_t i = 0; i < 4; ++i) EXPECT_NEAR(grad.item(i), expected[i], 1e-6) << i;
  cpu().regularizer_backward(0.1, 0.2, w, upstream, grad, true);
  for (int64_t i = 0; i < 4; ++i) EXPECT_NEAR(grad.item(i), 2 * expected[i], 1e-6) << i;
}

// Width 64 over 1000 positions repeating 10 rows: both threads scatter, same bits.
TEST(EmbeddingThreadingTest, ScatterGivesTheSameBitsOnOneAndTwoThreads) {
  const int64_t positions = 1000, width = 64, vocabulary = 10;
  std::vector<int32_t> ids(positions);
  for (int64_t p = 0; p < positions; ++p) ids[p] = static_cast<int32_t>((p * 7) % vocabulary);
  Tensor indices = Tensor::from_vector<int32_t>(Shape{positions}, ids);
  Tensor dy = tensor_of<float>(Shape{positions, width}, sample_values(positions * width, 1, -1, 1));
  std::vector<Tensor> grads;
  for (int threads : {1, 1, 2, 2}) {
    ThreadCountScope scope(threads);
    Tensor grad = Tensor::zeros(Shape{vocabulary, width});
    cpu().embedding_backward(indices, dy, grad, false);
    grads.push_back(grad);
  }
  for (size_t r = 1; r < grads.size(); ++r) EXPECT_TRUE(bitwise_equal(grads[0], grads[r])) << r;
}

}  // namespace
}  // namespace trainyard::backend_test
