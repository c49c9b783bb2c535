// Embedding lookup and its gradient on the GPU. A validation kernel finds the first bad index
// before anything is written, and the host throws the CPU backend's error for it; the
// gradient scatters with atomic adds, so rows hit several times sum in no fixed order.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cuda/cuda_common.cuh"

namespace trainyard::backend::cuda {
namespace {

// "[1, 3]": the position of flat element `flat` in a tensor of `shape` (as the CPU says it).
std::string position_of(const Shape& shape, int64_t flat) {
  std::vector<int64_t> position(static_cast<size_t>(shape.rank()));
  for (int64_t axis = shape.rank() - 1; axis >= 0; --axis) {
    const int64_t dim = shape[axis];
    position[static_cast<size_t>(axis)] = dim == 0 ? 0 : flat % dim;
    flat = dim == 0 ? 0 : flat / dim;
  }
  return Shape(position).to_string();
}

std::string format_value(double value) {
  if (value == std::floor(value) && std::abs(value) < 1e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  return std::to_string(value);
}

void check_table(const char* entry, const Tensor& indices, const Tensor& table,
                 const Tensor& values) {
  if (table.shape().rank() != 2 || values.dtype() != table.dtype() ||
      values.num_elements() != indices.num_elements() * table.shape()[1]) {
    throw ShapeError(std::string(entry) + ": indices " + indices.to_string() + ", table " +
                     table.to_string() + " and output " + values.to_string() +
                     " do not fit indices [...] -> table [V, D] rows [..., D]");
  }
}

// Calls function(I{}) with I the element type of the indices; float16 and bfloat16 are a
// ValueError, as on the CPU.
template <typename Function>
void dispatch_index(const char* entry, DType dtype, Function&& function) {
  switch (dtype) {
    case DType::kFloat32:
      function(float{});
      return;
    case DType::kFloat64:
      function(double{});
      return;
    case DType::kInt32:
      function(int32_t{});
      return;
    case DType::kInt64:
      function(int64_t{});
      return;
    case DType::kUInt8:
      function(uint8_t{});
      return;
    default:
      throw ValueError(std::string(entry) + ": indices of dtype " + std::string(dtype_name(dtype)) +
                       " are not supported");
  }
}

// The index as the CPU reads it: through double, so int64 and float indices agree.
template <typename I>
__device__ inline double index_value(const I* indices, int64_t i) {
  return static_cast<double>(indices[i]);
}

// first_bad = the smallest position whose index is not an integer in [0, rows).
template <typename I>
__global__ void validate_kernel(const I* indices, int64_t count, int64_t rows,
                                unsigned long long* first_bad) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    const double v = index_value(indices, i);
    const bool integer = v == floor(v) && !isnan(v);
    const bool in_range = v >= 0 && v < static_cast<double>(rows);
    if (!integer || !in_range) atomicMin(first_bad, static_cast<unsigned long long>(i));
  }
}

template <typename I, typename T>
__global__ void gather_kernel(const I* indices, const T* table, T* y, int64_t positions,
                              int64_t width) {
  const int64_t count = positions * width;
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    const int64_t p = i / width, j = i % width;
    const auto row = static_cast<int64_t>(index_value(indices, p));
    y[i] = table[row * width + j];
  }
}

template <typename I, typename T>
__global__ void scatter_add_kernel(const I* indices, const T* y_grad, T* table_grad,
                                   int64_t positions, int64_t width) {
  const int64_t count = positions * width;
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    const int64_t p = i / width, j = i % width;
    const auto row = static_cast<int64_t>(index_value(indices, p));
    atomicAdd(&table_grad[row * width + j], y_grad[i]);
  }
}

// The CPU's message for the index at `position`, which the validation kernel found bad.
[[noreturn]] void throw_bad_index(const char* entry, const Tensor& indices, int64_t position,
                                  int64_t rows, cudaStream_t stream) {
  double v = 0;
  dispatch_index(entry, indices.dtype(), [&](auto zero) {
    using I = decltype(zero);
    I value{};
    TY_CUDA_CHECK(cudaMemcpyAsync(&value, static_cast<const I*>(indices.raw_data()) + position,
                                  sizeof(I), cudaMemcpyDeviceToHost, stream));
    TY_CUDA_CHECK(cudaStreamSynchronize(stream));
    v = static_cast<double>(value);
  });
  const std::string prefix = std::string(entry) + ": index " + format_value(v) + " at position " +
                             position_of(indices.shape(), position);
  if (v != std::floor(v) || std::isnan(v)) throw ValueError(prefix + " is not an integer");
  throw ValueError(prefix + " is out of range [0, " + std::to_string(rows) + ")");
}

