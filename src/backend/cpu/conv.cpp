// 2-D convolution, channels_last. Most windows go to the direct kernels (conv_direct.h), which
// read the input in place. The rest, and every 1x1 stride-1 unpadded kernel, use im2col + the
// parallel GEMM: each chunk of samples is unrolled into a patch matrix [rows = samples * OH *
// OW, K = KH * KW * C] (kept to a few MiB so it stays in cache while the GEMM consumes it) and
// multiplied by the HWIO kernel viewed as [K, F]. A 1x1 kernel with stride 1 and no padding
// uses the input as the patch matrix.
#include <algorithm>
#include <cstring>

#include "backend/argument_checks.h"
#include "backend/cpu/conv_direct.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_common.h"
#include "backend/cpu/gemm.h"

namespace trainyard::backend {
namespace {

// Largest patch matrix built at once.
constexpr size_t kPatchBudgetBytes = size_t{4} << 20;

struct ConvDims {
  int64_t plane;            // H * W * C: one input sample
  int64_t rows_per_sample;  // OH * OW
  int64_t depth;            // K = KH * KW * C
  int64_t filters;          // F
  bool direct;              // 1x1, stride 1, no padding: the input is its own patch matrix
};

ConvDims conv_dims(const Window2d& w, int64_t filters) {
  bool direct = w.window_height == 1 && w.window_width == 1 && w.stride_height == 1 &&
                w.stride_width == 1 && w.pad_top == 0 && w.pad_left == 0;
  return {w.in_height * w.in_width * w.channels, w.out_height * w.out_width,
          w.window_height * w.window_width * w.channels, filters, direct};
}

int64_t samples_per_chunk(const ConvDims& dims, size_t element_bytes) {
  size_t per_sample = static_cast<size_t>(dims.rows_per_sample * dims.depth) * element_bytes;
  return std::max<int64_t>(
      1, static_cast<int64_t>(kPatchBudgetBytes / std::max<size_t>(per_sample, 1)));
}

// patches[r, (kh, kw, c)] for the rows of samples [first, first + count).
template <typename T>
void im2col(const Window2d& w, const ConvDims& dims, const T* x, int64_t first, int64_t count,
            T* patches) {
  const int64_t rows = count * dims.rows_per_sample;
  const int64_t c = w.channels;
  parallel_range(rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(dims.depth, 1)),
                 [&](int64_t begin, int64_t end) {
                   for (int64_t r = begin; r < end; ++r) {
                     int64_t n = first + r / dims.rows_per_sample;
                     int64_t position = r % dims.rows_per_sample;
                     int64_t oh = position / w.out_width, ow = position % w.out_width;
                     T* out = patches + r * dims.depth;
                     for (int64_t kh = 0; kh < w.window_height; ++kh) {
                       int64_t ih = oh * w.stride_height - w.pad_top + kh * w.dilation_height;
                       for (int64_t kw = 0; kw < w.window_width; ++kw, out += c) {
                         int64_t iw = ow * w.stride_width - w.pad_left + kw * w.dilation_width;
                         if (ih < 0 || ih >= w.in_height || iw < 0 || iw >= w.in_width) {
                           std::fill(out, out + c, T(0));
                         } else {
                           std::memcpy(out, x + ((n * w.in_height + ih) * w.in_width + iw) * c,
                                       static_cast<size_t>(c) * sizeof(T));
                         }
                       }
                     }
                   }
                 });
}

// dx[n, ih, iw, c] += patches[r, (kh, kw, c)] for samples [first, first + count); samples
// own disjoint parts of dx, so they run in parallel.
template <typename T>
void col2im_add(const Window2d& w, const ConvDims& dims, const T* patches, int64_t first,
                int64_t count, T* dx) {
  const int64_t c = w.channels;
  parallel_range(count, 1, [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) {
      int64_t n = first + s;
      for (int64_t position = 0; position < dims.rows_per_sample; ++position) {
        int64_t oh = position / w.out_width, ow = position % w.out_width;
        const T* in = patches + (s * dims.rows_per_sample + position) * dims.depth;
        for (int64_t kh = 0; kh < w.window_height; ++kh) {
          int64_t ih = oh * w.stride_height - w.pad_top + kh * w.dilation_height;
          for (int64_t kw = 0; kw < w.window_width; ++kw, in += c) {
            int64_t iw = ow * w.stride_width - w.pad_left + kw * w.dilation_width;
            if (ih < 0 || ih >= w.in_height || iw < 0 || iw >= w.in_width) continue;
            T* out = dx + ((n * w.in_height + ih) * w.in_width + iw) * c;
            for (int64_t j = 0; j < c; ++j) out[j] += in[j];
          }
        }
      }
    }
  });
}

}  // namespace

