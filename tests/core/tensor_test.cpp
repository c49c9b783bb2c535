#include "core/tensor.h"

#include <gtest/gtest.h>

namespace trainyard {
namespace {

TEST(ShapeTest, CountsElementsAndFormatsLikeKeras) {
  Shape shape{32, 28, 28};
  EXPECT_EQ(shape.num_elements(), 32 * 28 * 28);
  EXPECT_EQ(shape[-1], 28);
  EXPECT_EQ(shape.to_string(), "[32, 28, 28]");
  EXPECT_EQ(Shape({-1, 784}).to_keras_string(), "(None, 784)");
  EXPECT_EQ(Shape({-1}).to_keras_string(), "(None,)");
  EXPECT_THROW(shape[3], ShapeError);
}

TEST(TensorTest, ZerosFromVectorAndViewsShareStorage) {
  Tensor t = Tensor::from_vector<float>(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(t.dtype(), DType::kFloat32);
  EXPECT_EQ(t.item(4), 5.0);
  Tensor row = t.slice_rows(1, 2);
  EXPECT_EQ(row.shape(), Shape({1, 3}));
  row.fill(9);
  EXPECT_EQ(t.item(3), 9.0);
  EXPECT_EQ(t.item(2), 3.0);
  Tensor flat = t.reshape(Shape{6});
  EXPECT_EQ(flat.item(5), 9.0);
  EXPECT_THROW(t.reshape(Shape{4}), ShapeError);
  EXPECT_THROW(t.data<double>(), ShapeError);
}

TEST(TensorTest, CloneIsDeepAndCastConverts) {
  Tensor t = Tensor::from_vector<uint8_t>(Shape{3}, {0, 128, 255});
  Tensor copy = t.clone();
  copy.fill(1);
  EXPECT_EQ(t.item(1), 128.0);
  Tensor as_float = t.cast(DType::kFloat32);
  EXPECT_EQ(as_float.dtype(), DType::kFloat32);
  EXPECT_FLOAT_EQ(as_float.data<float>()[2], 255.0f);
}

TEST(TensorTest, AllocationsAreCounted) {
  int64_t before = storage_allocation_count();
  Tensor a = Tensor::zeros(Shape{10});
  Tensor view = a.reshape(Shape{2, 5});
  EXPECT_EQ(storage_allocation_count(), before + 1);
}

TEST(DTypeTest, NamesRoundTrip) {
  for (DType dtype : {DType::kFloat32, DType::kFloat64, DType::kBFloat16, DType::kFloat16,
                      DType::kInt32, DType::kInt64, DType::kUInt8}) {
    EXPECT_EQ(parse_dtype(dtype_name(dtype)), dtype);
  }
  EXPECT_EQ(dtype_size(DType::kBFloat16), 2u);
  EXPECT_THROW(parse_dtype("float8"), ValueError);
}

TEST(DeviceTest, ParsesSpecs) {
  EXPECT_EQ(Device("cuda:1"), Device(DeviceType::kCuda, 1));
  EXPECT_EQ(Device("cpu").to_string(), "cpu:0");
  EXPECT_THROW(Device("tpu:0"), ValueError);
  EXPECT_THROW(Device("cuda:x"), ValueError);
}

}  // namespace
}  // namespace trainyard
