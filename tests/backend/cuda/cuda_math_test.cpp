// The CUDA backend's matrix products, losses, metrics, optimizer updates and gradient
// clipping against the CPU backend's float64 results.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "cuda_test_util.h"

namespace trainyard::cuda_test {
namespace {

using backend::BufferSegment;
using backend::ClipMode;
using backend::GradientClip;
using backend::Loss;
using backend::LossKind;
using backend::Metric;
using backend::MetricKind;
using backend::OptimizerKind;
using backend::OptimizerStep;

constexpr double kFloat64Bound = 1e-12;

double bound_for(DType dtype, double float32_bound) {
  return dtype == DType::kFloat64 ? kFloat64Bound : float32_bound;
}

// Expects `call` to throw E whose message contains `text`.
template <typename E, typename Call>
void expect_error(Call&& call, const std::string& text) {
  try {
    call();
    ADD_FAILURE() << "expected an error containing \"" << text << "\"";
  } catch (const E& error) {
    EXPECT_NE(std::string(error.what()).find(text), std::string::npos) << error.what();
  }
}

// Restores the backend's TF32 setting when a test ends, passing or not.
class Tf32Setting {
 public:
  Tf32Setting(backend::cuda::CudaBackend& gpu, bool allow) : gpu_(gpu), saved_(gpu.allow_tf32()) {
    gpu_.set_allow_tf32(allow);
  }
  ~Tf32Setting() { gpu_.set_allow_tf32(saved_); }
  Tf32Setting(const Tf32Setting&) = delete;
  Tf32Setting& operator=(const Tf32Setting&) = delete;

 private:
  backend::cuda::CudaBackend& gpu_;
  bool saved_;
};

class CudaMathTest : public CudaTest {
 protected:
  // Class labels in [0, classes) as a host tensor of `dtype` and `shape`.
  Tensor random_labels(const Shape& shape, int64_t classes, DType dtype) {
    std::uniform_int_distribution<int64_t> pick(0, classes - 1);
    Tensor labels = Tensor::zeros(shape, dtype);
    for (int64_t i = 0; i < labels.num_elements(); ++i) {
      const int64_t label = pick(random());
      switch (dtype) {
        case DType::kInt32:
          labels.data<int32_t>()[i] = static_cast<int32_t>(label);
          break;
        case DType::kFloat32:
          labels.data<float>()[i] = static_cast<float>(label);
          break;
        default:
          labels.data<double>()[i] = static_cast<double>(label);
      }
    }
    return labels;
  }

  // Values drawn from {0, 0.5, 1}, so rows hold many equal maxima (argmax ties).
  Tensor tied_values(const Shape& shape, DType dtype) {
    std::uniform_int_distribution<int> pick(0, 2);
    Tensor host = Tensor::zeros(shape, dtype);
    for (int64_t i = 0; i < host.num_elements(); ++i) {
      const double value = 0.5 * pick(random());
      if (dtype == DType::kFloat32) {
        host.data<float>()[i] = static_cast<float>(value);
      } else {
        host.data<double>()[i] = value;
      }
    }
    return host;
  }

  // ---- matmul ---------------------------------------------------------------------------
  // The relative error of the GPU's c = alpha op(a) op(b) + beta c against the CPU's in float64.
  double matmul_error(int64_t m, int64_t n, int64_t k, bool transpose_a, bool transpose_b,
                      double alpha, double beta, DType dtype) {
    const Tensor a = random_host(transpose_a ? Shape{k, m} : Shape{m, k}, dtype);
    const Tensor b = random_host(transpose_b ? Shape{n, k} : Shape{k, n}, dtype);
    const Tensor c = random_host(Shape{m, n}, dtype);
    Tensor expected = as_float64(c);
    backend::cpu_backend().matmul(as_float64(a), transpose_a, as_float64(b), transpose_b, expected,
                                  alpha, beta);
    // With beta = 0 cuBLAS must not read c, so it starts as NaN.
    Tensor out = beta == 0.0 ? poisoned(Shape{m, n}, dtype) : on_gpu(c);
    gpu().matmul(on_gpu(a), transpose_a, on_gpu(b), transpose_b, out, alpha, beta);
    return relative_error(out, expected);
  }