// Throws ValueError for the first index that is not an integer in [0, rows). Waits for the
// GPU: whether to go on is a host decision.
void check_indices(CudaBackend& backend, const char* entry, const Tensor& indices, int64_t rows) {
  const int64_t count = indices.num_elements();
  backend.refuse_in_capture(entry, "it reads its indices back to check them");
  dispatch_index(entry, indices.dtype(), [&](auto zero) {
    using I = decltype(zero);
    if (count == 0) return;
    cudaStream_t stream = backend.stream();
    auto* first_bad = static_cast<unsigned long long*>(
        backend.scratch(ScratchSlot::kReduction, sizeof(unsigned long long)));
    // All ones: larger than any position, so "none bad" survives every atomicMin.
    TY_CUDA_CHECK(cudaMemsetAsync(first_bad, 0xFF, sizeof(unsigned long long), stream));
    validate_kernel<I><<<blocks_for(count), kThreadsPerBlock, 0, stream>>>(
        static_cast<const I*>(indices.raw_data()), count, rows, first_bad);
    TY_CUDA_CHECK_LAUNCH("validate_kernel");
    unsigned long long host_first_bad = 0;
    TY_CUDA_CHECK(cudaMemcpyAsync(&host_first_bad, first_bad, sizeof(host_first_bad),
                                  cudaMemcpyDeviceToHost, stream));
    TY_CUDA_CHECK(cudaStreamSynchronize(stream));
    if (host_first_bad < static_cast<unsigned long long>(count)) {
      throw_bad_index(entry, indices, static_cast<int64_t>(host_first_bad), rows, stream);
    }
  });
}

}  // namespace

void CudaBackend::embedding_forward(const Tensor& indices, const Tensor& table, const Tensor& y) {
  const char* entry = "embedding_forward";
  check_table(entry, indices, table, y);
  require_here(entry, "indices", indices);
  require_here(entry, "table", table);
  require_here(entry, "y", y);
  activate();
  const int64_t rows = table.shape()[0];
  const int64_t width = table.shape()[1];
  check_indices(*this, entry, indices, rows);
  const int64_t positions = indices.num_elements();
  if (positions * width == 0) return;
  dispatch_float(table.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    dispatch_index(entry, indices.dtype(), [&](auto index_zero) {
      using I = decltype(index_zero);
      gather_kernel<I, T><<<blocks_for(positions * width), kThreadsPerBlock, 0, stream_>>>(
          static_cast<const I*>(indices.raw_data()), static_cast<const T*>(table.raw_data()),
          static_cast<T*>(y.raw_data()), positions, width);
      TY_CUDA_CHECK_LAUNCH("gather_kernel");
    });
  });
}

void CudaBackend::embedding_backward(const Tensor& indices, const Tensor& y_grad,
                                     const Tensor& table_grad, bool accumulate) {
  const char* entry = "embedding_backward";
  check_table(entry, indices, table_grad, y_grad);
  require_here(entry, "indices", indices);
  require_here(entry, "y_grad", y_grad);
  require_here(entry, "table_grad", table_grad);
  activate();
  const int64_t rows = table_grad.shape()[0];
  const int64_t width = table_grad.shape()[1];
  check_indices(*this, entry, indices, rows);
  const int64_t positions = indices.num_elements();
  dispatch_float(table_grad.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    if (!accumulate && table_grad.nbytes() > 0) {
      TY_CUDA_CHECK(cudaMemsetAsync(table_grad.raw_data(), 0, table_grad.nbytes(), stream_));
    }
    if (positions * width == 0) return;
    dispatch_index(entry, indices.dtype(), [&](auto index_zero) {
      using I = decltype(index_zero);
      scatter_add_kernel<I, T><<<blocks_for(positions * width), kThreadsPerBlock, 0, stream_>>>(
          static_cast<const I*>(indices.raw_data()), static_cast<const T*>(y_grad.raw_data()),
          static_cast<T*>(table_grad.raw_data()), positions, width);
      TY_CUDA_CHECK_LAUNCH("scatter_add_kernel");
    });
  });
}

}  // namespace trainyard::backend::cuda
