// The CUDA backend's elementwise family against the CPU backend: bias addition, the ten
// activations and their gradients, dropout (the same mask bit for bit), embedding lookups,
// slices and padding, and the weight penalties. References run in float64 on the CPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "cuda_test_util.h"

namespace trainyard::cuda_test {
namespace {

using backend::Activation;
using backend::ActivationKind;
using backend::Padding2d;

constexpr double kFloat64Bound = 1e-12;

backend::Backend& cpu() {
  return backend::cpu_backend();
}

double bound_for(DType dtype) {
  return dtype == DType::kFloat32 ? kFloat32Bound : kFloat64Bound;
}
double reduction_bound_for(DType dtype) {
  return dtype == DType::kFloat32 ? kFloat32ReductionBound : kFloat64Bound;
}

Tensor zeros64(const Shape& shape) {
  return Tensor::zeros(shape, DType::kFloat64);
}

std::string describe(DType dtype, const Shape& shape) {
  return std::string(dtype_name(dtype)) + " " + shape.to_string();
}

const std::vector<DType> kDtypes = {DType::kFloat32, DType::kFloat64};

// Odd sizes: a single row, columns off multiples of 32 and 256, rows longer than a block,
// more than one column-sum chunk, and three dimensions flattened into rows.
const std::vector<Shape> kShapes = {Shape{1, 7},    Shape{37, 129}, Shape{1, 1500},
                                    Shape{4, 1025}, Shape{600, 33}, Shape{3, 5, 17}};

const std::vector<Activation> kActivations = {
    {ActivationKind::kLinear, 0.0},    {ActivationKind::kRelu, 0.0},
    {ActivationKind::kSigmoid, 0.0},   {ActivationKind::kTanh, 0.0},
    {ActivationKind::kSoftmax, 0.0},   {ActivationKind::kGelu, 0.0},
    {ActivationKind::kSilu, 0.0},      {ActivationKind::kLeakyRelu, 0.3},
    {ActivationKind::kLeakyRelu, 0.2}, {ActivationKind::kElu, 1.0},
    {ActivationKind::kElu, 0.7},       {ActivationKind::kSoftplus, 0.0},
};

std::string describe(const Activation& activation) {
  return std::string(backend::activation_name(activation.kind)) + " alpha " +
         std::to_string(activation.alpha);
}

// The message of the ValueError that `call` throws, or "" when it throws none.
template <typename Call>
std::string value_error_of(Call&& call) {
  try {
    call();
  } catch (const ValueError& error) {
    return error.what();
  }
  return "";
}

class CudaElementwiseTest : public CudaTest {};

// ---- bias ---------------------------------------------------------------------------------

TEST_F(CudaElementwiseTest, BiasAddMatchesTheCpu) {
  for (DType dtype : kDtypes) {
    for (const Shape& shape : kShapes) {
      SCOPED_TRACE(describe(dtype, shape));
      Tensor x = random_host(shape, dtype);
      Tensor bias = random_host(Shape{shape[-1]}, dtype);
      Tensor out = poisoned(shape, dtype);
      gpu().bias_add(on_gpu(x), on_gpu(bias), out);
      Tensor expected = zeros64(shape);
      cpu().bias_add(as_float64(x), as_float64(bias), expected);
      EXPECT_LE(relative_error(out, expected), bound_for(dtype));
    }
  }
}

TEST_F(CudaElementwiseTest, BiasAddBackwardSumsColumnsOverwritingOrAdding) {
  for (DType dtype : kDtypes) {
    for (const Shape& shape : kShapes) {
      for (bool accumulate : {false, true}) {
        SCOPED_TRACE(describe(dtype, shape) + (accumulate ? " accumulate" : " overwrite"));
        Tensor dy = random_host(shape, dtype);
        Tensor start = random_host(Shape{shape[-1]}, dtype);
        Tensor bias_grad = accumulate ? on_gpu(start) : poisoned(Shape{shape[-1]}, dtype);
        gpu().bias_add_backward(on_gpu(dy), bias_grad, accumulate);
        Tensor expected = as_float64(start);
        cpu().bias_add_backward(as_float64(dy), expected, accumulate);
        EXPECT_LE(relative_error(bias_grad, expected), reduction_bound_for(dtype));
      }
    }
  }
}

TEST_F(CudaElementwiseTest, BiasAddBackwardIsTheSameBitsEveryRun) {
  Tensor dy = on_gpu(random_host(Shape{5000, 77}));
  Tensor first = poisoned(Shape{77});
  Tensor second = poisoned(Shape{77});
  gpu().bias_add_backward(dy, first, false);
  gpu().bias_add_backward(dy, second, false);
  EXPECT_EQ(relative_error(first, on_host(second)), 0.0);
}

// ---- activations --------------------------------------------------------------------------

TEST_F(CudaElementwiseTest, ActivationForwardMatchesTheCpuForEveryKind) {
  for (const Activation& activation : kActivations) {
    for (DType dtype : kDtypes) {
      for (const Shape& shape : kShapes) {
        SCOPED_TRACE(describe(activation) + " " + describe(dtype, shape));
        Tensor x = random_host(shape, dtype, -4.0, 4.0);
        Tensor y = poisoned(shape, dtype);
        gpu().activation_forward(activation, on_gpu(x), y);
        Tensor expected = zeros64(shape);
        cpu().activation_forward(activation, as_float64(x), expected);
        EXPECT_LE(relative_error(y, expected), bound_for(dtype));
      }
    }
  }
}

TEST_F(CudaElementwiseTest, SoftmaxSubtractsTheRowMaximum) {
  // exp(100) overflows float32: without the maximum subtracted every row would be NaN.
  for (DType dtype : kDtypes) {
    for (const Shape& shape : {Shape{3, 2000}, Shape{1, 1}, Shape{17, 10}}) {
      SCOPED_TRACE(describe(dtype, shape));
      Tensor x = random_host(shape, dtype, -100.0, 100.0);
      Tensor y = poisoned(shape, dtype);
      const Activation softmax{ActivationKind::kSoftmax, 0.0};
      gpu().activation_forward(softmax, on_gpu(x), y);
      Tensor expected = zeros64(shape);
      cpu().activation_forward(softmax, as_float64(x), expected);
      EXPECT_LE(relative_error(y, expected), bound_for(dtype));
    }
  }
}

TEST_F(CudaElementwiseTest, ActivationBackwardMatchesTheCpuForEveryKind) {
  for (const Activation& activation : kActivations) {
    for (DType dtype : kDtypes) {
      for (const Shape& shape : kShapes) {
        for (bool accumulate : {false, true}) {
          SCOPED_TRACE(describe(activation) + " " + describe(dtype, shape) +
                       (accumulate ? " accumulate" : " overwrite"));
          Tensor x = random_host(shape, dtype, -4.0, 4.0);
          Tensor dy = random_host(shape, dtype);
          Tensor start = random_host(shape, dtype);
          // Each side differentiates its own forward output, as a training step does.
          Tensor y = poisoned(shape, dtype);
          gpu().activation_forward(activation, on_gpu(x), y);
          Tensor x_grad = accumulate ? on_gpu(start) : poisoned(shape, dtype);
          gpu().activation_backward(activation, on_gpu(x), y, on_gpu(dy), x_grad, accumulate);

          Tensor x64 = as_float64(x);
          Tensor y64 = zeros64(shape);
          cpu().activation_forward(activation, x64, y64);
          Tensor expected = as_float64(start);
          cpu().activation_backward(activation, x64, y64, as_float64(dy), expected, accumulate);
          const double bound = activation.kind == ActivationKind::kSoftmax
                                   ? reduction_bound_for(dtype)
                                   : bound_for(dtype);
          EXPECT_LE(relative_error(x_grad, expected), bound);
        }
      }
    }
  }
}

const std::vector<Activation> kFromOutput = {{ActivationKind::kLinear, 0.0},
                                             {ActivationKind::kRelu, 0.0},
                                             {ActivationKind::kSigmoid, 0.0},
                                             {ActivationKind::kTanh, 0.0}};

TEST_F(CudaElementwiseTest, BiasActivationForwardMatchesBiasAddThenActivation) {
  for (const Activation& activation : kFromOutput) {
    for (DType dtype : kDtypes) {
      for (const Shape& shape : kShapes) {
        SCOPED_TRACE(describe(activation) + " " + describe(dtype, shape));
        Tensor x = random_host(shape, dtype, -3.0, 3.0);
        Tensor bias = random_host(Shape{shape[-1]}, dtype);
        // The same bits as the two unfused GPU entries, and the CPU within the usual bound.
        Tensor unfused = poisoned(shape, dtype);
        gpu().bias_add(on_gpu(x), on_gpu(bias), unfused);
        gpu().activation_forward(activation, unfused, unfused);
        Tensor fused = poisoned(shape, dtype);
        gpu().bias_activation_forward(activation, on_gpu(x), on_gpu(bias), fused);
        Tensor fused_host = on_host(fused), unfused_host = on_host(unfused);
        EXPECT_EQ(std::memcmp(fused_host.raw_data(), unfused_host.raw_data(), fused_host.nbytes()),
                  0);

        Tensor expected = zeros64(shape);
        cpu().bias_activation_forward(activation, as_float64(x), as_float64(bias), expected);
        EXPECT_LE(relative_error(fused, expected), bound_for(dtype));

        // In place and without a bias.
        Tensor in_place = on_gpu(x);
        gpu().bias_activation_forward(activation, in_place, Tensor(), in_place);
        Tensor expected_plain = zeros64(shape);
        cpu().activation_forward(activation, as_float64(x), expected_plain);
        EXPECT_LE(relative_error(in_place, expected_plain), bound_for(dtype));
      }
    }
  }
}

TEST_F(CudaElementwiseTest, BiasActivationBackwardMatchesTheCpu) {
  for (const Activation& activation : kFromOutput) {
    for (DType dtype : kDtypes) {
      for (const Shape& shape : kShapes) {
        for (bool accumulate : {false, true}) {
          SCOPED_TRACE(describe(activation) + " " + describe(dtype, shape) +
                       (accumulate ? " accumulate" : " overwrite"));
          // y as a forward pass leaves it (ReLU's zeros included), computed once on the host.
          Tensor y = Tensor::zeros(shape, dtype);
          cpu().activation_forward(activation, random_host(shape, dtype, -3.0, 3.0), y);
          Tensor dy = random_host(shape, dtype);
          Tensor start = random_host(Shape{shape[-1]}, dtype);
          Tensor z_grad = poisoned(shape, dtype);
          Tensor bias_grad = accumulate ? on_gpu(start) : poisoned(Shape{shape[-1]}, dtype);
          gpu().bias_activation_backward(activation, on_gpu(y), on_gpu(dy), z_grad, bias_grad,
                                         accumulate);

          Tensor expected_z = zeros64(shape);
          Tensor expected_bias = as_float64(start);
          cpu().bias_activation_backward(activation, as_float64(y), as_float64(dy), expected_z,
                                         expected_bias, accumulate);
          EXPECT_LE(relative_error(z_grad, expected_z), bound_for(dtype));
          EXPECT_LE(relative_error(bias_grad, expected_bias), reduction_bound_for(dtype));
        }
      }
    }
  }
}

TEST_F(CudaElementwiseTest, BiasActivationBackwardInPlaceAndWithoutBias) {
  for (const Activation& activation : kFromOutput) {
    for (DType dtype : kDtypes) {
      SCOPED_TRACE(describe(activation) + " " + std::string(dtype_name(dtype)));
      const Shape shape{300, 45};
      Tensor y = Tensor::zeros(shape, dtype);
      cpu().activation_forward(activation, random_host(shape, dtype, -3.0, 3.0), y);
      Tensor dy = random_host(shape, dtype);
      Tensor expected_z = zeros64(shape);
      Tensor expected_bias = zeros64(Shape{45});
      cpu().bias_activation_backward(activation, as_float64(y), as_float64(dy), expected_z,
                                     expected_bias, false);

      // z_grad is y_grad itself: the gradient replaces the upstream one in place.
      Tensor in_place = on_gpu(dy);
      Tensor bias_grad = poisoned(Shape{45}, dtype);
      gpu().bias_activation_backward(activation, on_gpu(y), in_place, in_place, bias_grad, false);
      EXPECT_LE(relative_error(in_place, expected_z), bound_for(dtype));
      EXPECT_LE(relative_error(bias_grad, expected_bias), reduction_bound_for(dtype));

      // An undefined bias gradient is simply not computed.
      Tensor z_grad = poisoned(shape, dtype);
      gpu().bias_activation_backward(activation, on_gpu(y), on_gpu(dy), z_grad, Tensor(), false);
      EXPECT_LE(relative_error(z_grad, expected_z), bound_for(dtype));
    }
  }
}

TEST_F(CudaElementwiseTest, BiasActivationBackwardRefusesKindsThatNeedTheInput) {
  const Shape shape{4, 6};
  Tensor y = on_gpu(random_host(shape));
  Tensor bias_grad = poisoned(Shape{6});
  for (ActivationKind kind :
       {ActivationKind::kSoftmax, ActivationKind::kGelu, ActivationKind::kSilu,
        ActivationKind::kLeakyRelu, ActivationKind::kElu, ActivationKind::kSoftplus}) {
    const std::string message = value_error_of([&] {
      gpu().bias_activation_backward({kind, 0.3}, y, y, poisoned(shape), bias_grad, false);
    });
    EXPECT_NE(message.find("bias_activation_backward: the derivative of " +
                           std::string(backend::activation_name(kind)) + " needs"),
              std::string::npos)
        << message;
  }
}

// ---- dropout ------------------------------------------------------------------------------

// The GPU's mask must be the CPU's: both backends train a model the same way.
TEST_F(CudaElementwiseTest, DropoutMaskIsTheCpuMaskBitForBit) {
  const uint64_t seed = 0x123456789ABCDEF0ull;  // high words set: all of Philox's key is used
  for (DType dtype : kDtypes) {
    for (const Shape& shape : {Shape{1}, Shape{3}, Shape{4}, Shape{4099}, Shape{37, 129}}) {
      for (double rate : {0.1, 0.5, 0.9}) {
        for (uint64_t step : {uint64_t{0}, uint64_t{7}, uint64_t{0x100000003}}) {
          SCOPED_TRACE(describe(dtype, shape) + " rate " + std::to_string(rate) + " step " +
                       std::to_string(step));
          Tensor x = random_host(shape, dtype, 0.5, 1.5);  // never zero: a drop is visible
          Tensor y = poisoned(shape, dtype);
          gpu().dropout_forward(rate, seed, step, on_gpu(x), y);
          Tensor expected = Tensor::zeros(shape, dtype);
          cpu().dropout_forward(rate, seed, step, x, expected);
          EXPECT_EQ(relative_error(y, expected), 0.0);

          Tensor x_grad = poisoned(shape, dtype);
          gpu().dropout_backward(rate, seed, step, on_gpu(x), x_grad, false);
          EXPECT_EQ(relative_error(x_grad, expected), 0.0);
        }
      }
    }
  }
}

TEST_F(CudaElementwiseTest, DropoutKeepsAboutOneMinusRateScaled) {
  const int64_t count = 1 << 20;
  const double rate = 0.3;
  Tensor ones = Tensor::zeros(Shape{count});
  ones.fill(1.0);
  Tensor y = poisoned(Shape{count});
  gpu().dropout_forward(rate, 42, 1, on_gpu(ones), y);
  Tensor host = on_host(y);
  int64_t kept = 0;
  const float scaled = static_cast<float>(1.0 / (1.0 - rate));
  for (int64_t i = 0; i < count; ++i) {
    const float value = host.data<float>()[i];
    ASSERT_TRUE(value == 0.0f || value == scaled) << i << ": " << value;
    kept += value != 0.0f;
  }
  EXPECT_NEAR(static_cast<double>(kept) / count, 1.0 - rate, 0.005);
}

TEST_F(CudaElementwiseTest, DropoutBackwardAccumulatesAndRateZeroOrOneShortCuts) {
  for (DType dtype : kDtypes) {
    SCOPED_TRACE(dtype_name(dtype));
    const Shape shape{1001};
    Tensor dy = random_host(shape, dtype);
    for (double rate : {0.0, 0.4, 1.0}) {
      SCOPED_TRACE("rate " + std::to_string(rate));
      Tensor start = random_host(shape, dtype);
      Tensor x_grad = on_gpu(start);
      gpu().dropout_backward(rate, 9, 3, on_gpu(dy), x_grad, true);
      Tensor expected = as_float64(start);
      cpu().dropout_backward(rate, 9, 3, as_float64(dy), expected, true);
      EXPECT_LE(relative_error(x_grad, expected), bound_for(dtype));

      Tensor y = poisoned(shape, dtype);
      gpu().dropout_forward(rate, 9, 3, on_gpu(dy), y);
      Tensor forward = Tensor::zeros(shape, dtype);
      cpu().dropout_forward(rate, 9, 3, dy, forward);
      EXPECT_EQ(relative_error(y, forward), 0.0);
    }
  }
}

// ---- embedding ----------------------------------------------------------------------------

// Indices in [0, rows) of `dtype` with every row used several times.
Tensor index_tensor(const Shape& shape, DType dtype, int64_t rows, std::mt19937_64& random) {
  Tensor indices = Tensor::zeros(shape, dtype);
  std::uniform_int_distribution<int64_t> pick(0, rows - 1);
  for (int64_t i = 0; i < indices.num_elements(); ++i) {
    const auto value = pick(random);
    switch (dtype) {
      case DType::kFloat32:
        indices.data<float>()[i] = static_cast<float>(value);
        break;
      case DType::kFloat64:
        indices.data<double>()[i] = static_cast<double>(value);
        break;
      case DType::kInt32:
        indices.data<int32_t>()[i] = static_cast<int32_t>(value);
        break;
      case DType::kInt64:
        indices.data<int64_t>()[i] = value;
        break;
      default:
        indices.data<uint8_t>()[i] = static_cast<uint8_t>(value);
        break;
    }
  }
  return indices;
}

const std::vector<DType> kIndexDtypes = {DType::kFloat32, DType::kFloat64, DType::kInt32,
                                         DType::kInt64, DType::kUInt8};

TEST_F(CudaElementwiseTest, EmbeddingForwardGathersTheCpuRows) {
  for (DType dtype : kDtypes) {
    for (DType index_dtype : kIndexDtypes) {
      for (int64_t width : {1, 33, 300}) {
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " indices " +
                     std::string(dtype_name(index_dtype)) + " width " + std::to_string(width));
        const int64_t rows = 50;
        Tensor table = random_host(Shape{rows, width}, dtype);
        Tensor indices = index_tensor(Shape{4, 7}, index_dtype, rows, random());
        Tensor y = poisoned(Shape{4, 7, width}, dtype);
        gpu().embedding_forward(on_gpu(indices), on_gpu(table), y);
        Tensor expected = zeros64(Shape{4, 7, width});
        cpu().embedding_forward(indices, as_float64(table), expected);
        EXPECT_EQ(relative_error(y, expected), 0.0);
      }
    }
  }
}

TEST_F(CudaElementwiseTest, EmbeddingBackwardScattersLikeTheCpu) {
  for (DType dtype : kDtypes) {
    for (DType index_dtype : kIndexDtypes) {
      for (bool accumulate : {false, true}) {
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " indices " +
                     std::string(dtype_name(index_dtype)) +
                     (accumulate ? " accumulate" : " overwrite"));
        // Few rows, many positions: every row is hit many times, so the atomic adds race.
        const int64_t rows = 5, width = 37;
        Tensor indices = index_tensor(Shape{20, 11}, index_dtype, rows, random());
        Tensor dy = random_host(Shape{20, 11, width}, dtype);
        Tensor start = random_host(Shape{rows, width}, dtype);
        Tensor table_grad = accumulate ? on_gpu(start) : poisoned(Shape{rows, width}, dtype);
        gpu().embedding_backward(on_gpu(indices), on_gpu(dy), table_grad, accumulate);
        Tensor expected = as_float64(start);
        cpu().embedding_backward(indices, as_float64(dy), expected, accumulate);
        EXPECT_LE(relative_error(table_grad, expected), reduction_bound_for(dtype));
      }
    }
  }
}

