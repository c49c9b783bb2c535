// Layout kernels for the cuDNN convolutions: HWIO <-> KRSC kernels, zero padding and cropping
// for asymmetric windows, and bias + activation over the output (formulas as the CPU's).
#include "backend/cuda/conv_layout.h"
#include "backend/cuda/cuda_common.cuh"

namespace trainyard::backend::cuda {
namespace {

// One thread per KRSC element: index = ((f * KH + i) * KW + j) * C + c.
__global__ void hwio_to_krsc_kernel(const float* hwio, float* krsc, int64_t taps, int64_t c,
                                    int64_t f) {
  const int64_t count = taps * c * f;
  for (int64_t index = global_thread_index(); index < count; index += grid_stride()) {
    const int64_t channel = index % c;
    const int64_t tap = (index / c) % taps;  // i * KW + j
    const int64_t filter = index / (c * taps);
    krsc[index] = hwio[(tap * c + channel) * f + filter];
  }
}

// One thread per HWIO element: index = ((i * KW + j) * C + c) * F + f.
__global__ void krsc_to_hwio_kernel(const float* krsc, float* hwio, int64_t taps, int64_t c,
                                    int64_t f, bool accumulate) {
  const int64_t count = taps * c * f;
  for (int64_t index = global_thread_index(); index < count; index += grid_stride()) {
    const int64_t filter = index % f;
    const int64_t channel = (index / f) % c;
    const int64_t tap = index / (f * c);
    const float value = krsc[(filter * taps + tap) * c + channel];
    hwio[index] = accumulate ? hwio[index] + value : value;
  }
}

struct PaddedGeometry {
  int64_t batch, height, width, channels;  // the unpadded input
  int64_t top, left;
  int64_t padded_height, padded_width;
};

PaddedGeometry padded_geometry(const Window2d& w) {
  return {w.batch,
          w.in_height,
          w.in_width,
          w.channels,
          w.pad_top,
          w.pad_left,
          w.in_height + w.pad_top + w.pad_bottom,
          w.in_width + w.pad_left + w.pad_right};
}

// One thread per padded element: zero outside the input, the input's value inside.
__global__ void pad_kernel(PaddedGeometry g, const float* x, float* padded) {
  const int64_t count = g.batch * g.padded_height * g.padded_width * g.channels;
  for (int64_t index = global_thread_index(); index < count; index += grid_stride()) {
    const int64_t c = index % g.channels;
    const int64_t pw = (index / g.channels) % g.padded_width;
    const int64_t ph = (index / (g.channels * g.padded_width)) % g.padded_height;
    const int64_t n = index / (g.channels * g.padded_width * g.padded_height);
    const int64_t h = ph - g.top, w = pw - g.left;
    const bool inside = h >= 0 && h < g.height && w >= 0 && w < g.width;
    padded[index] = inside ? x[((n * g.height + h) * g.width + w) * g.channels + c] : 0.0f;
  }
}

// One thread per input element: its gradient is the padded gradient at the shifted position.
__global__ void crop_kernel(PaddedGeometry g, const float* padded_grad, float* x_grad,
                            bool accumulate) {
  const int64_t count = g.batch * g.height * g.width * g.channels;
  for (int64_t index = global_thread_index(); index < count; index += grid_stride()) {
    const int64_t c = index % g.channels;
    const int64_t w = (index / g.channels) % g.width;
    const int64_t h = (index / (g.channels * g.width)) % g.height;
    const int64_t n = index / (g.channels * g.width * g.height);
    const float value =
        padded_grad[((n * g.padded_height + h + g.top) * g.padded_width + w + g.left) * g.channels +
                    c];
    x_grad[index] = accumulate ? x_grad[index] + value : value;
  }
}

__device__ float sigmoid(float x) {
  // Two branches keep exp's argument non-positive, so neither overflows (as the CPU's).
  if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
  const float e = expf(x);
  return e / (1.0f + e);
}

__device__ float activate_value(ActivationKind kind, float alpha, float x) {
  switch (kind) {
    case ActivationKind::kLinear:
      return x;
    case ActivationKind::kRelu:
      return x > 0.0f ? x : 0.0f;
    case ActivationKind::kSigmoid:
      return sigmoid(x);
    case ActivationKind::kTanh:
      return tanhf(x);
    case ActivationKind::kGelu:
      // 0.5 * erfc(-x / sqrt(2)) rather than 0.5 * (1 + erf(...)): no cancellation for x < 0.
      return 0.5f * x * erfcf(-x * 0.70710678118654752f);
    case ActivationKind::kSilu:
      return x * sigmoid(x);
    case ActivationKind::kLeakyRelu:
      return x > 0.0f ? x : alpha * x;
    case ActivationKind::kElu:
      return x > 0.0f ? x : alpha * expm1f(x);
    case ActivationKind::kSoftplus:
      return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
    case ActivationKind::kSoftmax:
      break;
  }
  return x;
}

__global__ void bias_activation_kernel(ActivationKind kind, float alpha, float* y,
                                       const float* bias, int64_t rows, int64_t filters) {
  const int64_t count = rows * filters;
  for (int64_t index = global_thread_index(); index < count; index += grid_stride()) {
    const float z = bias != nullptr ? y[index] + bias[index % filters] : y[index];
    y[index] = activate_value(kind, alpha, z);
  }
}

}  // namespace

void hwio_to_krsc(const float* hwio, float* krsc, int64_t kh, int64_t kw, int64_t c, int64_t f,
                  cudaStream_t stream) {
  const int64_t count = kh * kw * c * f;
  if (count == 0) return;
  hwio_to_krsc_kernel<<<blocks_for(count), kThreadsPerBlock, 0, stream>>>(hwio, krsc, kh * kw, c,
                                                                          f);
  TY_CUDA_CHECK_LAUNCH("hwio_to_krsc_kernel");
}

void krsc_to_hwio(const float* krsc, float* hwio, int64_t kh, int64_t kw, int64_t c, int64_t f,
                  bool accumulate, cudaStream_t stream) {
  const int64_t count = kh * kw * c * f;
  if (count == 0) return;
  krsc_to_hwio_kernel<<<blocks_for(count), kThreadsPerBlock, 0, stream>>>(krsc, hwio, kh * kw, c, f,
                                                                          accumulate);
  TY_CUDA_CHECK_LAUNCH("krsc_to_hwio_kernel");
}

void pad_input(const Window2d& window, const float* x, float* padded, cudaStream_t stream) {
  const PaddedGeometry g = padded_geometry(window);
  const int64_t count = g.batch * g.padded_height * g.padded_width * g.channels;
  if (count == 0) return;
  pad_kernel<<<blocks_for(count), kThreadsPerBlock, 0, stream>>>(g, x, padded);
  TY_CUDA_CHECK_LAUNCH("pad_kernel");
}

void crop_input_grad(const Window2d& window, const float* padded_grad, float* x_grad,
                     bool accumulate, cudaStream_t stream) {
  const PaddedGeometry g = padded_geometry(window);
  const int64_t count = g.batch * g.height * g.width * g.channels;
  if (count == 0) return;
  crop_kernel<<<blocks_for(count), kThreadsPerBlock, 0, stream>>>(g, padded_grad, x_grad,
                                                                  accumulate);
  TY_CUDA_CHECK_LAUNCH("crop_kernel");
}

void bias_activation_in_place(const Activation& activation, float* y, const float* bias,
                              int64_t rows, int64_t filters, cudaStream_t stream) {
  const int64_t count = rows * filters;
  if (count == 0) return;
  bias_activation_kernel<<<blocks_for(count), kThreadsPerBlock, 0, stream>>>(
      activation.kind, static_cast<float>(activation.alpha), y, bias, rows, filters);
  TY_CUDA_CHECK_LAUNCH("bias_activation_kernel");
}

}  // namespace trainyard::backend::cuda
