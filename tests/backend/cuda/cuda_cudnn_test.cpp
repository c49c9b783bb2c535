// The CUDA backend's convolutions (cuDNN), pooling and normalization against the CPU backend
// computing in float64: odd channel counts, asymmetric and left-only padding, dilation, 1x1
// kernels, TF32 on and off, overwrite and accumulate, and the errors each entry reports.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "backend/window.h"
#include "core/error.h"
#include "cuda_test_util.h"

namespace trainyard::cuda_test {
namespace {

using backend::Activation;
using backend::ActivationKind;
using backend::make_window2d;
using backend::NormGradients;
using backend::Padding;
using backend::PoolKind;
using backend::Window2d;
using backend::WindowOptions;

backend::Backend& cpu() {
  return backend::cpu_backend();
}

Tensor host64(const Shape& shape) {
  return Tensor::zeros(shape, DType::kFloat64);
}

// Sets the backend's TF32 switch for one scope and restores it after.
class Tf32Scope {
 public:
  Tf32Scope(backend::cuda::CudaBackend& gpu, bool allow) : gpu_(gpu), saved_(gpu.allow_tf32()) {
    gpu_.set_allow_tf32(allow);
  }
  ~Tf32Scope() { gpu_.set_allow_tf32(saved_); }
  Tf32Scope(const Tf32Scope&) = delete;
  Tf32Scope& operator=(const Tf32Scope&) = delete;

 private:
  backend::cuda::CudaBackend& gpu_;
  bool saved_;
};

// Runs `call` and expects a ValueError whose message contains `text`.
template <typename Call>
void expect_value_error(Call&& call, const std::string& text) {
  try {
    call();
    ADD_FAILURE() << "expected a ValueError containing \"" << text << "\"";
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what()).find(text), std::string::npos) << error.what();
  }
}

// ---- convolution ------------------------------------------------------------------------

struct ConvCase {
  std::string name;
  Window2d window;
  int64_t filters;
};

ConvCase conv_case(const std::string& name, std::vector<int64_t> input, int64_t filters,
                   WindowOptions options) {
  return {name, make_window2d(name, input[0], input[1], input[2], input[3], options), filters};
}

WindowOptions options(int64_t kh, int64_t kw, int64_t stride, int64_t dilation, Padding padding) {
  WindowOptions o;
  o.window_height = kh;
  o.window_width = kw;
  o.stride_height = o.stride_width = stride;
  o.dilation_height = o.dilation_width = dilation;
  o.padding = padding;
  return o;
}

std::vector<ConvCase> conv_cases() {
  std::vector<ConvCase> cases = {
      conv_case("3x3 same", {2, 9, 11, 3}, 5, options(3, 3, 1, 1, Padding::kSame)),
      // H = 10: padding 0 above, 1 below; W = 9: 1 and 1.
      conv_case("3x3 stride 2 same", {3, 10, 9, 7}, 10, options(3, 3, 2, 1, Padding::kSame)),
      conv_case("3x3 dilation 2 same", {2, 12, 10, 5}, 6, options(3, 3, 1, 2, Padding::kSame)),
      conv_case("2x3 dilation 2 valid", {1, 11, 13, 4}, 9, options(2, 3, 1, 2, Padding::kValid)),
      conv_case("1x1", {4, 6, 7, 13}, 17, options(1, 1, 1, 1, Padding::kValid)),
      conv_case("1x1 stride 2", {2, 7, 8, 6}, 3, options(1, 1, 2, 1, Padding::kValid)),
      // An even kernel: the one padded row and column go bottom and right.
      conv_case("2x2 same", {2, 7, 6, 3}, 4, options(2, 2, 1, 1, Padding::kSame)),
      conv_case("5x5 stride 2 valid", {2, 17, 15, 9}, 11, options(5, 5, 2, 1, Padding::kValid)),
      conv_case("conv1d causal dilation 2", {3, 1, 20, 5}, 7,
                options(1, 3, 1, 2, Padding::kCausal)),
  };
  // Left-only and top-only padding built directly, as no Keras padding mode gives them in 2-D.
  ConvCase left =
      conv_case("3x3 left padding 2", {2, 6, 8, 5}, 3, options(3, 3, 1, 1, Padding::kValid));
  left.window.pad_left = 2;
  left.window.out_width = left.window.in_width;
  cases.push_back(left);
  ConvCase top = conv_case("3x2 top padding 1, stride 2", {2, 9, 7, 3}, 6,
                           options(3, 2, 2, 1, Padding::kValid));
  top.window.pad_top = 1;
  top.window.out_height = (top.window.in_height + 1 - 3) / 2 + 1;
  cases.push_back(top);
  return cases;
}

