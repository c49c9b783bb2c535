// Gradient clipping through the optimizers (keras-semantics.md section 3.1): option
// validation, each variable's place in the packed buffer, Keras's order (clip, then weight
// decay, then the update) against a float64 reference written out here, and steps that
// allocate nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "nn/optimizers/optimizers.h"
#include "support/allocation_counter.h"

namespace trainyard::nn {
namespace {

constexpr double kGap = 777.0;  // gradient elements between variables; never read

// Deterministic values in [-scale, scale), independent of the engine's generator.
std::vector<double> sample(int64_t count, uint64_t seed, double scale) {
  std::vector<double> values(static_cast<size_t>(count));
  uint64_t state = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (double& value : values) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    double unit = static_cast<double>(state >> 11) * (1.0 / 9007199254740992.0);
    value = scale * (2 * unit - 1);
  }
  return values;
}

// Variables packed as the trainer packs them: float64, each starting on a 16-element
// boundary of one parameter buffer and one gradient buffer.
struct Packed {
  Tensor parameters;
  Tensor gradients;
  std::vector<graph::VariablePtr> variables;
  std::vector<backend::BufferSegment> segments;

  // Writes `values` (one vector per variable) into the gradients, the gaps into kGap.
  void set_gradients(const std::vector<std::vector<double>>& values) const {
    double* g = gradients.data<double>();
    std::fill(g, g + gradients.num_elements(), kGap);
    for (size_t v = 0; v < segments.size(); ++v) {
      std::copy(values[v].begin(), values[v].end(), g + segments[v].offset);
    }
  }
  std::vector<double> variable_values(const Tensor& buffer, size_t v) const {
    const double* data = buffer.data<double>() + segments[v].offset;
    return {data, data + segments[v].size};
  }
};

Packed pack(const std::vector<int64_t>& sizes) {
  Packed packed;
  int64_t total = 0;
  for (int64_t size : sizes) {
    packed.segments.push_back({total, size});
    total += (size + 15) / 16 * 16;
  }
  packed.parameters = Tensor::zeros(Shape{total}, DType::kFloat64);
  packed.gradients = Tensor::zeros(Shape{total}, DType::kFloat64);
  for (size_t v = 0; v < sizes.size(); ++v) {
    auto variable = std::make_shared<graph::Variable>();
    variable->path = "layer_" + std::to_string(v) + "/kernel";
    size_t byte_offset = static_cast<size_t>(packed.segments[v].offset) * sizeof(double);
    variable->value = packed.parameters.view(byte_offset, Shape{sizes[v]}, DType::kFloat64);
    variable->gradient = packed.gradients.view(byte_offset, Shape{sizes[v]}, DType::kFloat64);
    std::vector<double> initial = sample(sizes[v], 100 + v, 1.0);
    std::copy(initial.begin(), initial.end(), variable->value.data<double>());
    packed.variables.push_back(variable);
  }
  return packed;
}

// Three variables; with per-element scales 0.01, 0.5 and 0.2 their gradient norms are about
// 0.013, 1.7 and 6.3: the first stays under the thresholds used below, the others do not.
const std::vector<int64_t> kSizes{5, 37, 3000};
std::vector<std::vector<double>> step_gradients(uint64_t step) {
  return {sample(5, 10 * step + 1, 0.01), sample(37, 10 * step + 2, 0.5),
          sample(3000, 10 * step + 3, 0.2)};
}

double norm_of(const std::vector<double>& values) {
  double sum = 0;
  for (double value : values) sum += value * value;
  return std::sqrt(sum);
}

enum class Mode { kClipnorm, kGlobalClipnorm, kClipvalue };

// Keras's _clip_gradients on a list of per-variable gradients, in float64.
std::vector<std::vector<double>> reference_clip(std::vector<std::vector<double>> gradients,
                                                Mode mode, double c) {
  if (mode == Mode::kClipnorm) {
    for (auto& g : gradients) {
      double scale = c / std::max(norm_of(g), c);
      for (double& value : g) value *= scale;
    }
  } else if (mode == Mode::kGlobalClipnorm) {
    double sum = 0;
    for (const auto& g : gradients) sum += norm_of(g) * norm_of(g);
    double scale = c / std::max(std::sqrt(sum), c);
    for (auto& g : gradients) {
      for (double& value : g) value *= scale;
    }
  } else {
    for (auto& g : gradients) {
      for (double& value : g) value = std::clamp(value, -c, c);
    }
  }
  return gradients;
}

template <typename Options>
Options with_mode(Options options, Mode mode, double c) {
  if (mode == Mode::kClipnorm) options.clipnorm = c;
  if (mode == Mode::kGlobalClipnorm) options.global_clipnorm = c;
  if (mode == Mode::kClipvalue) options.clipvalue = c;
  return options;
}

// Thresholds each mode is tested with: every one clips the second and third variables'
// gradients (elements up to 0.5 and 0.2, norms about 1.7 and 6.3) and, except the global
// norm, leaves the first one's (elements up to 0.01, norm about 0.013) as they are.
double threshold_for(Mode mode) {
  return mode == Mode::kClipvalue ? 0.15 : 1.0;
}

const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::kClipnorm:
      return "clipnorm";
    case Mode::kGlobalClipnorm:
      return "global_clipnorm";
    case Mode::kClipvalue:
      return "clipvalue";
  }
  return "";
}