TEST_F(CudaElementwiseTest, EmbeddingNamesTheFirstBadIndexAndWritesNothing) {
  const int64_t rows = 10, width = 3;
  Tensor table = random_host(Shape{rows, width});
  struct Case {
    std::vector<double> values;  // position 1 of a [2, 3] index tensor onwards may be bad
    DType dtype;
  };
  const std::vector<Case> cases = {
      {{1, 2, 10, 3, -1, 4}, DType::kFloat32},  // out of range, then negative
      {{1, 2, 3, 4, 5, 2.5}, DType::kFloat64},  // not an integer
      {{0, -3, 1, 2, 3, 4}, DType::kInt32},    {{0, 1, 2, 3, 4, 12}, DType::kInt64},
      {{0, 1, 200, 3, 4, 5}, DType::kUInt8},   {{0, 1, 2, std::nan(""), 4, 5}, DType::kFloat32},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(dtype_name(c.dtype));
    Tensor indices = Tensor::from_vector<double>(Shape{2, 3}, c.values).cast(c.dtype);
    Tensor expected_y = zeros64(Shape{2, 3, width});
    const std::string expected_forward =
        value_error_of([&] { cpu().embedding_forward(indices, as_float64(table), expected_y); });
    ASSERT_FALSE(expected_forward.empty());

    Tensor before = random_host(Shape{2, 3, width});
    Tensor y = on_gpu(before);
    EXPECT_EQ(value_error_of([&] { gpu().embedding_forward(on_gpu(indices), on_gpu(table), y); }),
              expected_forward);
    EXPECT_EQ(relative_error(y, before), 0.0) << "forward wrote before its check";

    Tensor dy = random_host(Shape{2, 3, width});
    Tensor expected_grad = zeros64(Shape{rows, width});
    const std::string expected_backward = value_error_of(
        [&] { cpu().embedding_backward(indices, as_float64(dy), expected_grad, true); });
    Tensor start = random_host(Shape{rows, width});
    Tensor table_grad = on_gpu(start);
    EXPECT_EQ(value_error_of([&] {
                gpu().embedding_backward(on_gpu(indices), on_gpu(dy), table_grad, false);
              }),
              expected_backward);
    EXPECT_EQ(relative_error(table_grad, start), 0.0) << "backward wrote before its check";
  }
}