class CudaConvTest : public CudaTest {
 protected:
  struct Inputs {
    Tensor x, kernel, y_grad;
  };
  Inputs inputs(const ConvCase& c) {
    const Window2d& w = c.window;
    return {random_host(Shape{w.batch, w.in_height, w.in_width, w.channels}),
            random_host(Shape{w.window_height, w.window_width, w.channels, c.filters}),
            random_host(Shape{w.batch, w.out_height, w.out_width, c.filters})};
  }

  // All four entries of one case against the CPU, at `bound`.
  void check_case(const ConvCase& c, double bound) {
    SCOPED_TRACE(c.name);
    const Window2d& w = c.window;
    const Inputs in = inputs(c);
    const Shape y_shape{w.batch, w.out_height, w.out_width, c.filters};

    Tensor y = poisoned(y_shape);
    gpu().conv2d_forward(w, on_gpu(in.x), on_gpu(in.kernel), y);
    Tensor y_ref = host64(y_shape);
    cpu().conv2d_forward(w, as_float64(in.x), as_float64(in.kernel), y_ref);
    EXPECT_LT(relative_error(y, y_ref), bound) << "forward";

    for (bool accumulate : {false, true}) {
      SCOPED_TRACE(accumulate ? "accumulate" : "overwrite");
      Tensor x_start = random_host(in.x.shape());
      Tensor x_grad = accumulate ? on_gpu(x_start) : poisoned(in.x.shape());
      gpu().conv2d_backward_input(w, on_gpu(in.y_grad), on_gpu(in.kernel), x_grad, accumulate);
      Tensor x_grad_ref = as_float64(x_start);
      cpu().conv2d_backward_input(w, as_float64(in.y_grad), as_float64(in.kernel), x_grad_ref,
                                  accumulate);
      EXPECT_LT(relative_error(x_grad, x_grad_ref), bound) << "backward input";

      Tensor k_start = random_host(in.kernel.shape());
      Tensor k_grad = accumulate ? on_gpu(k_start) : poisoned(in.kernel.shape());
      gpu().conv2d_backward_kernel(w, on_gpu(in.x), on_gpu(in.y_grad), k_grad, accumulate);
      Tensor k_grad_ref = as_float64(k_start);
      cpu().conv2d_backward_kernel(w, as_float64(in.x), as_float64(in.y_grad), k_grad_ref,
                                   accumulate);
      EXPECT_LT(relative_error(k_grad, k_grad_ref), bound) << "backward kernel";
    }
  }

  void check_bias_activation(const ConvCase& c, const Activation& activation, bool with_bias,
                             double bound) {
    SCOPED_TRACE(c.name + " " + std::string(backend::activation_name(activation.kind)) +
                 (with_bias ? " with bias" : " without bias"));
    const Window2d& w = c.window;
    const Inputs in = inputs(c);
    const Shape y_shape{w.batch, w.out_height, w.out_width, c.filters};
    Tensor bias = with_bias ? random_host(Shape{c.filters}) : Tensor();
    Tensor y = poisoned(y_shape);
    gpu().conv2d_bias_activation_forward(w, activation, on_gpu(in.x), on_gpu(in.kernel),
                                         with_bias ? on_gpu(bias) : Tensor(), y);
    Tensor y_ref = host64(y_shape);
    cpu().conv2d_bias_activation_forward(w, activation, as_float64(in.x), as_float64(in.kernel),
                                         with_bias ? as_float64(bias) : Tensor(), y_ref);
    EXPECT_LT(relative_error(y, y_ref), bound);
  }
};

TEST_F(CudaConvTest, MatchesTheCpuInFloat32) {
  Tf32Scope scope(gpu(), false);
  for (const ConvCase& c : conv_cases()) check_case(c, kFloat32ReductionBound);
}

