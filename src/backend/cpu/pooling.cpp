// Max and average pooling, channels_last. Each output position reduces its window over the
// contiguous channels, so the inner loops vectorise; samples run in parallel.
#include <algorithm>
#include <limits>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_common.h"

namespace trainyard::backend {
namespace {

void check_shapes(const char* entry, const Window2d& w, const Tensor& x, const Tensor& y) {
  if (x.shape() != Shape{w.batch, w.in_height, w.in_width, w.channels} ||
      y.shape() != Shape{w.batch, w.out_height, w.out_width, w.channels} ||
      x.dtype() != y.dtype()) {
    throw ShapeError(std::string(entry) + ": input " + x.to_string() + " and output " +
                     y.to_string() + " do not match the pooling window");
  }
}

// The in-bounds window rows/columns of output position (oh, ow).
struct Span {
  int64_t h_begin, h_end, w_begin, w_end;
};

Span window_span(const Window2d& w, int64_t oh, int64_t ow) {
  int64_t h0 = oh * w.stride_height - w.pad_top;
  int64_t w0 = ow * w.stride_width - w.pad_left;
  return {std::max<int64_t>(h0, 0), std::min(h0 + w.effective_height(), w.in_height),
          std::max<int64_t>(w0, 0), std::min(w0 + w.effective_width(), w.in_width)};
}

template <typename T>
void pool_forward(PoolKind kind, const Window2d& w, const T* x, T* y) {
  const int64_t c = w.channels;
  parallel_range(w.batch, 1, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      for (int64_t oh = 0; oh < w.out_height; ++oh) {
        for (int64_t ow = 0; ow < w.out_width; ++ow) {
          Span span = window_span(w, oh, ow);
          T* out = y + ((n * w.out_height + oh) * w.out_width + ow) * c;
          std::fill(out, out + c,
                    kind == PoolKind::kMax ? -std::numeric_limits<T>::infinity() : T(0));
          for (int64_t ih = span.h_begin; ih < span.h_end; ih += w.dilation_height) {
            for (int64_t iw = span.w_begin; iw < span.w_end; iw += w.dilation_width) {
              const T* in = x + ((n * w.in_height + ih) * w.in_width + iw) * c;
              if (kind == PoolKind::kMax) {
                for (int64_t j = 0; j < c; ++j) out[j] = std::max(out[j], in[j]);
              } else {
                for (int64_t j = 0; j < c; ++j) out[j] += in[j];
              }
            }
          }
          if (kind == PoolKind::kAverage) {
            T count = static_cast<T>((span.h_end - span.h_begin) * (span.w_end - span.w_begin));
            for (int64_t j = 0; j < c; ++j) out[j] /= count;
          }
        }
      }
    }
  });
}

template <typename T>
void pool_backward(PoolKind kind, const Window2d& w, const T* x, const T* y, const T* dy, T* dx) {
  const int64_t c = w.channels;
  parallel_range(w.batch, 1, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      for (int64_t oh = 0; oh < w.out_height; ++oh) {
        for (int64_t ow = 0; ow < w.out_width; ++ow) {
          Span span = window_span(w, oh, ow);
          int64_t out_index = ((n * w.out_height + oh) * w.out_width + ow) * c;
          const T* grad = dy + out_index;
          if (kind == PoolKind::kAverage) {
            T count = static_cast<T>((span.h_end - span.h_begin) * (span.w_end - span.w_begin));
            for (int64_t ih = span.h_begin; ih < span.h_end; ++ih) {
              for (int64_t iw = span.w_begin; iw < span.w_end; ++iw) {
                T* in_grad = dx + ((n * w.in_height + ih) * w.in_width + iw) * c;
                for (int64_t j = 0; j < c; ++j) in_grad[j] += grad[j] / count;
              }
            }
            continue;
          }
          // Each channel's gradient goes to the first position holding the maximum.
          const T* best = y + out_index;
          for (int64_t j = 0; j < c; ++j) {
            bool routed = false;
            for (int64_t ih = span.h_begin; ih < span.h_end && !routed; ++ih) {
              for (int64_t iw = span.w_begin; iw < span.w_end && !routed; ++iw) {
                int64_t index = ((n * w.in_height + ih) * w.in_width + iw) * c + j;
                if (x[index] == best[j]) {
                  dx[index] += grad[j];
                  routed = true;
                }
              }
            }
          }
        }
      }
    }
  });
}

}  // namespace

void CpuBackend::pool2d_forward(PoolKind kind, const Window2d& window, const Tensor& x,
                                const Tensor& y) {
  check_shapes("pool2d_forward", window, x, y);
  TY_CHECK(window.dilation_height == 1 && window.dilation_width == 1, "pooling has no dilation");
  cpu::dispatch_float(x.dtype(), "pool2d_forward", [&](auto zero) {
    using T = decltype(zero);
    pool_forward<T>(kind, window, x.data<T>(), y.data<T>());
  });
}

void CpuBackend::pool2d_backward(PoolKind kind, const Window2d& window, const Tensor& x,
                                 const Tensor& y, const Tensor& y_grad, const Tensor& x_grad,
                                 bool accumulate) {
  check_shapes("pool2d_backward", window, x, y);
  check_shapes("pool2d_backward", window, x_grad, y_grad);
  cpu::dispatch_float(x.dtype(), "pool2d_backward", [&](auto zero) {
    using T = decltype(zero);
    T* dx = x_grad.data<T>();
    if (!accumulate) std::fill(dx, dx + x_grad.num_elements(), T(0));
    pool_backward<T>(kind, window, x.data<T>(), y.data<T>(), y_grad.data<T>(), dx);
  });
}

}  // namespace trainyard::backend