// ---- slices and padding -------------------------------------------------------------------

struct SliceCase {
  Shape whole;
  int64_t axis;
  int64_t offset;
  int64_t length;
};

const std::vector<SliceCase> kSliceCases = {
    {Shape{100}, 0, 17, 40},        {Shape{7, 9}, 0, 2, 5},
    {Shape{7, 9}, 1, 3, 6},         {Shape{3, 5, 33}, 1, 0, 2},
    {Shape{3, 5, 33}, 2, 31, 2},    {Shape{2, 3, 4, 300}, 3, 100, 129},
    {Shape{2, 3, 4, 300}, 0, 1, 1}, {Shape{2, 3, 4, 300}, 2, 1, 3},
    {Shape{1, 1, 1, 1}, 2, 0, 1},
};

Shape part_shape(const SliceCase& c) {
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < c.whole.rank(); ++i) dims.push_back(c.whole[i]);
  dims[static_cast<size_t>(c.axis)] = c.length;
  return Shape(dims);
}

TEST_F(CudaElementwiseTest, InsertSliceWritesOnlyTheSlice) {
  for (DType dtype : kDtypes) {
    for (const SliceCase& c : kSliceCases) {
      SCOPED_TRACE(describe(dtype, c.whole) + " axis " + std::to_string(c.axis));
      Tensor whole_start = random_host(c.whole, dtype);
      Tensor part = random_host(part_shape(c), dtype);
      Tensor whole = on_gpu(whole_start);
      gpu().insert_slice(on_gpu(part), c.axis, c.offset, whole);
      Tensor expected = as_float64(whole_start);
      cpu().insert_slice(as_float64(part), c.axis, c.offset, expected);
      EXPECT_EQ(relative_error(whole, expected), 0.0);
    }
  }
}