TEST_F(CudaConvTest, MatchesTheCpuWithTf32) {
  Tf32Scope scope(gpu(), true);
  for (const ConvCase& c : conv_cases()) check_case(c, kTf32Bound);
}

TEST_F(CudaConvTest, RepeatedCallsReuseTheChosenAlgorithm) {
  // The second call of a shape takes the cached choice; results must not change.
  Tf32Scope scope(gpu(), false);
  const ConvCase c = conv_cases()[1];
  const Inputs in = inputs(c);
  const Shape y_shape{c.window.batch, c.window.out_height, c.window.out_width, c.filters};
  Tensor first = poisoned(y_shape), second = poisoned(y_shape);
  gpu().conv2d_forward(c.window, on_gpu(in.x), on_gpu(in.kernel), first);
  gpu().conv2d_forward(c.window, on_gpu(in.x), on_gpu(in.kernel), second);
  EXPECT_EQ(relative_error(second, first), 0.0);
}

TEST_F(CudaConvTest, BiasAndEveryActivationMatchTheCpu) {
  Tf32Scope scope(gpu(), false);
  const std::vector<ConvCase> cases = conv_cases();
  const std::vector<Activation> activations = {
      {ActivationKind::kLinear, 0.0},    {ActivationKind::kRelu, 0.0},
      {ActivationKind::kSigmoid, 0.0},   {ActivationKind::kTanh, 0.0},
      {ActivationKind::kGelu, 0.0},      {ActivationKind::kSilu, 0.0},
      {ActivationKind::kLeakyRelu, 0.3}, {ActivationKind::kElu, 1.0},
      {ActivationKind::kSoftplus, 0.0}};
  for (const Activation& activation : activations) {
    check_bias_activation(cases[1], activation, true, kFloat32ReductionBound);
  }
  check_bias_activation(cases[0], {ActivationKind::kRelu, 0.0}, false, kFloat32ReductionBound);
  check_bias_activation(cases[4], {ActivationKind::kLinear, 0.0}, false, kFloat32ReductionBound);
  check_bias_activation(cases[9], {ActivationKind::kElu, 0.5}, true, kFloat32ReductionBound);
}

TEST_F(CudaConvTest, SoftmaxAndFloat64AreValueErrorsNamingTheEntry) {
  const ConvCase c = conv_cases()[0];
  const Inputs in = inputs(c);
  const Shape y_shape{c.window.batch, c.window.out_height, c.window.out_width, c.filters};
  expect_value_error(
      [&] {
        gpu().conv2d_bias_activation_forward(c.window, {ActivationKind::kSoftmax, 0.0},
                                             on_gpu(in.x), on_gpu(in.kernel), Tensor(),
                                             poisoned(y_shape));
      },
      "conv2d_bias_activation_forward");
  Tensor x64 = on_gpu(as_float64(in.x)), k64 = on_gpu(as_float64(in.kernel));
  expect_value_error(
      [&] { gpu().conv2d_forward(c.window, x64, k64, poisoned(y_shape, DType::kFloat64)); },
      "conv2d_forward");
  expect_value_error(
      [&] {
        gpu().conv2d_backward_input(c.window, on_gpu(as_float64(in.y_grad)), k64,
                                    poisoned(in.x.shape(), DType::kFloat64), false);
      },
      "conv2d_backward_input");
  expect_value_error(
      [&] {
        gpu().conv2d_backward_kernel(c.window, x64, on_gpu(as_float64(in.y_grad)),
                                     poisoned(in.kernel.shape(), DType::kFloat64), false);
      },
      "conv2d_backward_kernel");
}

TEST_F(CudaConvTest, ATensorOnTheWrongDeviceIsNamed) {
  const ConvCase c = conv_cases()[0];
  const Inputs in = inputs(c);
  const Shape y_shape{c.window.batch, c.window.out_height, c.window.out_width, c.filters};
  expect_value_error(
      [&] { gpu().conv2d_forward(c.window, in.x, on_gpu(in.kernel), poisoned(y_shape)); },
      "conv2d_forward: x is on cpu:0");
  expect_value_error(
      [&] {
        gpu().conv2d_backward_kernel(c.window, on_gpu(in.x), on_gpu(in.y_grad), in.kernel, false);
      },
      "conv2d_backward_kernel: kernel_grad is on cpu:0");
}