void CpuBackend::conv2d_forward(const Window2d& window, const Tensor& x, const Tensor& kernel,
                                const Tensor& y) {
  check_conv_arguments("conv2d_forward", window, x, kernel, y);
  cpu::dispatch_float(x.dtype(), "conv2d_forward", [&](auto zero) {
    using T = decltype(zero);
    ConvDims dims = conv_dims(window, kernel.shape()[3]);
    const T* input = x.data<T>();
    T* output = y.data<T>();
    if (cpu::direct_forward_suits(window, dims.filters)) {
      cpu::direct_conv_forward<T>(window, input, kernel.data<T>(), dims.filters, output,
                                  cpu::ConvOutput<T>{}, conv_scratch_);
      return;
    }
    int64_t chunk = dims.direct ? window.batch : samples_per_chunk(dims, sizeof(T));
    for (int64_t first = 0; first < window.batch; first += chunk) {
      int64_t count = std::min(chunk, window.batch - first);
      const T* patches = input + first * dims.plane;
      if (!dims.direct) {
        T* buffer =
            conv_scratch_.get<T>(static_cast<size_t>(count * dims.rows_per_sample * dims.depth));
        im2col(window, dims, input, first, count, buffer);
        patches = buffer;
      }
      // y rows [count * OH * OW, F] = patches [rows, K] @ kernel [K, F]
      cpu::parallel_gemm<T>(false, false, count * dims.rows_per_sample, dims.filters, dims.depth,
                            T(1), patches, dims.depth, kernel.data<T>(), dims.filters, T(0),
                            output + first * dims.rows_per_sample * dims.filters, dims.filters,
                            conv_gemm_scratch_);
    }
  });
}

void CpuBackend::conv2d_bias_activation_forward(const Window2d& window,
                                                const Activation& activation, const Tensor& x,
                                                const Tensor& kernel, const Tensor& bias,
                                                const Tensor& y) {
  check_conv_arguments("conv2d_bias_activation_forward", window, x, kernel, y);
  const int64_t filters = kernel.shape()[3];
  if (bias.defined() && (bias.shape() != Shape{filters} || bias.dtype() != x.dtype())) {
    throw ShapeError("conv2d_bias_activation_forward: bias " + bias.to_string() +
                     " does not match the kernel " + kernel.to_string());
  }
  if (activation.kind == ActivationKind::kSoftmax) {
    throw ValueError("conv2d_bias_activation_forward: softmax is not elementwise");
  }
  if (!cpu::direct_forward_suits(window, filters)) {
    Backend::conv2d_bias_activation_forward(window, activation, x, kernel, bias, y);
    return;
  }
  // The direct and Winograd kernels add the bias and apply ReLU to each output tile while it
  // is in registers, saving two passes over y; other activations take one pass after.
  const bool relu = activation.kind == ActivationKind::kRelu;
  cpu::dispatch_float(x.dtype(), "conv2d_bias_activation_forward", [&](auto zero) {
    using T = decltype(zero);
    cpu::ConvOutput<T> output{.bias = bias.defined() ? bias.data<T>() : nullptr, .relu = relu};
    cpu::direct_conv_forward<T>(window, x.data<T>(), kernel.data<T>(), filters, y.data<T>(), output,
                                conv_scratch_);
  });
  if (!relu && activation.kind != ActivationKind::kLinear) activation_forward(activation, y, y);
}