TEST_F(CudaElementwiseTest, ExtractSliceOverwritesOrAdds) {
  for (DType dtype : kDtypes) {
    for (const SliceCase& c : kSliceCases) {
      for (bool accumulate : {false, true}) {
        SCOPED_TRACE(describe(dtype, c.whole) + " axis " + std::to_string(c.axis) +
                     (accumulate ? " accumulate" : " overwrite"));
        Tensor whole = random_host(c.whole, dtype);
        Tensor start = random_host(part_shape(c), dtype);
        Tensor part = accumulate ? on_gpu(start) : poisoned(part_shape(c), dtype);
        gpu().extract_slice(on_gpu(whole), c.axis, c.offset, part, accumulate);
        Tensor expected = as_float64(start);
        cpu().extract_slice(as_float64(whole), c.axis, c.offset, expected, accumulate);
        EXPECT_LE(relative_error(part, expected), bound_for(dtype));
      }
    }
  }
}

const std::vector<Padding2d> kPaddings = {{1, 1, 1, 1}, {0, 2, 3, 0}, {0, 0, 0, 0}, {2, 0, 0, 1}};

Shape padded(const Shape& x, const Padding2d& p) {
  return Shape{x[0], x[1] + p.top + p.bottom, x[2] + p.left + p.right, x[3]};
}

