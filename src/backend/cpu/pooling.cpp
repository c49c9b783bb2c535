// Max and average pooling, channels_last. Each output position reduces its window over the
// contiguous channels, so the inner loops vectorise; samples run in parallel. Max pooling's
// backward finds each window's first maximum again by comparing x with y, channel-wise.
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

// Max pooling without padding: every window lies inside x, so each output row takes the
// maximum of its window's input rows directly, the first tap initialising it. Rows (n, oh) run
// in parallel.
template <typename T>
void max_forward_unpadded(const Window2d& w, const T* x, T* y) {
  const int64_t c = w.channels;
  parallel_range(w.batch * w.out_height, 8, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      int64_t n = row / w.out_height, oh = row % w.out_height;
      const T* window_row = x + (n * w.in_height + oh * w.stride_height) * w.in_width * c;
      T* out_row = y + row * w.out_width * c;
      for (int64_t kh = 0; kh < w.window_height; ++kh, window_row += w.in_width * c) {
        for (int64_t ow = 0; ow < w.out_width; ++ow) {
          T* out = out_row + ow * c;
          const T* in = window_row + ow * w.stride_width * c;
          for (int64_t kw = 0; kw < w.window_width; ++kw, in += c) {
            if (kh == 0 && kw == 0) {
              std::copy(in, in + c, out);
            } else {
              for (int64_t j = 0; j < c; ++j) out[j] = std::max(out[j], in[j]);
            }
          }
        }
      }
    }
  });
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

// Whether input index i (along one axis) lies under some window: windows start at
// o * stride - pad for o in [0, out) and cover `size` positions.
bool covered(int64_t i, int64_t pad, int64_t stride, int64_t size, int64_t out) {
  int64_t shifted = i + pad;
  if (shifted < 0) return false;
  int64_t last = std::min(out - 1, shifted / stride);
  return last >= 0 && shifted - last * stride < size;
}

// Channels routed per pass: the gradients still to route stay on the stack.
constexpr int64_t kChannelBlock = 256;

// One sample's x_grad for max pooling: each channel's gradient goes to the window's first
// maximum. `add` adds into x_grad (overlapping windows, or accumulate); otherwise every
// position under a window is overwritten, with 0 where it is not the first maximum.
template <typename T>
void max_backward_sample(const Window2d& w, int64_t n, const T* x, const T* y, const T* dy, T* dx,
                         bool add) {
  const int64_t c = w.channels;
  for (int64_t oh = 0; oh < w.out_height; ++oh) {
    for (int64_t ow = 0; ow < w.out_width; ++ow) {
      Span span = window_span(w, oh, ow);
      int64_t out_index = ((n * w.out_height + oh) * w.out_width + ow) * c;
      for (int64_t first = 0; first < c; first += kChannelBlock) {
        const int64_t count = std::min(kChannelBlock, c - first);
        const T* best = y + out_index + first;
        // What is left to route: a channel's gradient becomes 0 once its first maximum took it.
        T left[kChannelBlock];
        std::copy(dy + out_index + first, dy + out_index + first + count, left);
        for (int64_t ih = span.h_begin; ih < span.h_end; ++ih) {
          for (int64_t iw = span.w_begin; iw < span.w_end; ++iw) {
            int64_t index = ((n * w.in_height + ih) * w.in_width + iw) * c + first;
            const T* in = x + index;
            T* out = dx + index;
            for (int64_t j = 0; j < count; ++j) {
              bool hit = in[j] == best[j];
              T routed = hit ? left[j] : T(0);
              left[j] = hit ? T(0) : left[j];
              out[j] = add ? out[j] + routed : routed;
            }
          }
        }
      }
    }
  }
}

// One sample's x_grad (+)= the mean's gradient spread evenly over each window's real elements.
template <typename T>
void average_backward_sample(const Window2d& w, int64_t n, const T* dy, T* dx) {
  const int64_t c = w.channels;
  for (int64_t oh = 0; oh < w.out_height; ++oh) {
    for (int64_t ow = 0; ow < w.out_width; ++ow) {
      Span span = window_span(w, oh, ow);
      const T* grad = dy + ((n * w.out_height + oh) * w.out_width + ow) * c;
      T count = static_cast<T>((span.h_end - span.h_begin) * (span.w_end - span.w_begin));
      for (int64_t ih = span.h_begin; ih < span.h_end; ++ih) {
        for (int64_t iw = span.w_begin; iw < span.w_end; ++iw) {
          T* in_grad = dx + ((n * w.in_height + ih) * w.in_width + iw) * c;
          for (int64_t j = 0; j < c; ++j) in_grad[j] += grad[j] / count;
        }
      }
    }
  }
}

// Zeroes one sample's x_grad positions that no window covers.
template <typename T>
void zero_uncovered(const Window2d& w, int64_t n, T* dx) {
  const int64_t c = w.channels;
  for (int64_t ih = 0; ih < w.in_height; ++ih) {
    T* row = dx + (n * w.in_height + ih) * w.in_width * c;
    bool row_covered = covered(ih, w.pad_top, w.stride_height, w.window_height, w.out_height);
    for (int64_t iw = 0; iw < w.in_width; ++iw) {
      if (!row_covered || !covered(iw, w.pad_left, w.stride_width, w.window_width, w.out_width)) {
        std::fill(row + iw * c, row + (iw + 1) * c, T(0));
      }
    }
  }
}