// ---- pooling ----------------------------------------------------------------------------

struct PoolCase {
  std::string name;
  Window2d window;
};

PoolCase pool_case(const std::string& name, std::vector<int64_t> input, int64_t kh, int64_t kw,
                   int64_t stride_h, int64_t stride_w, Padding padding) {
  WindowOptions o;
  o.window_height = kh;
  o.window_width = kw;
  o.stride_height = stride_h;
  o.stride_width = stride_w;
  o.padding = padding;
  return {name, make_window2d(name, input[0], input[1], input[2], input[3], o)};
}

std::vector<PoolCase> pool_cases() {
  return {
      pool_case("2x2 stride 2 valid", {2, 8, 10, 5}, 2, 2, 2, 2, Padding::kValid),
      pool_case("2x2 stride 2 valid, odd input", {3, 9, 7, 3}, 2, 2, 2, 2, Padding::kValid),
      pool_case("3x3 stride 2 same (pad below and right)", {2, 10, 8, 7}, 3, 3, 2, 2,
                Padding::kSame),
      pool_case("3x3 stride 1 same (overlapping)", {2, 7, 9, 33}, 3, 3, 1, 1, Padding::kSame),
      pool_case("2x2 stride 1 valid (overlapping)", {1, 6, 6, 300}, 2, 2, 1, 1, Padding::kValid),
      pool_case("2x2 stride 3 valid (gaps)", {2, 11, 10, 4}, 2, 2, 3, 3, Padding::kValid),
      pool_case("1x4 stride 2 same (1-D)", {3, 1, 17, 6}, 1, 4, 1, 2, Padding::kSame),
      pool_case("2x2 same stride 1 (pad below and right only)", {2, 5, 6, 2}, 2, 2, 1, 1,
                Padding::kSame),
  };
}

class CudaPoolTest : public CudaTest {
 protected:
  // Values from {-1, -0.5, 0, 0.5, 1}: windows hold ties, so the first-maximum routing shows.
  Tensor tied_host(const Shape& shape, DType dtype) {
    Tensor host = random_host(shape, dtype, -1.0, 1.0);
    Tensor rounded = as_float64(host);
    for (int64_t i = 0; i < rounded.num_elements(); ++i) {
      double& v = rounded.data<double>()[i];
      v = std::round(v * 2.0) / 2.0;
    }
    return dtype == DType::kFloat64 ? rounded : rounded.cast(dtype);
  }

  void check_case(const PoolCase& c, PoolKind kind, DType dtype, bool ties) {
    SCOPED_TRACE(c.name + (kind == PoolKind::kMax ? " max" : " average") +
                 (dtype == DType::kFloat64 ? " float64" : " float32") + (ties ? " ties" : ""));
    const Window2d& w = c.window;
    const Shape x_shape{w.batch, w.in_height, w.in_width, w.channels};
    const Shape y_shape{w.batch, w.out_height, w.out_width, w.channels};
    const double bound = dtype == DType::kFloat64 ? 1e-12 : kFloat32Bound;
    Tensor x = ties ? tied_host(x_shape, dtype) : random_host(x_shape, dtype);
    Tensor y = poisoned(y_shape, dtype);
    gpu().pool2d_forward(kind, w, on_gpu(x), y);
    Tensor y_ref = host64(y_shape);
    cpu().pool2d_forward(kind, w, as_float64(x), y_ref);
    EXPECT_LT(relative_error(y, y_ref), bound) << "forward";

    Tensor y_grad = random_host(y_shape, dtype);
    for (bool accumulate : {false, true}) {
      SCOPED_TRACE(accumulate ? "accumulate" : "overwrite");
      Tensor start = random_host(x_shape, dtype);
      Tensor x_grad = accumulate ? on_gpu(start) : poisoned(x_shape, dtype);
      // The GPU's own forward output decides the routing, as in training.
      gpu().pool2d_backward(kind, w, on_gpu(x), y, on_gpu(y_grad), x_grad, accumulate);
      Tensor x_grad_ref = as_float64(start);
      cpu().pool2d_backward(kind, w, as_float64(x), y_ref, as_float64(y_grad), x_grad_ref,
                            accumulate);
      EXPECT_LT(relative_error(x_grad, x_grad_ref), bound) << "backward";
    }
  }
};