TEST_F(CudaElementwiseTest, ZeroPad2dForwardMatchesTheCpu) {
  for (DType dtype : kDtypes) {
    for (const Shape& x_shape : {Shape{2, 5, 7, 3}, Shape{1, 1, 1, 33}, Shape{3, 4, 9, 1}}) {
      for (const Padding2d& padding : kPaddings) {
        SCOPED_TRACE(describe(dtype, x_shape) + " padding " + std::to_string(padding.top) +
                     std::to_string(padding.bottom) + std::to_string(padding.left) +
                     std::to_string(padding.right));
        Tensor x = random_host(x_shape, dtype);
        Tensor y = poisoned(padded(x_shape, padding), dtype);
        gpu().zero_pad2d_forward(padding, on_gpu(x), y);
        Tensor expected = zeros64(padded(x_shape, padding));
        cpu().zero_pad2d_forward(padding, as_float64(x), expected);
        EXPECT_EQ(relative_error(y, expected), 0.0);
      }
    }
  }
}

TEST_F(CudaElementwiseTest, ZeroPad2dBackwardCropsOverwritingOrAdding) {
  for (DType dtype : kDtypes) {
    for (const Shape& x_shape : {Shape{2, 5, 7, 3}, Shape{1, 1, 1, 33}, Shape{3, 4, 9, 1}}) {
      for (const Padding2d& padding : kPaddings) {
        for (bool accumulate : {false, true}) {
          SCOPED_TRACE(describe(dtype, x_shape) + " padding " + std::to_string(padding.top) +
                       std::to_string(padding.bottom) + std::to_string(padding.left) +
                       std::to_string(padding.right) + (accumulate ? " accumulate" : ""));
          Tensor dy = random_host(padded(x_shape, padding), dtype);
          Tensor start = random_host(x_shape, dtype);
          Tensor x_grad = accumulate ? on_gpu(start) : poisoned(x_shape, dtype);
          gpu().zero_pad2d_backward(padding, on_gpu(dy), x_grad, accumulate);
          Tensor expected = as_float64(start);
          cpu().zero_pad2d_backward(padding, as_float64(dy), expected, accumulate);
          EXPECT_LE(relative_error(x_grad, expected), bound_for(dtype));
        }
      }
    }
  }
}