void expect_near_vectors(const std::vector<double>& got, const std::vector<double>& want,
                         const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], 1e-13 * std::max(1.0, std::fabs(want[i])))
        << what << " element " << i;
  }
}

std::string error_of(const std::function<void()>& make) {
  try {
    make();
  } catch (const ValueError& error) {
    return error.what();
  }
  return "no error";
}

TEST(ClippingOptionsTest, EachOptionMustBeAFinitePositiveNumber) {
  const double kBad[] = {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()};
  for (double bad : kBad) {
    std::string message = error_of([&] { Sgd({.clipnorm = bad}); });
    EXPECT_NE(message.find("clipnorm"), std::string::npos) << message;
    message = error_of([&] { Adam({.clipvalue = bad}); });
    EXPECT_NE(message.find("clipvalue"), std::string::npos) << message;
    message = error_of([&] { Rmsprop({.global_clipnorm = bad}); });
    EXPECT_NE(message.find("global_clipnorm"), std::string::npos) << message;
  }
  Adam adam({.clipnorm = 1.5});
  EXPECT_EQ(adam.clipnorm(), 1.5);
  EXPECT_FALSE(adam.clipvalue().has_value());
  EXPECT_FALSE(adam.global_clipnorm().has_value());
  EXPECT_EQ(AdamW({.global_clipnorm = 2.0}).global_clipnorm(), 2.0);
  EXPECT_EQ(Sgd({.clipvalue = 0.5}).clipvalue(), 0.5);
  EXPECT_FALSE(Sgd().clipnorm().has_value());
}

TEST(ClippingOptionsTest, AtMostOneClippingOptionAsInKeras) {
  // Keras: "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set."
  std::string message = error_of([] { Adam({.clipnorm = 1.0, .global_clipnorm = 1.0}); });
  EXPECT_NE(message.find("only one of"), std::string::npos) << message;
  EXPECT_NE(message.find("clipnorm=1"), std::string::npos) << message;
  EXPECT_NE(message.find("global_clipnorm=1"), std::string::npos) << message;
  EXPECT_THROW(Sgd({.clipnorm = 1.0, .clipvalue = 1.0}), ValueError);
  EXPECT_THROW(Rmsprop({.clipvalue = 1.0, .global_clipnorm = 1.0}), ValueError);
  EXPECT_THROW(AdamW({.clipnorm = 1.0, .global_clipnorm = 2.0}), ValueError);
  EXPECT_THROW(make_optimizer("sgd", {.clipnorm = 1.0, .global_clipnorm = 1.0}), ValueError);
}

TEST(ClippingOptionsTest, FactoryByNamePassesClippingThrough) {
  OptimizerPtr adamw = make_optimizer("adamw", {.global_clipnorm = 3.0});
  EXPECT_EQ(adamw->name(), "adamw");
  EXPECT_EQ(adamw->global_clipnorm(), 3.0);
  EXPECT_DOUBLE_EQ(adamw->weight_decay(), 0.004);  // Keras's default is kept
  EXPECT_EQ(make_optimizer("rmsprop", {.clipvalue = 0.25})->clipvalue(), 0.25);
  EXPECT_EQ(make_optimizer("SGD", {.clipnorm = 1.0})->clipnorm(), 1.0);
  EXPECT_FALSE(make_optimizer("adam")->clipnorm().has_value());
  EXPECT_THROW(make_optimizer("adam", {.clipvalue = -1.0}), ValueError);
}