TEST_F(CudaPoolTest, MaxAndAverageMatchTheCpu) {
  for (const PoolCase& c : pool_cases()) {
    for (PoolKind kind : {PoolKind::kMax, PoolKind::kAverage}) {
      for (DType dtype : {DType::kFloat32, DType::kFloat64}) check_case(c, kind, dtype, false);
    }
  }
}

TEST_F(CudaPoolTest, MaxRoutesToTheFirstMaximumOfTies) {
  for (const PoolCase& c : pool_cases()) {
    for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
      check_case(c, PoolKind::kMax, dtype, true);
    }
  }
}

TEST_F(CudaPoolTest, ATensorOnTheWrongDeviceIsNamed) {
  const PoolCase c = pool_cases()[0];
  const Window2d& w = c.window;
  Tensor x = random_host(Shape{w.batch, w.in_height, w.in_width, w.channels});
  expect_value_error(
      [&] {
        gpu().pool2d_forward(PoolKind::kMax, w, x,
                             poisoned(Shape{w.batch, w.out_height, w.out_width, w.channels}));
      },
      "pool2d_forward: x is on cpu:0");
}

// ---- normalization ----------------------------------------------------------------------

// Shapes [rows..., C]: a single row, odd sizes, more columns than a block has threads, many
// rows (several row chunks per column tile), and a rank-3 tensor.
std::vector<Shape> norm_shapes() {
  return {Shape{1, 7}, Shape{37, 129}, Shape{5, 1100}, Shape{3000, 19}, Shape{2, 3, 65}};
}

class CudaNormTest : public CudaTest {
 protected:
  double bound(DType dtype) const {
    return dtype == DType::kFloat64 ? 1e-12 : kFloat32ReductionBound;
  }
  // The gpu tensor of `host`, or undefined.
  Tensor maybe_gpu(const Tensor& host) { return host.defined() ? on_gpu(host) : Tensor(); }
  Tensor maybe64(const Tensor& host) { return host.defined() ? as_float64(host) : Tensor(); }

  // Gradients to compute: which are wanted and whether each accumulates.
  struct Wanted {
    bool x, gamma, beta, accumulate;
  };

  struct GradTensors {
    Tensor x, gamma, beta;              // on the GPU
    Tensor x_ref, gamma_ref, beta_ref;  // float64 host
  };

  GradTensors grad_tensors(const Shape& shape, int64_t columns, DType dtype, const Wanted& want) {
    GradTensors g;
    auto make = [&](bool needed, const Shape& s, Tensor& device, Tensor& reference) {
      if (!needed) return;
      Tensor start = random_host(s, dtype);
      device = want.accumulate ? on_gpu(start) : poisoned(s, dtype);
      reference = as_float64(start);
    };
    make(want.x, shape, g.x, g.x_ref);
    make(want.gamma, Shape{columns}, g.gamma, g.gamma_ref);
    make(want.beta, Shape{columns}, g.beta, g.beta_ref);
    return g;
  }

  static NormGradients pointers(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                bool accumulate) {
    NormGradients grads;
    grads.x_grad = &x;
    grads.gamma_grad = &gamma;
    grads.beta_grad = &beta;
    grads.accumulate_x = grads.accumulate_gamma = grads.accumulate_beta = accumulate;
    return grads;
  }

  void compare(const GradTensors& g, DType dtype) {
    if (g.x.defined()) {
      EXPECT_LT(relative_error(g.x, g.x_ref), bound(dtype)) << "x gradient";
    }
    if (g.gamma.defined()) {
      EXPECT_LT(relative_error(g.gamma, g.gamma_ref), bound(dtype)) << "gamma gradient";
    }
    if (g.beta.defined()) {
      EXPECT_LT(relative_error(g.beta, g.beta_ref), bound(dtype)) << "beta gradient";
    }
  }

  static std::vector<Wanted> wanted_sets() {
    return {{true, true, true, false},
            {true, true, true, true},
            {true, false, false, false},
            {false, true, false, true},
            {false, false, true, false}};
  }
};

