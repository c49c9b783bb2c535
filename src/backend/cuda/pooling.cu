// Max and average pooling, channels_last, as trainyard's own kernels rather than cuDNN's:
// cuDNN's pooling descriptors pad symmetrically, so they cannot express Keras's "same" padding
// with the extra pixel bottom/right, and its max backward does not promise to route to the
// window's first maximum. Semantics are the CPU backend's (src/backend/cpu/pooling.cpp).
#include <cmath>

#include "backend/cuda/cuda_common.cuh"

namespace trainyard::backend::cuda {
namespace {

void check_shapes(const char* entry, const Window2d& w, const Tensor& x, const Tensor& y) {
  if (x.shape() != Shape{w.batch, w.in_height, w.in_width, w.channels} ||
      y.shape() != Shape{w.batch, w.out_height, w.out_width, w.channels} ||
      x.dtype() != y.dtype()) {
    throw ShapeError(std::string(entry) + ": input " + x.to_string() + " and output " +
                     y.to_string() + " do not match the pooling window");
  }
  if (w.dilation_height != 1 || w.dilation_width != 1) {
    throw ValueError(std::string(entry) + ": pooling windows have no dilation");
  }
}

// The in-bounds window rows [h_begin, h_end) and columns [w_begin, w_end) of output (oh, ow).
struct Span {
  int64_t h_begin, h_end, w_begin, w_end;
};

__device__ Span window_span(const Window2d& w, int64_t oh, int64_t ow) {
  const int64_t h0 = oh * w.stride_height - w.pad_top;
  const int64_t w0 = ow * w.stride_width - w.pad_left;
  return {h0 > 0 ? h0 : 0, min(h0 + w.window_height, w.in_height), w0 > 0 ? w0 : 0,
          min(w0 + w.window_width, w.in_width)};
}

// The output positions o in [first, last] whose windows (start o * stride - pad, `size` long)
// cover input position i along one axis; first > last when none does.
__device__ void covering(int64_t i, int64_t pad, int64_t stride, int64_t size, int64_t out,
                         int64_t& first, int64_t& last) {
  const int64_t shifted = i + pad;  // >= 0 since pad >= 0
  // o * stride <= shifted and o * stride + size > shifted.
  const int64_t low = shifted - size + 1;
  first = low <= 0 ? 0 : (low + stride - 1) / stride;
  last = shifted / stride;
  if (last > out - 1) last = out - 1;
}

// One thread per output element (n, oh, ow, c); the window is read in row-major order, as the
// CPU does, so sums round the same way.
template <typename T>
__global__ void pool_forward_kernel(Window2d w, bool max_pool, const T* x, T* y) {
  const int64_t c_count = w.channels;
  const int64_t count = w.batch * w.out_height * w.out_width * c_count;
  for (int64_t index = global_thread_index(); index < count; index += grid_stride()) {
    const int64_t c = index % c_count;
    const int64_t ow = (index / c_count) % w.out_width;
    const int64_t oh = (index / (c_count * w.out_width)) % w.out_height;
    const int64_t n = index / (c_count * w.out_width * w.out_height);
    const Span span = window_span(w, oh, ow);
    T result = max_pool ? static_cast<T>(-INFINITY) : T(0);
    for (int64_t ih = span.h_begin; ih < span.h_end; ++ih) {
      for (int64_t iw = span.w_begin; iw < span.w_end; ++iw) {
        const T value = x[((n * w.in_height + ih) * w.in_width + iw) * c_count + c];
        if (max_pool) {
          result = result < value ? value : result;  // std::max(result, value)
        } else {
          result += value;
        }
      }
    }
    if (!max_pool) {
      result /= static_cast<T>((span.h_end - span.h_begin) * (span.w_end - span.w_begin));
    }
    y[index] = result;
  }
}

// Whether input (ih, iw) is the first position of the window `span`, in row-major order, whose
// value equals the window's maximum `best` (channel c of sample n).
template <typename T>
__device__ bool first_maximum(const Window2d& w, const T* x, int64_t n, int64_t c, const Span& span,
                              int64_t ih, int64_t iw, T best) {
  for (int64_t h = span.h_begin; h <= ih; ++h) {
    const int64_t w_end = h < ih ? span.w_end : iw;
    for (int64_t col = span.w_begin; col < w_end; ++col) {
      if (x[((n * w.in_height + h) * w.in_width + col) * w.channels + c] == best) return false;
    }
  }
  return true;
}

// One thread per input element: it gathers from the output windows that cover it, in output
// row-major order (the order the CPU adds them), so no two threads write one element and the
// result does not depend on scheduling.
template <typename T>
__global__ void pool_backward_kernel(Window2d w, bool max_pool, const T* x, const T* y, const T* dy,
                                     T* dx, bool accumulate) {
  const int64_t c_count = w.channels;
  const int64_t count = w.batch * w.in_height * w.in_width * c_count;
  for (int64_t index = global_thread_index(); index < count; index += grid_stride()) {
    const int64_t c = index % c_count;
    const int64_t iw = (index / c_count) % w.in_width;
    const int64_t ih = (index / (c_count * w.in_width)) % w.in_height;
    const int64_t n = index / (c_count * w.in_width * w.in_height);
    int64_t oh_first = 0, oh_last = -1, ow_first = 0, ow_last = -1;
    covering(ih, w.pad_top, w.stride_height, w.window_height, w.out_height, oh_first, oh_last);
    covering(iw, w.pad_left, w.stride_width, w.window_width, w.out_width, ow_first, ow_last);
    T sum = accumulate ? dx[index] : T(0);
    const T value = x[index];
    for (int64_t oh = oh_first; oh <= oh_last; ++oh) {
      for (int64_t ow = ow_first; ow <= ow_last; ++ow) {
        const int64_t out = ((n * w.out_height + oh) * w.out_width + ow) * c_count + c;
        const Span span = window_span(w, oh, ow);
        if (max_pool) {
          const T best = y[out];
          if (value == best && first_maximum(w, x, n, c, span, ih, iw, best)) sum += dy[out];
        } else {
          sum +=
              dy[out] / static_cast<T>((span.h_end - span.h_begin) * (span.w_end - span.w_begin));
        }
      }
    }
    dx[index] = sum;
  }
}

}  // namespace

void CudaBackend::pool2d_forward(PoolKind kind, const Window2d& window, const Tensor& x,
                                 const Tensor& y) {
  const char* entry = "pool2d_forward";
  check_shapes(entry, window, x, y);
  require_here(entry, "x", x);
  require_here(entry, "y", y);
  activate();
  const int64_t count = y.num_elements();
  if (count == 0) return;
  dispatch_float(x.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    pool_forward_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        window, kind == PoolKind::kMax, static_cast<const T*>(x.raw_data()),
        static_cast<T*>(y.raw_data()));
    TY_CUDA_CHECK_LAUNCH("pool_forward_kernel");
  });
}

void CudaBackend::pool2d_backward(PoolKind kind, const Window2d& window, const Tensor& x,
                                  const Tensor& y, const Tensor& y_grad, const Tensor& x_grad,
                                  bool accumulate) {
  const char* entry = "pool2d_backward";
  check_shapes(entry, window, x, y);
  check_shapes(entry, window, x_grad, y_grad);
  if (x.dtype() != x_grad.dtype()) {
    throw ShapeError(std::string(entry) + ": input " + x.to_string() + " and its gradient " +
                     x_grad.to_string() + " differ in dtype");
  }
  require_here(entry, "x", x);
  require_here(entry, "y", y);
  require_here(entry, "y_grad", y_grad);
  require_here(entry, "x_grad", x_grad);
  activate();
  const int64_t count = x_grad.num_elements();
  if (count == 0) return;
  dispatch_float(x.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    pool_backward_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        window, kind == PoolKind::kMax, static_cast<const T*>(x.raw_data()),
        static_cast<const T*>(y.raw_data()), static_cast<const T*>(y_grad.raw_data()),
        static_cast<T*>(x_grad.raw_data()), accumulate);
    TY_CUDA_CHECK_LAUNCH("pool_backward_kernel");
  });
}

}  // namespace trainyard::backend::cuda