  void check_matmul_sizes(DType dtype, double bound) {
    struct Size {
      int64_t m, n, k;
    };
    for (const Size size :
         {Size{1, 1, 1}, Size{33, 65, 17}, Size{257, 129, 300}, Size{1, 1100, 7}}) {
      for (int transposes = 0; transposes < 4; ++transposes) {
        const bool transpose_a = (transposes & 1) != 0, transpose_b = (transposes & 2) != 0;
        for (const auto& [alpha, beta] : {std::pair{1.0, 0.0}, std::pair{0.75, -1.25}}) {
          EXPECT_LT(
              matmul_error(size.m, size.n, size.k, transpose_a, transpose_b, alpha, beta, dtype),
              bound)
              << size.m << "x" << size.n << "x" << size.k << " transpose_a " << transpose_a
              << " transpose_b " << transpose_b << " alpha " << alpha << " beta " << beta << " "
              << dtype_name(dtype);
        }
      }
    }
  }

  // ---- losses ---------------------------------------------------------------------------
  struct LossCase {
    Loss loss;
    int64_t rows;
    int64_t columns;
    bool weighted;
    DType label_dtype = DType::kFloat32;  // sparse only
    bool column_labels = false;           // sparse only: labels [rows, 1] instead of [rows]
  };

  std::string describe(const LossCase& c, DType dtype) {
    return "loss " + std::to_string(static_cast<int>(c.loss.kind)) + " from_logits " +
           std::to_string(c.loss.from_logits) + " smoothing " +
           std::to_string(c.loss.label_smoothing) + " " + std::to_string(c.rows) + "x" +
           std::to_string(c.columns) + (c.weighted ? " weighted " : " ") +
           std::string(dtype_name(dtype));
  }

  struct LossInputs {
    Tensor y_pred, y_true, sample_weight;  // host tensors of the tested dtype (labels: any)
  };

  LossInputs loss_inputs(const LossCase& c, DType dtype) {
    const bool sparse = c.loss.kind == LossKind::kSparseCategoricalCrossentropy;
    const bool probabilities =
        !c.loss.from_logits && (c.loss.kind == LossKind::kBinaryCrossentropy ||
                                c.loss.kind == LossKind::kCategoricalCrossentropy || sparse);
    LossInputs inputs;
    inputs.y_pred = probabilities ? random_host(Shape{c.rows, c.columns}, dtype, 0.01, 0.99)
                                  : random_host(Shape{c.rows, c.columns}, dtype, -3.0, 3.0);
    if (sparse) {
      inputs.y_true = random_labels(c.column_labels ? Shape{c.rows, 1} : Shape{c.rows}, c.columns,
                                    c.label_dtype);
    } else if (c.loss.kind == LossKind::kBinaryCrossentropy ||
               c.loss.kind == LossKind::kCategoricalCrossentropy) {
      inputs.y_true = random_host(Shape{c.rows, c.columns}, dtype, 0.0, 1.0);
    } else {
      inputs.y_true = random_host(Shape{c.rows, c.columns}, dtype);
    }
    if (c.weighted) inputs.sample_weight = random_host(Shape{c.rows}, dtype, 0.1, 2.0);
    return inputs;
  }

  // The reference's labels: sparse labels as given (any dtype), targets in float64.
  static Tensor reference_truth(const LossCase& c, const Tensor& y_true) {
    return c.loss.kind == LossKind::kSparseCategoricalCrossentropy ? y_true : as_float64(y_true);
  }
  Tensor maybe_on_gpu(const Tensor& host) { return host.defined() ? on_gpu(host) : Tensor(); }
  static Tensor maybe_float64(const Tensor& host) {
    return host.defined() ? as_float64(host) : Tensor();
  }