// ---- weight regularization ----------------------------------------------------------------

TEST_F(CudaElementwiseTest, RegularizerPenaltyMatchesTheCpu) {
  for (DType dtype : kDtypes) {
    // One element; under a block; more elements than the first pass has threads.
    for (int64_t count : {int64_t{1}, int64_t{1000}, int64_t{1000003}}) {
      for (auto [l1, l2] : {std::pair{0.01, 0.0}, std::pair{0.0, 0.02}, std::pair{0.003, 0.5}}) {
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " count " + std::to_string(count) + " l1 " +
                     std::to_string(l1) + " l2 " + std::to_string(l2));
        Tensor w = random_host(Shape{count}, dtype);
        Tensor penalty = poisoned(Shape{}, dtype);
        gpu().regularizer_forward(l1, l2, on_gpu(w), penalty);
        Tensor expected = zeros64(Shape{});
        cpu().regularizer_forward(l1, l2, as_float64(w), expected);
        EXPECT_LE(relative_error(penalty, expected), reduction_bound_for(dtype));
      }
    }
  }
}

TEST_F(CudaElementwiseTest, RegularizerGradientReadsTheUpstreamScalarOnTheGpu) {
  for (DType dtype : kDtypes) {
    for (bool accumulate : {false, true}) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + (accumulate ? " accumulate" : " overwrite"));
      const Shape shape{3001};
      Tensor w = random_host(shape, dtype);
      // A few exact zeros: sign(0) = 0 gives them no L1 term.
      for (int64_t i : {0, 17, 3000}) {
        if (dtype == DType::kFloat32) {
          w.data<float>()[i] = 0.0f;
        } else {
          w.data<double>()[i] = 0.0;
        }
      }
      Tensor upstream = random_host(Shape{}, dtype, 0.5, 2.0);
      Tensor start = random_host(shape, dtype);
      Tensor grad = accumulate ? on_gpu(start) : poisoned(shape, dtype);
      gpu().regularizer_backward(0.01, 0.03, on_gpu(w), on_gpu(upstream), grad, accumulate);
      Tensor expected = as_float64(start);
      cpu().regularizer_backward(0.01, 0.03, as_float64(w), as_float64(upstream), expected,
                                 accumulate);
      EXPECT_LE(relative_error(grad, expected), bound_for(dtype));
    }
  }
}