TEST_F(CudaNormTest, BatchNormTrainingMatchesTheCpu) {
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    for (const Shape& shape : norm_shapes()) {
      for (bool affine : {true, false}) {
        SCOPED_TRACE(shape.to_string() + (dtype == DType::kFloat64 ? " float64" : " float32") +
                     (affine ? " gamma, beta" : " no gamma, beta"));
        const int64_t columns = shape[-1];
        // Off-centre inputs: a one-pass variance would lose digits.
        Tensor x = random_host(shape, dtype, 2.0, 4.0);
        Tensor gamma = affine ? random_host(Shape{columns}, dtype, 0.5, 1.5) : Tensor();
        Tensor beta = affine ? random_host(Shape{columns}, dtype) : Tensor();
        Tensor moving_mean = random_host(Shape{columns}, dtype);
        Tensor moving_var = random_host(Shape{columns}, dtype, 0.5, 2.0);
        Tensor mm = on_gpu(moving_mean), mv = on_gpu(moving_var), y = poisoned(shape, dtype);
        gpu().batch_norm_training_forward(on_gpu(x), maybe_gpu(gamma), maybe_gpu(beta), 1e-3, 0.99,
                                          mm, mv, y);
        Tensor mm_ref = as_float64(moving_mean), mv_ref = as_float64(moving_var);
        Tensor y_ref = host64(shape);
        cpu().batch_norm_training_forward(as_float64(x), maybe64(gamma), maybe64(beta), 1e-3, 0.99,
                                          mm_ref, mv_ref, y_ref);
        EXPECT_LT(relative_error(y, y_ref), bound(dtype)) << "y";
        EXPECT_LT(relative_error(mm, mm_ref), bound(dtype)) << "moving mean";
        EXPECT_LT(relative_error(mv, mv_ref), bound(dtype)) << "moving variance";

        Tensor y_grad = random_host(shape, dtype);
        for (const Wanted& want : wanted_sets()) {
          GradTensors g = grad_tensors(shape, columns, dtype, want);
          gpu().batch_norm_training_backward(on_gpu(x), maybe_gpu(gamma), 1e-3, on_gpu(y_grad),
                                             pointers(g.x, g.gamma, g.beta, want.accumulate));
          cpu().batch_norm_training_backward(
              as_float64(x), maybe64(gamma), 1e-3, as_float64(y_grad),
              pointers(g.x_ref, g.gamma_ref, g.beta_ref, want.accumulate));
          compare(g, dtype);
        }
      }
    }
  }
}

TEST_F(CudaNormTest, BatchNormInferenceMatchesTheCpu) {
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    for (const Shape& shape : norm_shapes()) {
      for (bool affine : {true, false}) {
        SCOPED_TRACE(shape.to_string() + (dtype == DType::kFloat64 ? " float64" : " float32") +
                     (affine ? " gamma, beta" : " no gamma, beta"));
        const int64_t columns = shape[-1];
        Tensor x = random_host(shape, dtype);
        Tensor gamma = affine ? random_host(Shape{columns}, dtype, 0.5, 1.5) : Tensor();
        Tensor beta = affine ? random_host(Shape{columns}, dtype) : Tensor();
        Tensor mean = random_host(Shape{columns}, dtype);
        Tensor variance = random_host(Shape{columns}, dtype, 0.5, 2.0);
        Tensor y = poisoned(shape, dtype);
        gpu().batch_norm_inference_forward(on_gpu(x), maybe_gpu(gamma), maybe_gpu(beta),
                                           on_gpu(mean), on_gpu(variance), 1e-3, y);
        Tensor y_ref = host64(shape);
        cpu().batch_norm_inference_forward(as_float64(x), maybe64(gamma), maybe64(beta),
                                           as_float64(mean), as_float64(variance), 1e-3, y_ref);
        EXPECT_LT(relative_error(y, y_ref), bound(dtype)) << "y";

        Tensor y_grad = random_host(shape, dtype);
        for (const Wanted& want : wanted_sets()) {
          GradTensors g = grad_tensors(shape, columns, dtype, want);
          gpu().batch_norm_inference_backward(on_gpu(x), maybe_gpu(gamma), on_gpu(mean),
                                              on_gpu(variance), 1e-3, on_gpu(y_grad),
                                              pointers(g.x, g.gamma, g.beta, want.accumulate));
          cpu().batch_norm_inference_backward(
              as_float64(x), maybe64(gamma), as_float64(mean), as_float64(variance), 1e-3,
              as_float64(y_grad), pointers(g.x_ref, g.gamma_ref, g.beta_ref, want.accumulate));
          compare(g, dtype);
        }
      }
    }
  }
}