  void check_loss(const LossCase& c, DType dtype) {
    SCOPED_TRACE(describe(c, dtype));
    // One column of probabilities normalizes to q = 1, clipped to 1 - 1e-7, whose float32
    // rounding alone is a 20% difference in -log(q): a property of float32, not of the GPU.
    if (dtype == DType::kFloat32 && c.columns == 1 && !c.loss.from_logits &&
        c.loss.kind == LossKind::kCategoricalCrossentropy) {
      return;
    }
    const LossInputs in = loss_inputs(c, dtype);
    const Tensor pred64 = as_float64(in.y_pred), weight64 = maybe_float64(in.sample_weight);
    const Tensor truth64 = reference_truth(c, in.y_true);
    const Tensor pred = on_gpu(in.y_pred), truth = on_gpu(in.y_true);
    const Tensor weight = maybe_on_gpu(in.sample_weight);

    // Forward.
    Tensor expected_value = Tensor::zeros(Shape{}, DType::kFloat64);
    backend::cpu_backend().loss_forward(c.loss, pred64, truth64, weight64, expected_value);
    Tensor value = poisoned(Shape{}, dtype);
    gpu().loss_forward(c.loss, pred, truth, weight, value);
    EXPECT_LT(relative_error(value, expected_value), bound_for(dtype, kFloat32ReductionBound))
        << "forward: got " << on_host(value).item() << ", expected " << expected_value.item();

    // Backward, overwriting and accumulating.
    const Tensor loss_grad = random_host(Shape{}, dtype, 0.5, 2.0);
    for (const bool accumulate : {false, true}) {
      const Tensor start = random_host(Shape{c.rows, c.columns}, dtype);
      Tensor expected_grad = as_float64(start);
      backend::cpu_backend().loss_backward(c.loss, pred64, truth64, weight64, as_float64(loss_grad),
                                           expected_grad, accumulate);
      Tensor grad = accumulate ? on_gpu(start) : poisoned(Shape{c.rows, c.columns}, dtype);
      gpu().loss_backward(c.loss, pred, truth, weight, on_gpu(loss_grad), grad, accumulate);
      EXPECT_LT(relative_error(grad, expected_grad), bound_for(dtype, kFloat32ReductionBound))
          << "backward, accumulate " << accumulate;
    }
  }

  std::vector<LossCase> loss_cases() {
    std::vector<LossCase> cases;
    struct Size {
      int64_t rows, columns;
    };
    const Size sizes[] = {{1, 5}, {37, 33}, {3, 1500}, {300, 1}, {70000, 3}};
    for (const Size size : sizes) {
      for (const bool weighted : {false, true}) {
        const int64_t r = size.rows, n = size.columns;
        cases.push_back({{LossKind::kMeanSquaredError}, r, n, weighted});
        cases.push_back({{LossKind::kMeanAbsoluteError}, r, n, weighted});
        for (const bool logits : {false, true}) {
          for (const double smoothing : {0.0, 0.1}) {
            cases.push_back({{LossKind::kBinaryCrossentropy, logits, smoothing}, r, n, weighted});
            cases.push_back(
                {{LossKind::kCategoricalCrossentropy, logits, smoothing}, r, n, weighted});
          }
          cases.push_back({{LossKind::kSparseCategoricalCrossentropy, logits},
                           r,
                           n,
                           weighted,
                           DType::kFloat32,
                           false});
          cases.push_back({{LossKind::kSparseCategoricalCrossentropy, logits},
                           r,
                           n,
                           weighted,
                           DType::kInt32,
                           true});
        }
      }
    }
    return cases;
  }

