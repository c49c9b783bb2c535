// A GEMM-bound training step: how close trainyard's mixed_bfloat16 MLP comes to the
// bfloat16 matrix-product rate cuBLAS reaches on the same card in the same run.
//
// The model: Input(width) -> Dense(width, relu) x3 -> Dense(width), four width x width
// Dense layers whose last gives logits over `width` classes (so every layer is one of the
// four big GEMMs), under mixed_bfloat16, trained with plain SGD on sparse categorical
// crossentropy from logits, on a batch already resident on the device. A step does three
// products per layer (forward, input gradient, kernel gradient):
//   FLOPs per step = 3 * 2 * batch * sum over layers of (in * out).
// The cuBLAS rate: cublasGemmEx M = N = K = width, bfloat16 in and out, float32 compute,
// best of three timings of 20 calls each; the model's step time likewise the best of three
// windows of S steps. cuBLAS is timed before each of the model's windows, not once up front:
// under sustained full load the GPU's clocks sag as it warms (several percent on an H200
// within a minute), and a reference taken only on the cool card would be flattered. To show where
// the rest of a step goes, the bench also times cuBLAS on the three products of one layer in the
// layouts the step uses (products_only_ms, for all four layers) and prints the step time beyond
// them (beyond_products_ms: casts, bias and activation passes, the loss, the update, launch gaps).
//
// Usage: gemm_bench [--device cuda:0|cpu] [--width W] [--batch B] [--steps S] [--warmup N]
// Defaults: width = batch = 8192, 20 steps on a GPU; width = batch = 256, 5 steps on the CPU
// (a smoke test of the same code path). Prints one line:
//   gemm_bench device=... optimizer=SGD cublas_tflops=... model_tflops=... fraction=... step_ms=...
//   window_step_ms=... products_only_ms=... beyond_products_ms=...
//   layer_products_ms=forward,input_gradient,kernel_gradient
#include <trainyard/keras.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "bench_support.h"
#include "core/bfloat16.h"
#include "core/random.h"
#include "keras/trainer.h"

#ifdef TRAINYARD_GEMM_BENCH_CUBLAS
#include <cublas_v2.h>
#include <cuda_runtime.h>
#endif

namespace k = trainyard::keras;
using trainyard::DType;
using trainyard::Shape;
using trainyard::Tensor;

namespace {

struct Arguments {
  std::string device = "cpu";
  std::optional<int64_t> width;
  std::optional<int64_t> batch;
  std::optional<int> steps;
  int warmup = 3;
};

Arguments parse(CLI::App& app, int argc, char** argv) {
  Arguments arguments;
  app.add_option("--device", arguments.device, "cuda:N, or cpu for a smoke test");
  app.add_option("--width", arguments.width, "Units of each Dense layer (default 8192; 256 on cpu)")
      ->check(trainyard::bench::at_least(1));
  app.add_option("--batch", arguments.batch, "Samples per step (default 8192; 256 on cpu)")
      ->check(trainyard::bench::at_least(1));
  app.add_option("--steps", arguments.steps, "Timed steps per window (default 20; 5 on cpu)")
      ->check(trainyard::bench::at_least(1));
  app.add_option("--warmup", arguments.warmup, "Untimed steps first")
      ->check(trainyard::bench::at_least(0));
  trainyard::bench::parse_or_exit(app, argc, argv);
  return arguments;
}

#ifdef TRAINYARD_GEMM_BENCH_CUBLAS
void check_cuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw trainyard::InternalError(std::string(what) + ": " + cudaGetErrorString(status));
  }
}
void check_cublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw trainyard::InternalError(std::string(what) + ": cuBLAS status " +
                                   std::to_string(static_cast<int>(status)));
  }
}