TEST_F(CudaNormTest, LayerNormMatchesTheCpu) {
  std::vector<Shape> shapes = norm_shapes();
  shapes.push_back(Shape{3, 4097});  // a row of many block-widths
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    for (const Shape& shape : shapes) {
      for (bool affine : {true, false}) {
        SCOPED_TRACE(shape.to_string() + (dtype == DType::kFloat64 ? " float64" : " float32") +
                     (affine ? " gamma, beta" : " no gamma, beta"));
        const int64_t columns = shape[-1];
        Tensor x = random_host(shape, dtype, -2.0, 3.0);
        Tensor gamma = affine ? random_host(Shape{columns}, dtype, 0.5, 1.5) : Tensor();
        Tensor beta = affine ? random_host(Shape{columns}, dtype) : Tensor();
        Tensor y = poisoned(shape, dtype);
        gpu().layer_norm_forward(on_gpu(x), maybe_gpu(gamma), maybe_gpu(beta), 1e-3, y);
        Tensor y_ref = host64(shape);
        cpu().layer_norm_forward(as_float64(x), maybe64(gamma), maybe64(beta), 1e-3, y_ref);
        EXPECT_LT(relative_error(y, y_ref), bound(dtype)) << "y";

        Tensor y_grad = random_host(shape, dtype);
        for (const Wanted& want : wanted_sets()) {
          GradTensors g = grad_tensors(shape, columns, dtype, want);
          gpu().layer_norm_backward(on_gpu(x), maybe_gpu(gamma), 1e-3, on_gpu(y_grad),
                                    pointers(g.x, g.gamma, g.beta, want.accumulate));
          cpu().layer_norm_backward(as_float64(x), maybe64(gamma), 1e-3, as_float64(y_grad),
                                    pointers(g.x_ref, g.gamma_ref, g.beta_ref, want.accumulate));
          compare(g, dtype);
        }
      }
    }
  }
}

TEST_F(CudaNormTest, NullGradientPointersAreNotNeeded) {
  const Shape shape{9, 10};
  Tensor x = random_host(shape), y_grad = random_host(shape);
  Tensor layer_grad = poisoned(shape), batch_grad = poisoned(shape);
  Tensor layer_ref = host64(shape), batch_ref = host64(shape);
  // Only x_grad is set: gamma_grad and beta_grad stay null.
  auto only_x = [](const Tensor& x_grad) {
    NormGradients grads;
    grads.x_grad = &x_grad;
    return grads;
  };
  gpu().layer_norm_backward(on_gpu(x), Tensor(), 1e-3, on_gpu(y_grad), only_x(layer_grad));
  gpu().batch_norm_training_backward(on_gpu(x), Tensor(), 1e-3, on_gpu(y_grad), only_x(batch_grad));
  cpu().layer_norm_backward(as_float64(x), Tensor(), 1e-3, as_float64(y_grad), only_x(layer_ref));
  cpu().batch_norm_training_backward(as_float64(x), Tensor(), 1e-3, as_float64(y_grad),
                                     only_x(batch_ref));
  EXPECT_LT(relative_error(layer_grad, layer_ref), kFloat32ReductionBound);
  EXPECT_LT(relative_error(batch_grad, batch_ref), kFloat32ReductionBound);
}

TEST_F(CudaNormTest, ATensorOnTheWrongDeviceIsNamed) {
  const Shape shape{4, 6};
  Tensor x = random_host(shape);
  expect_value_error(
      [&] { gpu().layer_norm_forward(x, Tensor(), Tensor(), 1e-3, poisoned(shape)); },
      "layer_norm_forward: x is on cpu:0");
  Tensor stats = random_host(Shape{6}, DType::kFloat32, 0.5, 1.0);
  expect_value_error(
      [&] {
        gpu().batch_norm_training_forward(on_gpu(x), Tensor(), Tensor(), 1e-3, 0.9, stats,
                                          on_gpu(stats), poisoned(shape));
      },
      "batch_norm_training_forward: moving_mean is on cpu:0");
}

}  // namespace
}  // namespace trainyard::cuda_test