  // ---- optimizers -----------------------------------------------------------------------
  // Four steps of `step` on random parameters and fresh gradients, slots starting at zero as
  // Keras creates them; parameters and every slot compared with the CPU in float64.
  void check_optimizer(OptimizerStep step, DType dtype, int64_t count) {
    const Tensor parameters = random_host(Shape{count}, dtype);
    Tensor reference = as_float64(parameters);
    Tensor device = on_gpu(parameters);
    std::vector<Tensor> reference_slots, device_slots;
    for (int i = 0; i < 3; ++i) {
      reference_slots.push_back(Tensor::zeros(Shape{count}, DType::kFloat64));
      device_slots.push_back(Tensor::zeros(Shape{count}, dtype, gpu().allocator()));
    }
    for (int64_t iteration = 0; iteration < 4; ++iteration) {
      step.iteration = iteration;
      const Tensor gradients = random_host(Shape{count}, dtype);
      backend::cpu_backend().optimizer_update(step, reference, as_float64(gradients),
                                              reference_slots[0], reference_slots[1],
                                              reference_slots[2]);
      gpu().optimizer_update(step, device, on_gpu(gradients), device_slots[0], device_slots[1],
                             device_slots[2]);
    }
    const double bound = bound_for(dtype, kFloat32ReductionBound);
    EXPECT_LT(relative_error(device, reference), bound) << "parameters";
    for (int i = 0; i < 3; ++i) {
      EXPECT_LT(relative_error(device_slots[i], reference_slots[i]), bound) << "slot " << i;
    }
  }

  // ---- clipping -------------------------------------------------------------------------
  // Segments with gaps between them, an empty one, one over several chunks and one of a single
  // element; the gaps hold NaN, so reading them spoils a norm and writing them shows.
  static std::vector<BufferSegment> gapped_segments() {
    return {{0, 100}, {150, 20000}, {20160, 1}, {20200, 0}, {20300, 4000}, {24400, 3}};
  }
  static constexpr int64_t kClipBufferSize = 24500;

  static bool in_segment(const std::vector<BufferSegment>& segments, int64_t i) {
    for (const BufferSegment& s : segments) {
      if (i >= s.offset && i < s.offset + s.size) return true;
    }
    return false;
  }

  Tensor gapped_gradients(const std::vector<BufferSegment>& segments, DType dtype, double scale) {
    Tensor host = random_host(Shape{kClipBufferSize}, dtype, -scale, scale);
    for (int64_t i = 0; i < kClipBufferSize; ++i) {
      if (in_segment(segments, i)) continue;
      if (dtype == DType::kFloat32) {
        host.data<float>()[i] = std::numeric_limits<float>::quiet_NaN();
      } else {
        host.data<double>()[i] = std::numeric_limits<double>::quiet_NaN();
      }
    }
    return host;
  }

  // The elements inside the segments, as float64.
  static Tensor segment_elements(const std::vector<BufferSegment>& segments, const Tensor& all) {
    const Tensor values = as_float64(all);
    std::vector<double> inside;
    for (int64_t i = 0; i < values.num_elements(); ++i) {
      if (in_segment(segments, i)) inside.push_back(values.data<double>()[i]);
    }
    return Tensor::from_vector(Shape{static_cast<int64_t>(inside.size())}, inside);
  }

  static void expect_gaps_untouched(const std::vector<BufferSegment>& segments,
                                    const Tensor& device) {
    const Tensor values = as_float64(device);
    for (int64_t i = 0; i < values.num_elements(); ++i) {
      if (!in_segment(segments, i)) {
        ASSERT_TRUE(std::isnan(values.data<double>()[i])) << "gap element " << i << " was written";
      }
    }
  }