void CpuBackend::conv2d_backward_kernel(const Window2d& window, const Tensor& x,
                                        const Tensor& y_grad, const Tensor& kernel_grad,
                                        bool accumulate) {
  check_conv_arguments("conv2d_backward_kernel", window, x, kernel_grad, y_grad);
  cpu::dispatch_float(x.dtype(), "conv2d_backward_kernel", [&](auto zero) {
    using T = decltype(zero);
    ConvDims dims = conv_dims(window, kernel_grad.shape()[3]);
    const T* input = x.data<T>();
    const T* dy = y_grad.data<T>();
    if (cpu::direct_backward_kernel_suits(window)) {
      cpu::direct_conv_backward_kernel<T>(window, input, dy, dims.filters, kernel_grad.data<T>(),
                                          accumulate, conv_scratch_);
      return;
    }
    int64_t chunk = dims.direct ? window.batch : samples_per_chunk(dims, sizeof(T));
    for (int64_t first = 0; first < window.batch; first += chunk) {
      int64_t count = std::min(chunk, window.batch - first);
      const T* patches = input + first * dims.plane;
      if (!dims.direct) {
        T* buffer =
            conv_scratch_.get<T>(static_cast<size_t>(count * dims.rows_per_sample * dims.depth));
        im2col(window, dims, input, first, count, buffer);
        patches = buffer;
      }
      // dkernel [K, F] (+)= patches^T [K, rows] @ dy [rows, F]
      T beta = (first == 0 && !accumulate) ? T(0) : T(1);
      cpu::parallel_gemm<T>(true, false, dims.depth, dims.filters, count * dims.rows_per_sample,
                            T(1), patches, dims.depth,
                            dy + first * dims.rows_per_sample * dims.filters, dims.filters, beta,
                            kernel_grad.data<T>(), dims.filters, conv_gemm_scratch_);
    }
  });
}

void CpuBackend::conv2d_backward_input(const Window2d& window, const Tensor& y_grad,
                                       const Tensor& kernel, const Tensor& x_grad,
                                       bool accumulate) {
  check_conv_arguments("conv2d_backward_input", window, x_grad, kernel, y_grad);
  cpu::dispatch_float(x_grad.dtype(), "conv2d_backward_input", [&](auto zero) {
    using T = decltype(zero);
    ConvDims dims = conv_dims(window, kernel.shape()[3]);
    const T* dy = y_grad.data<T>();
    T* dx = x_grad.data<T>();
    if (cpu::direct_backward_input_suits(window, dims.filters)) {
      cpu::direct_conv_backward_input<T>(window, dy, kernel.data<T>(), dims.filters, dx, accumulate,
                                         conv_scratch_);
      return;
    }
    if (dims.direct) {
      // dx [N*H*W, C] (+)= dy [rows, F] @ kernel^T [F, C]
      cpu::parallel_gemm<T>(false, true, window.batch * dims.rows_per_sample, dims.depth,
                            dims.filters, T(1), dy, dims.filters, kernel.data<T>(), dims.filters,
                            accumulate ? T(1) : T(0), dx, dims.depth, conv_gemm_scratch_);
      return;
    }
    if (!accumulate) std::fill(dx, dx + x_grad.num_elements(), T(0));
    int64_t chunk = samples_per_chunk(dims, sizeof(T));
    for (int64_t first = 0; first < window.batch; first += chunk) {
      int64_t count = std::min(chunk, window.batch - first);
      T* patches =
          conv_scratch_.get<T>(static_cast<size_t>(count * dims.rows_per_sample * dims.depth));
      // dpatches [rows, K] = dy [rows, F] @ kernel^T [F, K]
      cpu::parallel_gemm<T>(false, true, count * dims.rows_per_sample, dims.depth, dims.filters,
                            T(1), dy + first * dims.rows_per_sample * dims.filters, dims.filters,
                            kernel.data<T>(), dims.filters, T(0), patches, dims.depth,
                            conv_gemm_scratch_);
      col2im_add(window, dims, patches, first, count, dx);
    }
  });
}

}  // namespace trainyard::backend