// Seconds per call of `gemm`: the best of three timings of 20 calls, after three warm-up
// calls.
template <typename Gemm>
double best_seconds_per_call(Gemm&& gemm) {
  for (int i = 0; i < 3; ++i) gemm();
  cudaEvent_t start = nullptr, stop = nullptr;
  check_cuda(cudaEventCreate(&start), "cudaEventCreate");
  check_cuda(cudaEventCreate(&stop), "cudaEventCreate");
  constexpr int kCalls = 20;
  double best_seconds = 1e30;
  for (int trial = 0; trial < 3; ++trial) {
    check_cuda(cudaEventRecord(start), "cudaEventRecord");
    for (int i = 0; i < kCalls; ++i) gemm();
    check_cuda(cudaEventRecord(stop), "cudaEventRecord");
    check_cuda(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float milliseconds = 0;
    check_cuda(cudaEventElapsedTime(&milliseconds, start, stop), "cudaEventElapsedTime");
    best_seconds = std::min(best_seconds, milliseconds * 1e-3 / kCalls);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return best_seconds;
}

struct CublasRates {
  double square_seconds = 1e30;  // n x n x n, bfloat16 in and out: the reference rate
  // One layer's three products as the model's step runs them (row-major, batch x width):
  // forward x @ W and input gradient dz @ W^T into bfloat16, kernel gradient x^T @ dz into
  // float32. Their sum is what a step of only GEMMs would take per layer.
  double forward_seconds = 1e30, input_gradient_seconds = 1e30, kernel_gradient_seconds = 1e30;
  double layer_products_seconds() const {
    return forward_seconds + input_gradient_seconds + kernel_gradient_seconds;
  }
};

// cuBLAS alone on one device, on random operands (zeros would flatter the clocks). measure()
// may run between the model's windows, so that both see the same clocks: a GPU held at full
// load slows down as it warms, and whichever is timed first would be flattered.
class CublasReference {
 public:
  CublasReference(int index, int64_t n, int64_t batch)
      : size_(static_cast<int>(n)), rows_(static_cast<int>(batch)) {
    check_cuda(cudaSetDevice(index), "cudaSetDevice");
    const size_t elements = static_cast<size_t>(std::max(n, batch) * n);
    std::vector<uint16_t> host(elements);
    trainyard::RandomGenerator generator(7);
    for (uint16_t& value : host) {
      value = trainyard::BFloat16::from_float(static_cast<float>(generator.uniform() - 0.5)).bits;
    }
    for (void*& buffer : buffers_) {
      check_cuda(cudaMalloc(&buffer, elements * sizeof(uint16_t)), "cudaMalloc");
      check_cuda(
          cudaMemcpy(buffer, host.data(), elements * sizeof(uint16_t), cudaMemcpyHostToDevice),
          "cudaMemcpy");
    }
    check_cuda(cudaMalloc(&float32_out_, static_cast<size_t>(n * n) * sizeof(float)), "cudaMalloc");
    check_cublas(cublasCreate(&handle_), "cublasCreate");
  }
  ~CublasReference() {
    cublasDestroy(handle_);
    for (void* buffer : buffers_) cudaFree(buffer);
    cudaFree(float32_out_);
  }
  CublasReference(const CublasReference&) = delete;
  CublasReference& operator=(const CublasReference&) = delete;

  // Times each product once more, keeping the best time of each in `best`.
  void measure(CublasRates& best) {
    const int n = size_, b = rows_;
    auto keep = [](double& slot, double seconds) { slot = std::min(slot, seconds); };
    keep(best.square_seconds, best_seconds_per_call([&] {
           gemm(CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, buffers_[2], CUDA_R_16BF);
         }));
    // x [batch, n] @ W [n, n] -> [batch, n]
    keep(best.forward_seconds, best_seconds_per_call([&] {
           gemm(CUBLAS_OP_N, CUBLAS_OP_N, b, n, n, buffers_[2], CUDA_R_16BF);
         }));
    // dz [batch, n] @ W^T -> [batch, n]
    keep(best.input_gradient_seconds, best_seconds_per_call([&] {
           gemm(CUBLAS_OP_T, CUBLAS_OP_N, b, n, n, buffers_[2], CUDA_R_16BF);
         }));
    // x^T [n, batch] @ dz [batch, n] -> float32 [n, n]
    keep(best.kernel_gradient_seconds, best_seconds_per_call([&] {
           gemm(CUBLAS_OP_N, CUBLAS_OP_T, n, n, b, float32_out_, CUDA_R_32F);
         }));
  }

 private:
  // Row-major c [m, nn] = op(a) [m, k] @ op(b) [k, nn] with a = buffers_[0], b = buffers_[1]
  // (both width wide), as src/backend/cuda/matmul.cpp calls cuBLAS on column-major views.
  void gemm(cublasOperation_t op_b, cublasOperation_t op_a, int m, int nn, int k, void* c,
            cudaDataType_t c_type) {
    const float alpha = 1.0f, beta = 0.0f;
    check_cublas(cublasGemmEx(handle_, op_b, op_a, nn, m, k, &alpha, buffers_[1], CUDA_R_16BF,
                              size_, buffers_[0], CUDA_R_16BF, size_, &beta, c, c_type, nn,
                              CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                 "cublasGemmEx");
  }

  int size_, rows_;
  void* buffers_[3] = {};
  void* float32_out_ = nullptr;
  cublasHandle_t handle_ = nullptr;
};
#endif

int run(const Arguments& arguments) {
  const trainyard::Device device(arguments.device);
  const bool gpu = !device.is_cpu();
  const int64_t width = arguments.width.value_or(gpu ? 8192 : 256);
  const int64_t batch = arguments.batch.value_or(gpu ? 8192 : 256);
  const int steps = arguments.steps.value_or(gpu ? 20 : 5);

  // Fails here, naming the device, when this build or machine has no such device.
  trainyard::backend::Backend& backend = trainyard::backend::backend_for(device);
  std::optional<CublasRates> cublas;
#ifdef TRAINYARD_GEMM_BENCH_CUBLAS
  std::optional<CublasReference> reference;
  if (gpu) {
    reference.emplace(device.index, width, batch);
    cublas.emplace();
  }
#endif

  k::utils::set_random_seed(1);
  k::mixed_precision::set_global_policy("mixed_bfloat16");
  constexpr int kLayers = 4;
  constexpr int kWindows = 3;
  auto model = k::Sequential({
      k::layers::Dense(width, {.activation = "relu"}),
      k::layers::Dense(width, {.activation = "relu"}),
      k::layers::Dense(width, {.activation = "relu"}),
      k::layers::Dense(width),
  });
  model.to(device);
  model.compile({.optimizer = k::optimizers::SGD({.learning_rate = 1e-3}),
                 .loss = k::losses::SparseCategoricalCrossentropy({.from_logits = true})});

  // Inputs and labels (float32 class indices) generated on the host once, then moved to the
  // device, where every step reads them as they are.
  Tensor x = Tensor::zeros(Shape{batch, width});
  Tensor y = Tensor::zeros(Shape{batch});
  trainyard::RandomGenerator generator(3);
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    x.data<float>()[i] = static_cast<float>(generator.uniform());
  }
  for (int64_t i = 0; i < batch; ++i) {
    y.data<float>()[i] = static_cast<float>(static_cast<int64_t>(generator.uniform() * width));
  }
  x = trainyard::backend::to_device(x, device);
  y = trainyard::backend::to_device(y, device);

  model.train_on_batch(x, y);  // builds the model, the plan and the optimizer's slots
  k::Trainer& trainer = model.trainer();
  for (int i = 0; i < arguments.warmup; ++i) trainer.train_step(x, y);
  backend.synchronize();
  // Best of three windows, as the cuBLAS rate is taken, so both sides are at their best;
  // every window's step time is printed too.
  double seconds = 1e30;
  std::string windows;
  for (int window = 0; window < kWindows; ++window) {
#ifdef TRAINYARD_GEMM_BENCH_CUBLAS
    if (reference) reference->measure(*cublas);
#endif
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) trainer.train_step(x, y);
    backend.synchronize();
    const double window_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / steps;
    seconds = std::min(seconds, window_seconds);
    char text[32];
    std::snprintf(text, sizeof text, "%s%.3f", window == 0 ? "" : ",", window_seconds * 1e3);
    windows += text;
  }

  const double flops =
      3.0 * 2.0 * static_cast<double>(batch) * kLayers * static_cast<double>(width * width);
  const double model_tflops = flops / seconds / 1e12;
  char line[512];
  if (cublas) {
    const double square_tflops =
        2.0 * std::pow(static_cast<double>(width), 3) / cublas->square_seconds / 1e12;
    const double products_ms = kLayers * cublas->layer_products_seconds() * 1e3;
    std::snprintf(line, sizeof line,
                  "gemm_bench device=%s optimizer=SGD width=%lld batch=%lld steps=%d "
                  "cublas_tflops=%.1f model_tflops=%.1f fraction=%.3f step_ms=%.3f "
                  "window_step_ms=%s products_only_ms=%.3f beyond_products_ms=%.3f "
                  "layer_products_ms=%.3f,%.3f,%.3f",
                  arguments.device.c_str(), static_cast<long long>(width),
                  static_cast<long long>(batch), steps, square_tflops, model_tflops,
                  model_tflops / square_tflops, seconds * 1e3, windows.c_str(), products_ms,
                  seconds * 1e3 - products_ms, cublas->forward_seconds * 1e3,
                  cublas->input_gradient_seconds * 1e3, cublas->kernel_gradient_seconds * 1e3);
  } else {
    std::snprintf(line, sizeof line,
                  "gemm_bench device=%s optimizer=SGD width=%lld batch=%lld steps=%d "
                  "cublas_tflops=none model_tflops=%.4f fraction=none step_ms=%.3f "
                  "window_step_ms=%s",
                  arguments.device.c_str(), static_cast<long long>(width),
                  static_cast<long long>(batch), steps, model_tflops, seconds * 1e3,
                  windows.c_str());
  }
  std::cout << line << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("The mixed_bfloat16 GEMM-bound MLP against cuBLAS's bfloat16 GEMM rate",
               "gemm_bench");
  const Arguments arguments = parse(app, argc, argv);
  return trainyard::bench::run_reporting_errors(app, [&] { return run(arguments); });
}
