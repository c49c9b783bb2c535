// Concatenate's slice copies and ZeroPadding2D on the GPU. A tensor sliced along `axis` is
// viewed as [outer, axis * inner]: each outer index owns one contiguous run per tensor.
#include <string>

#include "backend/argument_checks.h"
#include "backend/cuda/cuda_common.cuh"

namespace trainyard::backend::cuda {
namespace {

void check_padding(const char* entry, const Padding2d& padding, const Tensor& x, const Tensor& y) {
  const Shape& in = x.shape();
  const Shape& out = y.shape();
  const bool ok = in.rank() == 4 && out.rank() == 4 && padding.top >= 0 && padding.bottom >= 0 &&
                  padding.left >= 0 && padding.right >= 0 && x.dtype() == y.dtype() &&
                  out[0] == in[0] && out[1] == in[1] + padding.top + padding.bottom &&
                  out[2] == in[2] + padding.left + padding.right && out[3] == in[3];
  if (!ok) {
    throw ShapeError(std::string(entry) + ": " + x.to_string() + " padded by (" +
                     std::to_string(padding.top) + ", " + std::to_string(padding.bottom) + "), (" +
                     std::to_string(padding.left) + ", " + std::to_string(padding.right) +
                     ") does not give " + y.to_string());
  }
}

// Element i of part (outer index o, position r in its run) sits at
// whole[o * whole_run + run_offset + r].
__device__ inline int64_t whole_index(const SliceGeometry& g, int64_t i) {
  return (i / g.part_run) * g.whole_run + g.run_offset + i % g.part_run;
}

template <typename T>
__global__ void insert_slice_kernel(SliceGeometry g, const T* part, T* whole, int64_t count) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    whole[whole_index(g, i)] = part[i];
  }
}

template <typename T>
__global__ void extract_slice_kernel(SliceGeometry g, const T* whole, T* part, int64_t count,
                                     bool accumulate) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    const T value = whole[whole_index(g, i)];
    part[i] = accumulate ? part[i] + value : value;
  }
}

// The four dimensions of x and y and the padding, passed by value to the kernels.
struct PadGeometry {
  int64_t height, width, channels;  // of x
  int64_t out_height, out_width;    // of y
  int64_t top, left;
};

PadGeometry pad_geometry(const Padding2d& padding, const Tensor& x, const Tensor& y) {
  const Shape& in = x.shape();
  const Shape& out = y.shape();
  return {in[1], in[2], in[3], out[1], out[2], padding.top, padding.left};
}

// One thread per element of y: a copy of x inside the border, zero on it.
template <typename T>
__global__ void zero_pad_forward_kernel(PadGeometry g, const T* x, T* y, int64_t count) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    const int64_t c = i % g.channels;
    const int64_t pixel = i / g.channels;
    const int64_t w = pixel % g.out_width - g.left;
    const int64_t row = pixel / g.out_width;  // n * out_height + output row
    const int64_t h = row % g.out_height - g.top;
    const int64_t n = row / g.out_height;
    const bool inside = h >= 0 && h < g.height && w >= 0 && w < g.width;
    y[i] = inside ? x[((n * g.height + h) * g.width + w) * g.channels + c] : T(0);
  }
}

// One thread per element of x_grad, read from the matching element inside y_grad's border.
template <typename T>
__global__ void zero_pad_backward_kernel(PadGeometry g, const T* y_grad, T* x_grad, int64_t count,
                                         bool accumulate) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    const int64_t c = i % g.channels;
    const int64_t pixel = i / g.channels;
    const int64_t w = pixel % g.width;
    const int64_t row = pixel / g.width;  // n * height + h
    const int64_t h = row % g.height;
    const int64_t n = row / g.height;
    const T value =
        y_grad[((n * g.out_height + h + g.top) * g.out_width + w + g.left) * g.channels + c];
    x_grad[i] = accumulate ? x_grad[i] + value : value;
  }
}

}  // namespace

void CudaBackend::insert_slice(const Tensor& part, int64_t axis, int64_t offset,
                               const Tensor& whole) {
  const SliceGeometry g = slice_geometry("insert_slice", part, axis, offset, whole);
  require_here("insert_slice", "part", part);
  require_here("insert_slice", "whole", whole);
  activate();
  dispatch_float(whole.dtype(), "insert_slice", [&](auto zero) {
    using T = decltype(zero);
    const int64_t count = part.num_elements();
    if (count == 0) return;
    insert_slice_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        g, static_cast<const T*>(part.raw_data()), static_cast<T*>(whole.raw_data()), count);
    TY_CUDA_CHECK_LAUNCH("insert_slice_kernel");
  });
}

void CudaBackend::extract_slice(const Tensor& whole, int64_t axis, int64_t offset,
                                const Tensor& part, bool accumulate) {
  const SliceGeometry g = slice_geometry("extract_slice", part, axis, offset, whole);
  require_here("extract_slice", "whole", whole);
  require_here("extract_slice", "part", part);
  activate();
  dispatch_float(whole.dtype(), "extract_slice", [&](auto zero) {
    using T = decltype(zero);
    const int64_t count = part.num_elements();
    if (count == 0) return;
    extract_slice_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        g, static_cast<const T*>(whole.raw_data()), static_cast<T*>(part.raw_data()), count,
        accumulate);
    TY_CUDA_CHECK_LAUNCH("extract_slice_kernel");
  });
}

void CudaBackend::zero_pad2d_forward(const Padding2d& padding, const Tensor& x, const Tensor& y) {
  check_padding("zero_pad2d_forward", padding, x, y);
  require_here("zero_pad2d_forward", "x", x);
  require_here("zero_pad2d_forward", "y", y);
  activate();
  dispatch_float(x.dtype(), "zero_pad2d_forward", [&](auto zero) {
    using T = decltype(zero);
    const int64_t count = y.num_elements();
    if (count == 0) return;
    zero_pad_forward_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        pad_geometry(padding, x, y), static_cast<const T*>(x.raw_data()),
        static_cast<T*>(y.raw_data()), count);
    TY_CUDA_CHECK_LAUNCH("zero_pad_forward_kernel");
  });
}

void CudaBackend::zero_pad2d_backward(const Padding2d& padding, const Tensor& y_grad,
                                      const Tensor& x_grad, bool accumulate) {
  check_padding("zero_pad2d_backward", padding, x_grad, y_grad);
  require_here("zero_pad2d_backward", "y_grad", y_grad);
  require_here("zero_pad2d_backward", "x_grad", x_grad);
  activate();
  dispatch_float(x_grad.dtype(), "zero_pad2d_backward", [&](auto zero) {
    using T = decltype(zero);
    const int64_t count = x_grad.num_elements();
    if (count == 0) return;
    zero_pad_backward_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        pad_geometry(padding, x_grad, y_grad), static_cast<const T*>(y_grad.raw_data()),
        static_cast<T*>(x_grad.raw_data()), count, accumulate);
    TY_CUDA_CHECK_LAUNCH("zero_pad_backward_kernel");
  });
}

}  // namespace trainyard::backend::cuda
