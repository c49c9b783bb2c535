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
// windows of S steps.
//
// Usage: gemm_bench [--device cuda:0|cpu] [--width W] [--batch B] [--steps S] [--warmup N]
// Defaults: width = batch = 8192, 20 steps on a GPU; width = batch = 256, 5 steps on the CPU
// (a smoke test of the same code path). Prints one line:
//   gemm_bench device=... optimizer=SGD cublas_tflops=... model_tflops=... fraction=... step_ms=...
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

[[noreturn]] void usage(const std::string& message) {
  std::cerr << "gemm_bench: " << message
            << "\nusage: gemm_bench [--device cuda:0|cpu] [--width W] [--batch B] [--steps S]"
               " [--warmup N]\n";
  std::exit(2);
}

Arguments parse(int argc, char** argv) {
  Arguments arguments;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--device")
      arguments.device = value();
    else if (flag == "--width")
      arguments.width = std::stoll(value());
    else if (flag == "--batch")
      arguments.batch = std::stoll(value());
    else if (flag == "--steps")
      arguments.steps = std::stoi(value());
    else if (flag == "--warmup")
      arguments.warmup = std::stoi(value());
    else
      usage("unknown option " + flag);
  }
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

// The cuBLAS bfloat16 GEMM rate on device `index` for n x n x n products, in TFLOP/s: the
// best of three timings of 20 calls, on random operands (zeros would flatter the clocks).
double cublas_bfloat16_tflops(int index, int64_t n) {
  check_cuda(cudaSetDevice(index), "cudaSetDevice");
  const size_t elements = static_cast<size_t>(n * n);
  std::vector<uint16_t> host(elements);
  trainyard::RandomGenerator generator(7);
  for (uint16_t& value : host) {
    value = trainyard::BFloat16::from_float(static_cast<float>(generator.uniform() - 0.5)).bits;
  }
  void* buffers[3] = {};
  for (void*& buffer : buffers) {
    check_cuda(cudaMalloc(&buffer, elements * sizeof(uint16_t)), "cudaMalloc");
    check_cuda(cudaMemcpy(buffer, host.data(), elements * sizeof(uint16_t), cudaMemcpyHostToDevice),
               "cudaMemcpy");
  }
  cublasHandle_t handle = nullptr;
  check_cublas(cublasCreate(&handle), "cublasCreate");
  const int size = static_cast<int>(n);
  const float alpha = 1.0f, beta = 0.0f;
  auto gemm = [&] {
    check_cublas(
        cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, size, size, size, &alpha, buffers[0],
                     CUDA_R_16BF, size, buffers[1], CUDA_R_16BF, size, &beta, buffers[2],
                     CUDA_R_16BF, size, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
        "cublasGemmEx");
  };
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
  cublasDestroy(handle);
  for (void* buffer : buffers) cudaFree(buffer);
  const double nd = static_cast<double>(n);
  return 2.0 * nd * nd * nd / best_seconds / 1e12;
}
#endif

int run(const Arguments& arguments) {
  const trainyard::Device device(arguments.device);
  const bool gpu = !device.is_cpu();
  const int64_t width = arguments.width.value_or(gpu ? 8192 : 256);
  const int64_t batch = arguments.batch.value_or(gpu ? 8192 : 256);
  const int steps = arguments.steps.value_or(gpu ? 20 : 5);
  if (width < 1 || batch < 1 || steps < 1 || arguments.warmup < 0) {
    usage("--width, --batch and --steps must be positive, --warmup non-negative");
  }

  // Fails here, naming the device, when this build or machine has no such device.
  trainyard::backend::Backend& backend = trainyard::backend::backend_for(device);
  std::optional<double> cublas_tflops;
#ifdef TRAINYARD_GEMM_BENCH_CUBLAS
  if (gpu) cublas_tflops = cublas_bfloat16_tflops(device.index, width);
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
  if (cublas_tflops) {
    std::snprintf(line, sizeof line,
                  "gemm_bench device=%s optimizer=SGD width=%lld batch=%lld steps=%d "
                  "cublas_tflops=%.1f model_tflops=%.1f fraction=%.3f step_ms=%.3f "
                  "window_step_ms=%s",
                  arguments.device.c_str(), static_cast<long long>(width),
                  static_cast<long long>(batch), steps, *cublas_tflops, model_tflops,
                  model_tflops / *cublas_tflops, seconds * 1e3, windows.c_str());
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
  Arguments arguments = parse(argc, argv);
  try {
    return run(arguments);
  } catch (const trainyard::Error& error) {
    std::cerr << "gemm_bench: " << error.what() << "\n";
    return 1;
  }
}