  void check_clip(const GradientClip& clip, DType dtype, double scale) {
    SCOPED_TRACE("clip mode " + std::to_string(static_cast<int>(clip.mode)) + " threshold " +
                 std::to_string(clip.threshold) + " " + std::string(dtype_name(dtype)));
    const std::vector<BufferSegment> segments = gapped_segments();
    const Tensor gradients = gapped_gradients(segments, dtype, scale);
    Tensor expected = as_float64(gradients);
    backend::cpu_backend().clip_gradients(clip, expected, segments);
    Tensor device = on_gpu(gradients);
    gpu().clip_gradients(clip, device, segments);
    EXPECT_LT(
        relative_error(segment_elements(segments, device), segment_elements(segments, expected)),
        bound_for(dtype, kFloat32Bound));
    expect_gaps_untouched(segments, device);
  }
};

// ---- matmul -----------------------------------------------------------------------------

TEST_F(CudaMathTest, MatmulFloat64MatchesTheCpu) {
  check_matmul_sizes(DType::kFloat64, kFloat64Bound);
}

TEST_F(CudaMathTest, MatmulFloat32WithoutTf32MatchesTheCpu) {
  Tf32Setting setting(gpu(), false);
  check_matmul_sizes(DType::kFloat32, kFloat32ReductionBound);
}

TEST_F(CudaMathTest, MatmulFloat32WithTf32MatchesTheCpu) {
  Tf32Setting setting(gpu(), true);
  check_matmul_sizes(DType::kFloat32, kTf32Bound);
}

TEST_F(CudaMathTest, MatmulOverBatchedRowsViewsLeadingDimensionsAsRows) {
  // [2, 3, 5] @ [5, 4] into [2, 3, 4]: six rows.
  const Tensor a = random_host(Shape{2, 3, 5}, DType::kFloat64);
  const Tensor b = random_host(Shape{5, 4}, DType::kFloat64);
  Tensor expected = Tensor::zeros(Shape{2, 3, 4}, DType::kFloat64);
  backend::cpu_backend().matmul(a, false, b, false, expected, 1.0, 0.0);
  Tensor out = poisoned(Shape{2, 3, 4}, DType::kFloat64);
  gpu().matmul(on_gpu(a), false, on_gpu(b), false, out, 1.0, 0.0);
  EXPECT_LT(relative_error(out, expected), kFloat64Bound);
}

TEST_F(CudaMathTest, MatmulWithAnEmptySumScalesC) {
  // a is [K, M] = [0, 5] read transposed: a [5, 0] would be a matrix of no rows.
  for (const DType dtype : {DType::kFloat32, DType::kFloat64}) {
    const Tensor c = random_host(Shape{5, 7}, dtype);
    Tensor expected = as_float64(c);
    backend::cpu_backend().matmul(Tensor::zeros(Shape{0, 5}, DType::kFloat64), true,
                                  Tensor::zeros(Shape{0, 7}, DType::kFloat64), false, expected, 1.0,
                                  0.5);
    Tensor out = on_gpu(c);
    gpu().matmul(on_gpu(Tensor::zeros(Shape{0, 5}, dtype)), true,
                 on_gpu(Tensor::zeros(Shape{0, 7}, dtype)), false, out, 1.0, 0.5);
    EXPECT_LT(relative_error(out, expected), bound_for(dtype, kFloat32Bound)) << dtype_name(dtype);
  }
}

TEST_F(CudaMathTest, MatmulRejectsMismatchedShapesAndForeignTensors) {
  const Tensor a = on_gpu(random_host(Shape{3, 4}));
  const Tensor b = on_gpu(random_host(Shape{5, 6}));
  const Tensor c = poisoned(Shape{3, 6});
  expect_error<ShapeError>([&] { gpu().matmul(a, false, b, false, c, 1.0, 0.0); },
                           "matmul: cannot multiply");
  const Tensor host_b = random_host(Shape{4, 6});
  expect_error<ValueError>([&] { gpu().matmul(a, false, host_b, false, c, 1.0, 0.0); },
                           "matmul: b is on cpu:0");
}

// ---- losses -----------------------------------------------------------------------------

TEST_F(CudaMathTest, LossesMatchTheCpuInFloat64) {
  for (const LossCase& c : loss_cases()) check_loss(c, DType::kFloat64);
}

TEST_F(CudaMathTest, LossesMatchTheCpuInFloat32) {
  for (const LossCase& c : loss_cases()) check_loss(c, DType::kFloat32);
}

TEST_F(CudaMathTest, LossOfNoRowsIsZero) {
  Tensor value = poisoned(Shape{});
  gpu().loss_forward({LossKind::kMeanSquaredError}, on_gpu(Tensor::zeros(Shape{0, 4})),
                     on_gpu(Tensor::zeros(Shape{0, 4})), Tensor(), value);
  EXPECT_EQ(on_host(value).item(), 0.0);
}

TEST_F(CudaMathTest, ABadSparseLabelIsTheCpusErrorAtTheNextWait) {
  const Loss loss{LossKind::kSparseCategoricalCrossentropy, true};
  const Tensor pred = on_gpu(random_host(Shape{9, 7}));
  Tensor labels = random_labels(Shape{9}, 7, DType::kFloat32);
  labels.data<float>()[5] = 7.0f;
  labels.data<float>()[8] = -1.0f;
  const Tensor device_labels = on_gpu(labels);
  Tensor value = poisoned(Shape{});
  // The entry only queues the check; the first bad row is raised when the host waits.
  gpu().loss_forward(loss, pred, device_labels, Tensor(), value);
  expect_error<ValueError>([&] { gpu().synchronize(); },
                           "sparse_categorical_crossentropy: label 7 at row 5 is not a class "
                           "index in [0, 7)");
  gpu().synchronize();  // raised once, then cleared
  Tensor grad = on_gpu(random_host(Shape{9, 7}));
  gpu().loss_backward(loss, pred, device_labels, Tensor(), on_gpu(random_host(Shape{})), grad,
                      true);
  expect_error<ValueError>([&] { on_host(grad); }, "label 7 at row 5");
  labels.data<float>()[5] = 2.5f;
  gpu().loss_forward(loss, pred, on_gpu(labels), Tensor(), value);
  expect_error<ValueError>([&] { gpu().synchronize(); }, "label 2.500000 at row 5");
  // Good labels after a fault: nothing is raised.
  gpu().loss_forward(loss, pred, on_gpu(random_labels(Shape{9}, 7, DType::kFloat32)), Tensor(),
                     value);
  EXPECT_NO_THROW(gpu().synchronize());
}

TEST_F(CudaMathTest, LossRejectsMismatchedShapesAndForeignTensors) {
  const Loss loss{LossKind::kMeanSquaredError};
  const Tensor pred = on_gpu(random_host(Shape{4, 3}));
  Tensor value = poisoned(Shape{});
  expect_error<ShapeError>(
      [&] {
        gpu().loss_forward(loss, pred, on_gpu(random_host(Shape{4, 2})), Tensor(), value);
      },
      "mean_squared_error: targets");
  expect_error<ValueError>(
      [&] {
        gpu().loss_forward(loss, pred, random_host(Shape{4, 3}), Tensor(), value);
      },
      "mean_squared_error: y_true is on cpu:0");
}

// ---- metrics ----------------------------------------------------------------------------

TEST_F(CudaMathTest, MetricsMatchTheCpu) {
  struct Size {
    int64_t rows, columns;
  };
  const MetricKind kinds[] = {MetricKind::kBinaryAccuracy, MetricKind::kCategoricalAccuracy,
                              MetricKind::kSparseCategoricalAccuracy, MetricKind::kMeanSquaredError,
                              MetricKind::kMeanAbsoluteError};
  for (const DType dtype : {DType::kFloat32, DType::kFloat64}) {
    for (const Size size :
         {Size{1, 5}, Size{37, 33}, Size{3, 1500}, Size{300, 1}, Size{70000, 3}}) {
      for (const MetricKind kind : kinds) {
        for (const bool ties : {false, true}) {
          SCOPED_TRACE("metric " + std::to_string(static_cast<int>(kind)) + " " +
                       std::to_string(size.rows) + "x" + std::to_string(size.columns) +
                       (ties ? " with ties " : " ") + std::string(dtype_name(dtype)));
          const Metric metric{kind, kind == MetricKind::kBinaryAccuracy && ties ? 0.5 : 0.3};
          const Shape shape{size.rows, size.columns};
          const Tensor pred = ties ? tied_values(shape, dtype) : random_host(shape, dtype, 0, 1);
          Tensor truth;
          if (kind == MetricKind::kSparseCategoricalAccuracy) {
            truth = random_labels(ties ? Shape{size.rows, 1} : Shape{size.rows}, size.columns,
                                  ties ? DType::kInt32 : DType::kFloat32);
          } else if (kind == MetricKind::kBinaryAccuracy) {
            truth = random_labels(shape, 2, dtype);
          } else {
            truth = ties ? tied_values(shape, dtype) : random_host(shape, dtype);
          }
          const Tensor start = Tensor::from_vector<double>(Shape{2}, std::vector<double>{3.5, 7.0});
          Tensor expected = start.clone();
          backend::cpu_backend().metric_update(
              metric, pred, kind == MetricKind::kSparseCategoricalAccuracy ? truth : truth,
              expected);
          Tensor state = on_gpu(start);
          gpu().metric_update(metric, on_gpu(pred), on_gpu(truth), state);
          EXPECT_LT(relative_error(state, expected), kFloat64Bound)
              << "got " << on_host(state).item(0) << ", " << on_host(state).item(1) << "; expected "
              << expected.item(0) << ", " << expected.item(1);
        }
      }
    }
  }
}

TEST_F(CudaMathTest, SparseAccuracyRejectsABadLabel) {
  Tensor labels = random_labels(Shape{6}, 4, DType::kFloat64);
  labels.data<double>()[3] = 4.0;
  Tensor state = on_gpu(Tensor::zeros(Shape{2}, DType::kFloat64));
  gpu().metric_update({MetricKind::kSparseCategoricalAccuracy},
                      on_gpu(random_host(Shape{6, 4}, DType::kFloat64)), on_gpu(labels), state);
  expect_error<ValueError>(
      [&] { gpu().synchronize(); },
      "sparse_categorical_accuracy: label 4 at row 3 is not a class index in [0, 4)");
}

TEST_F(CudaMathTest, MeanUpdateMatchesTheCpu) {
  for (const DType dtype : {DType::kFloat32, DType::kFloat64}) {
    const Tensor value = random_host(Shape{}, dtype);
    const Tensor start = Tensor::from_vector<double>(Shape{2}, std::vector<double>{1.25, 3.0});
    Tensor expected = start.clone();
    backend::cpu_backend().mean_update(value, 32.0, expected);
    Tensor state = on_gpu(start);
    gpu().mean_update(on_gpu(value), 32.0, state);
    EXPECT_LT(relative_error(state, expected), kFloat64Bound) << dtype_name(dtype);
  }
  expect_error<ValueError>(
      [&] {
        Tensor state = on_gpu(Tensor::zeros(Shape{2}, DType::kFloat64));
        gpu().mean_update(random_host(Shape{}), 1.0, state);
      },
      "mean_update: value is on cpu:0");
}

// ---- optimizers -------------------------------------------------------------------------

std::vector<std::pair<std::string, OptimizerStep>> optimizer_cases() {
  std::vector<std::pair<std::string, OptimizerStep>> cases;
  OptimizerStep sgd{OptimizerKind::kSgd};
  sgd.learning_rate = 0.1;
  cases.emplace_back("sgd", sgd);
  sgd.momentum = 0.9;
  cases.emplace_back("sgd momentum", sgd);
  sgd.nesterov = true;
  sgd.weight_decay = 0.01;
  cases.emplace_back("sgd nesterov weight decay", sgd);
  OptimizerStep adam{OptimizerKind::kAdam};
  adam.learning_rate = 0.01;
  cases.emplace_back("adam", adam);
  adam.amsgrad = true;
  cases.emplace_back("adam amsgrad", adam);
  OptimizerStep adamw = adam;
  adamw.kind = OptimizerKind::kAdamW;
  adamw.amsgrad = false;
  adamw.weight_decay = 0.004;
  cases.emplace_back("adamw", adamw);
  adamw.amsgrad = true;
  cases.emplace_back("adamw amsgrad", adamw);
  OptimizerStep rmsprop{OptimizerKind::kRmsprop};
  rmsprop.learning_rate = 0.001;
  cases.emplace_back("rmsprop", rmsprop);
  rmsprop.momentum = 0.5;
  cases.emplace_back("rmsprop momentum", rmsprop);
  rmsprop.centered = true;
  cases.emplace_back("rmsprop momentum centered", rmsprop);
  rmsprop.momentum = 0.0;
  cases.emplace_back("rmsprop centered", rmsprop);
  return cases;
}

TEST_F(CudaMathTest, OptimizersMatchTheCpuOverSeveralSteps) {
  for (const DType dtype : {DType::kFloat64, DType::kFloat32}) {
    for (const auto& [name, step] : optimizer_cases()) {
      for (const int64_t count : {int64_t{1}, int64_t{5003}, int64_t{300000}}) {
        SCOPED_TRACE(name + " " + std::to_string(count) + " " + std::string(dtype_name(dtype)));
        check_optimizer(step, dtype, count);
      }
    }
  }
}

TEST_F(CudaMathTest, OptimizerRejectsAMissingSlotAndForeignTensors) {
  const Tensor parameters = on_gpu(random_host(Shape{10}));
  const Tensor gradients = on_gpu(random_host(Shape{10}));
  expect_error<ShapeError>(
      [&] {
        gpu().optimizer_update({OptimizerKind::kAdam}, parameters, gradients, Tensor(), Tensor(),
                               Tensor());
      },
      "optimizer_update: slot 'momentum'");
  expect_error<ValueError>(
      [&] {
        gpu().optimizer_update({OptimizerKind::kSgd}, parameters, random_host(Shape{10}), Tensor(),
                               Tensor(), Tensor());
      },
      "optimizer_update: gradients is on cpu:0");
}

// ---- clipping ---------------------------------------------------------------------------

TEST_F(CudaMathTest, ClippingMatchesTheCpuAndLeavesGapsAlone) {
  for (const DType dtype : {DType::kFloat64, DType::kFloat32}) {
    check_clip({ClipMode::kNorm, 1.0}, dtype, 1.0);     // most segments clipped
    check_clip({ClipMode::kNorm, 1000.0}, dtype, 1.0);  // none clipped
    check_clip({ClipMode::kGlobalNorm, 5.0}, dtype, 1.0);
    check_clip({ClipMode::kGlobalNorm, 1e6}, dtype, 1.0);
    check_clip({ClipMode::kValue, 0.5}, dtype, 1.0);
  }
}

TEST_F(CudaMathTest, AnInfiniteGlobalNormMakesEveryGradientNan) {
  const std::vector<BufferSegment> segments = gapped_segments();
  Tensor gradients = gapped_gradients(segments, DType::kFloat32, 1.0);
  gradients.data<float>()[20160] = std::numeric_limits<float>::infinity();
  Tensor device = on_gpu(gradients);
  gpu().clip_gradients({ClipMode::kGlobalNorm, 1.0}, device, segments);
  const Tensor result = as_float64(device);
  for (int64_t i = 0; i < result.num_elements(); ++i) {
    ASSERT_TRUE(std::isnan(result.data<double>()[i])) << i;
  }
  expect_gaps_untouched(segments, device);
}

TEST_F(CudaMathTest, ClippingRejectsBadArguments) {
  Tensor device = on_gpu(random_host(Shape{100}));
  const std::vector<BufferSegment> outside = {{90, 20}};
  expect_error<ShapeError>(
      [&] {
        gpu().clip_gradients({ClipMode::kNorm, 1.0}, device, outside);
      },
      "clip_gradients: segment 0 [90, 110)");
  const std::vector<BufferSegment> inside = {{0, 100}};
  expect_error<ValueError>(
      [&] {
        gpu().clip_gradients({ClipMode::kValue, 0.0}, device, inside);
      },
      "clip_gradients: the threshold must be > 0");
  expect_error<ValueError>(
      [&] {
        gpu().clip_gradients({ClipMode::kNorm, 1.0}, random_host(Shape{100}), inside);
      },
      "clip_gradients: gradients is on cpu:0");
}

}  // namespace
}  // namespace trainyard::cuda_test
