// Gradient clipping on a flat buffer of several variables, checked against Keras 3's
// formulas (keras-semantics.md section 3.1) evaluated in long double. The variables sit
// at 16-element boundaries with garbage in the gaps, as the trainer packs them, to show the
// gaps are neither read nor written.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "backend_test_util.h"

namespace trainyard::backend_test {
namespace {

using backend::BufferSegment;
using backend::ClipMode;
using backend::GradientClip;

constexpr double kGap = 1234.5;  // what lies between the variables; must survive untouched

// Variables of these sizes, each starting on a 16-element boundary. The last one is long
// enough for its sum of squares to be split over several chunks and threads.
struct Packed {
  std::vector<BufferSegment> segments;
  std::vector<double> values;  // the whole buffer, gaps included
};

Packed pack(const std::vector<int64_t>& sizes, const std::vector<double>& scales) {
  Packed packed;
  int64_t offset = 0;
  for (size_t s = 0; s < sizes.size(); ++s) {
    packed.segments.push_back({offset, sizes[s]});
    offset += (sizes[s] + 15) / 16 * 16;
  }
  packed.values.assign(static_cast<size_t>(offset), kGap);
  for (size_t s = 0; s < sizes.size(); ++s) {
    std::vector<double> values = sample_values(sizes[s], 7 + s, -scales[s], scales[s]);
    std::copy(values.begin(), values.end(), packed.values.begin() + packed.segments[s].offset);
  }
  return packed;
}

// Sizes 5, 37 and 40000 with element scales chosen so the small variable's norm (< 0.05)
// is under every threshold used below and the others' norms (~2.3 and ~173) are over.
Packed standard_buffer() {
  return pack({5, 37, 40000}, {0.02, 0.65, 1.5});
}

Real norm_of(const std::vector<Real>& values, const BufferSegment& segment) {
  Real sum = 0;
  for (int64_t i = segment.offset; i < segment.offset + segment.size; ++i) {
    sum += values[static_cast<size_t>(i)] * values[static_cast<size_t>(i)];
  }
  return std::sqrt(sum);
}

template <typename T>
void expect_gaps_untouched(const Tensor& gradients, const std::vector<BufferSegment>& segments) {
  std::vector<bool> inside(static_cast<size_t>(gradients.num_elements()), false);
  for (const auto& segment : segments) {
    for (int64_t i = segment.offset; i < segment.offset + segment.size; ++i) {
      inside[static_cast<size_t>(i)] = true;
    }
  }
  for (int64_t i = 0; i < gradients.num_elements(); ++i) {
    if (!inside[static_cast<size_t>(i)]) {
      ASSERT_EQ(gradients.data<T>()[i], static_cast<T>(kGap)) << "gap element " << i;
    }
  }
}

// Checks every element of every segment against expected(original, segment index).
template <typename T, typename Expected>
void expect_segments(const Tensor& gradients, const std::vector<Real>& original,
                     const std::vector<BufferSegment>& segments, Expected expected) {
  for (size_t s = 0; s < segments.size(); ++s) {
    for (int64_t i = segments[s].offset; i < segments[s].offset + segments[s].size; ++i) {
      Real want = expected(original[static_cast<size_t>(i)], s);
      ASSERT_TRUE(near_reference<T>(
          static_cast<double>(gradients.data<T>()[i]), want, relative_tolerance<T>(),
          "segment " + std::to_string(s) + " element " + std::to_string(i)));
    }
  }
}

template <typename T>
class ClippingTest : public ::testing::Test {};
TYPED_TEST_SUITE(ClippingTest, FloatTypes);

TYPED_TEST(ClippingTest, ClipNormClipsEachVariableOnItsOwn) {
  using T = TypeParam;
  Packed packed = standard_buffer();
  Tensor gradients = tensor_of<T>(Shape{int64_t(packed.values.size())}, packed.values);
  std::vector<Real> original = reals_of(gradients);
  const double c = 1.0;
  std::vector<Real> norms;
  for (const auto& segment : packed.segments) norms.push_back(norm_of(original, segment));
  ASSERT_LT(norms[0], c);  // the case "under the threshold" is really exercised
  ASSERT_GT(norms[1], c);
  ASSERT_GT(norms[2], c);

  cpu().clip_gradients({ClipMode::kNorm, c}, gradients, packed.segments);

  expect_segments<T>(gradients, original, packed.segments, [&](Real g, size_t s) {
    return g * static_cast<Real>(c) / std::max<Real>(norms[s], static_cast<Real>(c));
  });
  std::vector<Real> clipped = reals_of(gradients);
  EXPECT_NEAR(static_cast<double>(norm_of(clipped, packed.segments[1])), c, 1e-5);
  EXPECT_NEAR(static_cast<double>(norm_of(clipped, packed.segments[2])), c, 1e-5);
  expect_gaps_untouched<T>(gradients, packed.segments);
}

TYPED_TEST(ClippingTest, ClipNormLeavesAZeroGradientZero) {
  using T = TypeParam;
  Tensor gradients =
      Tensor::zeros(Shape{8}, std::is_same_v<T, float> ? DType::kFloat32 : DType::kFloat64);
  std::vector<BufferSegment> segments{{0, 8}};
  cpu().clip_gradients({ClipMode::kNorm, 0.5}, gradients, segments);
  for (int64_t i = 0; i < 8; ++i) EXPECT_EQ(gradients.data<T>()[i], T(0));  // not 0/0
}

TYPED_TEST(ClippingTest, GlobalNormScalesAllVariablesByOneFactor) {
  using T = TypeParam;
  Packed packed = standard_buffer();
  for (double c : {5.0, 1e6}) {  // under and over the global norm (~173)
    Tensor gradients = tensor_of<T>(Shape{int64_t(packed.values.size())}, packed.values);
    std::vector<Real> original = reals_of(gradients);
    Real sum = 0;
    for (const auto& segment : packed.segments) {
      Real norm = norm_of(original, segment);
      sum += norm * norm;
    }
    Real global = std::sqrt(sum);
    Real scale = std::min<Real>(1, static_cast<Real>(c) / global);

    cpu().clip_gradients({ClipMode::kGlobalNorm, c}, gradients, packed.segments);

    expect_segments<T>(gradients, original, packed.segments,
                       [&](Real g, size_t) { return g * scale; });
    expect_gaps_untouched<T>(gradients, packed.segments);
  }
}

TYPED_TEST(ClippingTest, ClipValueClipsEachElement) {
  using T = TypeParam;
  Packed packed = standard_buffer();
  Tensor gradients = tensor_of<T>(Shape{int64_t(packed.values.size())}, packed.values);
  std::vector<Real> original = reals_of(gradients);
  const double c = 0.3;
  cpu().clip_gradients({ClipMode::kValue, c}, gradients, packed.segments);
  Real bound = static_cast<Real>(static_cast<T>(c));
  expect_segments<T>(gradients, original, packed.segments,
                     [&](Real g, size_t) { return std::clamp(g, -bound, bound); });
  expect_gaps_untouched<T>(gradients, packed.segments);
}

TEST(ClippingEdgeTest, ANonFiniteGlobalNormMakesEveryGradientNaN) {
  // Keras: "If use_norm is any finite number, this is a no-op. For inf/-inf/NaN, this will
  // make scale NaN", so an overflowed step cannot pass as a clipped one.
  for (double bad : {std::numeric_limits<double>::infinity(), std::nan("")}) {
    Packed packed = pack({3, 20}, {1, 1});
    packed.values[static_cast<size_t>(packed.segments[1].offset + 4)] = bad;
    Tensor gradients = tensor_of<float>(Shape{int64_t(packed.values.size())}, packed.values);
    cpu().clip_gradients({ClipMode::kGlobalNorm, 1.0}, gradients, packed.segments);
    for (const auto& segment : packed.segments) {
      for (int64_t i = segment.offset; i < segment.offset + segment.size; ++i) {
        EXPECT_TRUE(std::isnan(gradients.data<float>()[i])) << "element " << i;
      }
    }
    expect_gaps_untouched<float>(gradients, packed.segments);
  }
}

TEST(ClippingEdgeTest, ClipValueKeepsNaN) {
  Tensor gradients = Tensor::from_vector<float>({3}, {std::nanf(""), 5.0f, -5.0f});
  std::vector<BufferSegment> segments{{0, 3}};
  cpu().clip_gradients({ClipMode::kValue, 2.0}, gradients, segments);
  EXPECT_TRUE(std::isnan(gradients.data<float>()[0]));
  EXPECT_EQ(gradients.data<float>()[1], 2.0f);
  EXPECT_EQ(gradients.data<float>()[2], -2.0f);
}

// The sums of squares run in parallel over chunks fixed by the size alone, so one thread
// and two give the same bits, run after run.
TEST(ClippingEdgeTest, SameBitsOnAnyThreadCount) {
  Packed packed = pack({100, 70001}, {1, 2});
  for (ClipMode mode : {ClipMode::kNorm, ClipMode::kGlobalNorm, ClipMode::kValue}) {
    std::vector<Tensor> results;
    for (int threads : {1, 2, 1, 2}) {
      ThreadCountScope scope(threads);
      Tensor gradients = tensor_of<float>(Shape{int64_t(packed.values.size())}, packed.values);
      cpu().clip_gradients({mode, 3.0}, gradients, packed.segments);
      results.push_back(gradients);
    }
    for (size_t r = 1; r < results.size(); ++r) {
      EXPECT_TRUE(bitwise_equal(results[0], results[r])) << "mode " << int(mode) << " run " << r;
    }
  }
}

TEST(ClippingErrorTest, SegmentsOutsideTheBufferOrOverlappingAreShapeErrors) {
  Tensor gradients = Tensor::zeros(Shape{32});
  std::vector<BufferSegment> outside{{0, 8}, {30, 4}};
  std::vector<BufferSegment> overlapping{{0, 8}, {4, 8}};
  std::vector<BufferSegment> negative{{0, -1}};
  GradientClip clip{ClipMode::kNorm, 1.0};
  EXPECT_THROW(cpu().clip_gradients(clip, gradients, outside), ShapeError);
  EXPECT_THROW(cpu().clip_gradients(clip, gradients, overlapping), ShapeError);
  EXPECT_THROW(cpu().clip_gradients(clip, gradients, negative), ShapeError);
  std::vector<BufferSegment> whole{{0, 32}};
  EXPECT_THROW(cpu().clip_gradients({ClipMode::kValue, 0.0}, gradients, whole), ValueError);
  EXPECT_THROW(cpu().clip_gradients({ClipMode::kNorm, std::nan("")}, gradients, whole), ValueError);
}

}  // namespace
}  // namespace trainyard::backend_test