// x_grad (+)= y_grad routed to the first position where x equals the window's maximum `best`,
// for one window position of `count` channels; `left` holds the gradient not yet routed and
// loses what this position takes. Plain loops over the channels, so they vectorise.
template <typename T>
void route_position(const T* x, const T* best, T* left, T* x_grad, int64_t count, bool add) {
  for (int64_t j = 0; j < count; ++j) {
    bool hit = x[j] == best[j];
    T grad = left[j];
    T routed = hit ? grad : T(0);
    left[j] = hit ? T(0) : grad;
    x_grad[j] = add ? x_grad[j] + routed : routed;
  }
}

// Largest output row (out_width * channels) max_backward_unpadded carries on the stack.
constexpr int64_t kRowElements = 4096;

// Max pooling backward when windows neither overlap nor pad: each x_grad position lies under at
// most one window, so each is written exactly once and nothing is zeroed first. Output rows
// (n, oh) run in parallel. Each owns the input rows [oh * SH, (oh + 1) * SH) (the last one, the
// rest of x) and walks them top to bottom and left to right, which is every window's row-major
// order, carrying per (ow, channel) the gradient not yet routed; positions under no window get 0.
// REQUIRES: no padding, stride >= window on both axes, out_width * channels <= kRowElements.
template <typename T>
void max_backward_unpadded(const Window2d& w, const T* x, const T* y, const T* dy, T* dx,
                           bool accumulate) {
  const int64_t c = w.channels;
  const int64_t row_size = w.in_width * c;
  const int64_t out_row_size = w.out_width * c;
  parallel_range(w.batch * w.out_height, 8, [&](int64_t begin, int64_t end) {
    T left[kRowElements];
    for (int64_t row = begin; row < end; ++row) {
      int64_t n = row / w.out_height, oh = row % w.out_height;
      const T* best = y + row * out_row_size;
      std::copy(dy + row * out_row_size, dy + (row + 1) * out_row_size, left);
      int64_t first = oh * w.stride_height;
      int64_t last = oh + 1 == w.out_height ? w.in_height : first + w.stride_height;
      for (int64_t ih = first; ih < last; ++ih) {
        const T* in = x + (n * w.in_height + ih) * row_size;
        T* out = dx + (n * w.in_height + ih) * row_size;
        if (ih - first >= w.window_height) {
          if (!accumulate) std::fill(out, out + row_size, T(0));
          continue;
        }
        for (int64_t ow = 0, iw = 0; ow < w.out_width; ++ow) {
          int64_t window_end = ow * w.stride_width + w.window_width;
          int64_t next = ow + 1 == w.out_width ? w.in_width : (ow + 1) * w.stride_width;
          for (; iw < window_end; ++iw) {
            route_position(in + iw * c, best + ow * c, left + ow * c, out + iw * c, c, accumulate);
          }
          if (!accumulate) std::fill(out + iw * c, out + next * c, T(0));
          iw = next;
        }
      }
    }
  });
}

// Max pooling over windows that neither overlap nor pad goes row by row (max_backward_unpadded).
// Otherwise samples own disjoint parts of x_grad, so they run in parallel. Max pooling over
// windows that do not overlap writes each covered position once and zeroes only the others;
// overlapping windows, and average pooling, zero the sample first and add.
template <typename T>
void pool_backward(PoolKind kind, const Window2d& w, const T* x, const T* y, const T* dy, T* dx,
                   bool accumulate) {
  const bool overlapping = w.stride_height < w.window_height || w.stride_width < w.window_width;
  const bool route_once = kind == PoolKind::kMax && !overlapping;
  const bool unpadded = w.pad_top == 0 && w.pad_left == 0 && w.pad_bottom == 0 && w.pad_right == 0;
  if (route_once && unpadded && w.out_width * w.channels <= kRowElements) {
    max_backward_unpadded(w, x, y, dy, dx, accumulate);
    return;
  }
  const int64_t plane = w.in_height * w.in_width * w.channels;
  parallel_range(w.batch, 1, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      if (!accumulate && !route_once) std::fill(dx + n * plane, dx + (n + 1) * plane, T(0));
      if (kind == PoolKind::kAverage) {
        average_backward_sample(w, n, dy, dx);
        continue;
      }
      max_backward_sample(w, n, x, y, dy, dx, accumulate || !route_once);
      if (!accumulate && route_once) zero_uncovered(w, n, dx);
    }
  });
}

}  // namespace

void CpuBackend::pool2d_forward(PoolKind kind, const Window2d& window, const Tensor& x,
                                const Tensor& y) {
  check_shapes("pool2d_forward", window, x, y);
  TY_CHECK(window.dilation_height == 1 && window.dilation_width == 1, "pooling has no dilation");
  const bool unpadded = window.pad_top == 0 && window.pad_left == 0 && window.pad_bottom == 0 &&
                        window.pad_right == 0;
  cpu::dispatch_float(x.dtype(), "pool2d_forward", [&](auto zero) {
    using T = decltype(zero);
    if (kind == PoolKind::kMax && unpadded) {
      max_forward_unpadded<T>(window, x.data<T>(), y.data<T>());
      return;
    }
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
    pool_backward<T>(kind, window, x.data<T>(), y.data<T>(), y_grad.data<T>(), x_grad.data<T>(),
                     accumulate);
  });
}

}  // namespace trainyard::backend