// ---- misuse -------------------------------------------------------------------------------

TEST_F(CudaElementwiseTest, ATensorOnTheWrongDeviceIsNamed) {
  Tensor host = random_host(Shape{4, 8});
  Tensor device = on_gpu(host);
  Tensor host_bias = random_host(Shape{8});
  auto expect_named = [](const std::string& message, const std::string& expected) {
    EXPECT_NE(message.find(expected), std::string::npos) << message;
  };
  expect_named(value_error_of([&] { gpu().bias_add(device, host_bias, device); }),
               "bias_add: bias is on cpu:0");
  expect_named(value_error_of([&] {
                 gpu().activation_forward({ActivationKind::kRelu, 0.0}, host, device);
               }),
               "activation_forward: x is on cpu:0");
  expect_named(value_error_of([&] { gpu().dropout_forward(0.5, 1, 1, device, host); }),
               "dropout_forward: y is on cpu:0");
  Tensor indices = Tensor::zeros(Shape{4}, DType::kInt32);
  expect_named(value_error_of([&] {
                 gpu().embedding_forward(indices, on_gpu(random_host(Shape{3, 8})), device);
               }),
               "embedding_forward: indices is on cpu:0");
  expect_named(value_error_of([&] { gpu().insert_slice(host, 0, 0, device); }),
               "insert_slice: part is on cpu:0");
  Tensor scalar = random_host(Shape{});
  expect_named(
      value_error_of([&] { gpu().regularizer_backward(0.1, 0.1, device, scalar, device, false); }),
      "regularizer_backward: penalty_grad is on cpu:0");
}

TEST_F(CudaElementwiseTest, AnIntegerTensorIsAValueErrorNamingTheEntry) {
  Tensor ints = on_gpu(Tensor::zeros(Shape{4, 8}, DType::kInt32));
  const std::string message = value_error_of([&] {
    gpu().activation_forward({ActivationKind::kTanh, 0.0}, ints, ints);
  });
  EXPECT_NE(message.find("activation_forward: the CUDA backend computes in float32 or float64"),
            std::string::npos)
      << message;
}

}  // namespace
}  // namespace trainyard::cuda_test