TEST(ClippingBuildTest, VariablesGiveTheirPlaceInTheBuffer) {
  auto& backend = backend::cpu_backend();
  Packed packed = pack(kSizes);
  Sgd sgd({.clipnorm = 1.0});
  sgd.build(packed.parameters, packed.variables, backend);
  EXPECT_EQ(sgd.segments(), packed.segments);
  EXPECT_EQ(sgd.segments()[1].offset, 16);  // after the first variable's padding
  // Building again for the same buffer is allowed (the trainer re-packs on a new shape).
  sgd.build(packed.parameters, packed.variables, backend);

  Sgd whole;
  whole.build(packed.parameters, backend);
  ASSERT_EQ(whole.segments().size(), 1u);
  EXPECT_EQ(whole.segments()[0], (backend::BufferSegment{0, packed.parameters.num_elements()}));
}

TEST(ClippingBuildTest, ForeignVariablesAndBadSegmentsAreValueErrors) {
  auto& backend = backend::cpu_backend();
  Packed packed = pack(kSizes);
  auto stray = std::make_shared<graph::Variable>();
  stray->path = "dense_9/bias";
  stray->value = Tensor::zeros(Shape{4}, DType::kFloat64);
  std::vector<graph::VariablePtr> variables = packed.variables;
  variables.push_back(stray);
  std::string message = error_of([&] { Sgd().build(packed.parameters, variables, backend); });
  EXPECT_NE(message.find("dense_9/bias"), std::string::npos) << message;

  using Segments = std::vector<backend::BufferSegment>;
  int64_t n = packed.parameters.num_elements();
  EXPECT_THROW(Sgd().build(packed.parameters, Segments{{0, 8}, {4, 8}}, backend), ValueError);
  EXPECT_THROW(Sgd().build(packed.parameters, Segments{{0, n + 1}}, backend), ValueError);
  EXPECT_THROW(Sgd().build(packed.parameters, Segments{{-1, 2}}, backend), ValueError);
}

// SGD without momentum moves w by -lr * g, so the parameters show exactly which gradients
// the update saw: each mode's clipped ones, with the small variable's left as they were.
TEST(ClippingStepTest, SgdUpdatesWithKerasClippedGradients) {
  auto& backend = backend::cpu_backend();
  const double lr = 0.1;
  for (Mode mode : {Mode::kClipnorm, Mode::kGlobalClipnorm, Mode::kClipvalue}) {
    SCOPED_TRACE(mode_name(mode));
    const double c = threshold_for(mode);
    Packed packed = pack(kSizes);
    Sgd sgd(with_mode(SgdOptions{.learning_rate = lr}, mode, c));
    sgd.build(packed.parameters, packed.variables, backend);
    std::vector<std::vector<double>> gradients = step_gradients(0);
    std::vector<std::vector<double>> clipped = reference_clip(gradients, mode, c);
    std::vector<std::vector<double>> before;
    for (size_t v = 0; v < kSizes.size(); ++v) {
      before.push_back(packed.variable_values(packed.parameters, v));
    }
    packed.set_gradients(gradients);

    sgd.apply(backend, packed.parameters, packed.gradients);

    for (size_t v = 0; v < kSizes.size(); ++v) {
      std::vector<double> want = before[v];
      for (size_t i = 0; i < want.size(); ++i) {
        want[i] -= static_cast<double>(static_cast<float>(lr)) * clipped[v][i];
      }
      expect_near_vectors(packed.variable_values(packed.parameters, v), want,
                          "variable " + std::to_string(v));
      // Clipping happens in place: the gradient buffer holds what the update used.
      expect_near_vectors(packed.variable_values(packed.gradients, v), clipped[v],
                          "gradient " + std::to_string(v));
    }
    if (mode == Mode::kGlobalClipnorm) {
      // All gradients shrink by one factor, to a global norm of c.
      double sum = 0;
      for (size_t v = 0; v < kSizes.size(); ++v) {
        double norm = norm_of(packed.variable_values(packed.gradients, v));
        sum += norm * norm;
      }
      EXPECT_NEAR(std::sqrt(sum), c, 1e-12);
    } else {
      // Per-variable and elementwise clipping leave the small gradient as it was...
      expect_near_vectors(packed.variable_values(packed.gradients, 0), gradients[0],
                          "small gradient");
      for (size_t v = 1; v < kSizes.size(); ++v) {
        std::vector<double> after = packed.variable_values(packed.gradients, v);
        if (mode == Mode::kClipnorm) {
          // ...and bring each of the others to norm c on its own.
          EXPECT_NEAR(norm_of(after), c, 1e-12) << "variable " << v;
        } else {
          EXPECT_EQ(*std::max_element(after.begin(), after.end()), c) << "variable " << v;
          EXPECT_EQ(*std::min_element(after.begin(), after.end()), -c) << "variable " << v;
        }
      }
    }
    // The padding between variables is neither read nor written.
    EXPECT_EQ(packed.gradients.data<double>()[5], kGap);
  }
}

