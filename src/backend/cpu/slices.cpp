// Copies between a tensor and a slice of a larger one: Concatenate along any axis, and
// ZeroPadding2D's border. A tensor sliced along `axis` is viewed as [outer, axis, inner]:
// each outer index owns one contiguous run per tensor, so the copies are plain memcpy-like
// loops, split over outer indices when large.
#include <algorithm>

#include "backend/argument_checks.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_common.h"

namespace trainyard::backend {
namespace {

int64_t outer_grain(int64_t run) {
  return std::max<int64_t>(1, cpu::kParallelGrain / std::max<int64_t>(run, 1));
}

void check_padding(const char* entry, const Padding2d& padding, const Tensor& x, const Tensor& y) {
  const Shape& in = x.shape();
  const Shape& out = y.shape();
  // Compared dimension by dimension: building a Shape to compare with would allocate.
  bool ok = in.rank() == 4 && out.rank() == 4 && padding.top >= 0 && padding.bottom >= 0 &&
            padding.left >= 0 && padding.right >= 0 && x.dtype() == y.dtype() && out[0] == in[0] &&
            out[1] == in[1] + padding.top + padding.bottom &&
            out[2] == in[2] + padding.left + padding.right && out[3] == in[3];
  if (!ok) {
    throw ShapeError(std::string(entry) + ": " + x.to_string() + " padded by (" +
                     std::to_string(padding.top) + ", " + std::to_string(padding.bottom) + "), (" +
                     std::to_string(padding.left) + ", " + std::to_string(padding.right) +
                     ") does not give " + y.to_string());
  }
}

}  // namespace

void CpuBackend::insert_slice(const Tensor& part, int64_t axis, int64_t offset,
                              const Tensor& whole) {
  SliceGeometry g = slice_geometry("insert_slice", part, axis, offset, whole);
  cpu::dispatch_float(whole.dtype(), "insert_slice", [&](auto zero) {
    using T = decltype(zero);
    const T* in = part.data<T>();
    T* out = whole.data<T>();
    cpu::for_range(g.outer, outer_grain(g.part_run), [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        std::copy_n(in + o * g.part_run, g.part_run, out + o * g.whole_run + g.run_offset);
      }
    });
  });
}

void CpuBackend::extract_slice(const Tensor& whole, int64_t axis, int64_t offset,
                               const Tensor& part, bool accumulate) {
  SliceGeometry g = slice_geometry("extract_slice", part, axis, offset, whole);
  cpu::dispatch_float(whole.dtype(), "extract_slice", [&](auto zero) {
    using T = decltype(zero);
    const T* in = whole.data<T>();
    T* out = part.data<T>();
    cpu::for_range(g.outer, outer_grain(g.part_run), [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        const T* source = in + o * g.whole_run + g.run_offset;
        T* target = out + o * g.part_run;
        if (accumulate) {
          for (int64_t i = 0; i < g.part_run; ++i) target[i] += source[i];
        } else {
          std::copy_n(source, g.part_run, target);
        }
      }
    });
  });
}

void CpuBackend::zero_pad2d_forward(const Padding2d& padding, const Tensor& x, const Tensor& y) {
  check_padding("zero_pad2d_forward", padding, x, y);
  const Shape& in = x.shape();
  const Shape& out = y.shape();
  int64_t in_row = in[2] * in[3];  // one image row of x, W * C values
  int64_t out_row = out[2] * out[3];
  int64_t left = padding.left * in[3];
  cpu::dispatch_float(x.dtype(), "zero_pad2d_forward", [&](auto zero) {
    using T = decltype(zero);
    const T* source = x.data<T>();
    T* target = y.data<T>();
    // One task per output image row: zeros, or zeros around a copy of an input row.
    cpu::for_range(out[0] * out[1], outer_grain(out_row), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        int64_t n = row / out[1], h = row % out[1] - padding.top;
        T* line = target + row * out_row;
        if (h < 0 || h >= in[1]) {
          std::fill(line, line + out_row, T(0));
          continue;
        }
        std::fill(line, line + left, T(0));
        std::copy_n(source + (n * in[1] + h) * in_row, in_row, line + left);
        std::fill(line + left + in_row, line + out_row, T(0));
      }
    });
  });
}

void CpuBackend::zero_pad2d_backward(const Padding2d& padding, const Tensor& y_grad,
                                     const Tensor& x_grad, bool accumulate) {
  check_padding("zero_pad2d_backward", padding, x_grad, y_grad);
  const Shape& in = x_grad.shape();
  const Shape& out = y_grad.shape();
  int64_t in_row = in[2] * in[3];
  int64_t out_row = out[2] * out[3];
  int64_t left = padding.left * in[3];
  cpu::dispatch_float(x_grad.dtype(), "zero_pad2d_backward", [&](auto zero) {
    using T = decltype(zero);
    const T* source = y_grad.data<T>();
    T* target = x_grad.data<T>();
    cpu::for_range(in[0] * in[1], outer_grain(in_row), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        int64_t n = row / in[1], h = row % in[1];
        const T* line = source + (n * out[1] + h + padding.top) * out_row + left;
        T* result = target + row * in_row;
        if (accumulate) {
          for (int64_t i = 0; i < in_row; ++i) result[i] += line[i];
        } else {
          std::copy_n(line, in_row, result);
        }
      }
    });
  });
}

}  // namespace trainyard::backend