// A build with no variables (the old signature) clips the whole buffer as one variable.
TEST(ClippingStepTest, OneSegmentBuildClipsTheWholeBuffer) {
  auto& backend = backend::cpu_backend();
  Tensor w = Tensor::from_vector<double>({4}, {0, 0, 0, 0});
  Tensor g = Tensor::from_vector<double>({4}, {3, 4, 0, 0});  // norm 5
  Sgd sgd({.learning_rate = 1.0, .clipnorm = 1.0});
  sgd.build(w, backend);
  sgd.apply(backend, w, g);
  EXPECT_NEAR(w.data<double>()[0], -0.6, 1e-15);
  EXPECT_NEAR(w.data<double>()[1], -0.8, 1e-15);
}

// AdamW with clipping, three steps: clip, then w -= w * wd * lr, then Adam's update on the
// clipped gradients (keras-semantics.md sections 3.1 and 3.2), all in float64.
TEST(ClippingStepTest, AdamWClipsBeforeWeightDecayAndUpdate) {
  auto& backend = backend::cpu_backend();
  const double lr = static_cast<float>(0.01), wd = 0.1, beta_1 = 0.9, beta_2 = 0.999;
  const double epsilon = 1e-7;
  for (Mode mode : {Mode::kClipnorm, Mode::kGlobalClipnorm, Mode::kClipvalue}) {
    SCOPED_TRACE(mode_name(mode));
    const double c = threshold_for(mode);
    Packed packed = pack(kSizes);
    AdamW adamw(with_mode(AdamWOptions{.learning_rate = 0.01, .weight_decay = wd}, mode, c));
    adamw.build(packed.parameters, packed.variables, backend);
    std::vector<std::vector<double>> w, m, v;
    for (size_t k = 0; k < kSizes.size(); ++k) {
      w.push_back(packed.variable_values(packed.parameters, k));
      m.emplace_back(w.back().size(), 0.0);
      v.emplace_back(w.back().size(), 0.0);
    }
    for (uint64_t step = 0; step < 3; ++step) {
      std::vector<std::vector<double>> gradients = step_gradients(step);
      packed.set_gradients(gradients);
      adamw.apply(backend, packed.parameters, packed.gradients);

      std::vector<std::vector<double>> clipped = reference_clip(gradients, mode, c);
      double t = static_cast<double>(step + 1);
      double alpha = lr * std::sqrt(1 - std::pow(beta_2, t)) / (1 - std::pow(beta_1, t));
      for (size_t k = 0; k < kSizes.size(); ++k) {
        for (size_t i = 0; i < w[k].size(); ++i) {
          w[k][i] -= w[k][i] * wd * lr;
          m[k][i] += (clipped[k][i] - m[k][i]) * (1 - beta_1);
          v[k][i] += (clipped[k][i] * clipped[k][i] - v[k][i]) * (1 - beta_2);
          w[k][i] -= alpha * m[k][i] / (std::sqrt(v[k][i]) + epsilon);
        }
        expect_near_vectors(packed.variable_values(packed.parameters, k), w[k],
                            "step " + std::to_string(step) + " variable " + std::to_string(k));
      }
    }
  }
}

// Clipping adds no allocation to a warm step, on one thread or two.
TEST(ClippingSteadyStateTest, ApplyAllocatesNothing) {
  auto& backend = backend::cpu_backend();
  int previous_threads = num_threads();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (Mode mode : {Mode::kClipnorm, Mode::kGlobalClipnorm, Mode::kClipvalue}) {
      SCOPED_TRACE(std::string(mode_name(mode)) + " on " + std::to_string(threads));
      Packed packed = pack({5, 37, 40000});
      AdamW adamw(with_mode(AdamWOptions{}, mode, 0.5));
      adamw.build(packed.parameters, packed.variables, backend);
      packed.set_gradients({sample(5, 1, 1), sample(37, 2, 1), sample(40000, 3, 1)});
      adamw.apply(backend, packed.parameters, packed.gradients);  // warm-up

      int64_t storage_before = storage_allocation_count();
      testing::AllocationWindow window;
      for (int i = 0; i < 20; ++i) adamw.apply(backend, packed.parameters, packed.gradients);
      EXPECT_EQ(window.count(), 0) << "heap allocations in 20 steps";
      EXPECT_EQ(storage_allocation_count() - storage_before, 0) << "tensor storage in 20 steps";
      EXPECT_EQ(adamw.iterations(), 21);
    }
  }
  set_num_threads(previous_threads);
}

}  // namespace
}  // namespace trainyard::nn
