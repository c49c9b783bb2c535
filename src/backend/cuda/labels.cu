// The device-side check of class labels for sparse losses and metrics: one pass that finds the
// first row whose label is not a class index, reported with the CPU's message.
#include <cmath>
#include <string>

#include "backend/cuda/cuda_common.cuh"
#include "backend/cuda/labels.cuh"

namespace trainyard::backend::cuda {
namespace {

constexpr unsigned long long kNoBadRow = ~0ULL;

__global__ void find_bad_label_kernel(LabelView labels, int64_t rows, int64_t classes,
                                      unsigned long long* first_bad_row) {
  for (int64_t r = global_thread_index(); r < rows; r += grid_stride()) {
    if (!is_class_index(label_at(labels, r), classes)) {
      atomicMin(first_bad_row, static_cast<unsigned long long>(r));
    }
  }
}

bool supported_label_dtype(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kFloat64 || dtype == DType::kInt32 ||
         dtype == DType::kInt64 || dtype == DType::kUInt8;
}

// Whole numbers print without decimals ("10", not "10.000000"), as on the CPU.
std::string format_label(double value) {
  if (value == std::floor(value) && std::abs(value) < 1e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  return std::to_string(value);
}

// Label `row` read back to the host, for the error message only.
double host_label(CudaBackend& backend, const Tensor& labels, int64_t row) {
  const size_t size = dtype_size(labels.dtype());
  unsigned char bytes[8] = {};
  TY_CUDA_CHECK(cudaMemcpyAsync(bytes, static_cast<const char*>(labels.raw_data()) + row * size,
                                size, cudaMemcpyDeviceToHost, backend.stream()));
  TY_CUDA_CHECK(cudaStreamSynchronize(backend.stream()));
  switch (labels.dtype()) {
    case DType::kFloat32:
      return *reinterpret_cast<const float*>(bytes);
    case DType::kFloat64:
      return *reinterpret_cast<const double*>(bytes);
    case DType::kInt32:
      return *reinterpret_cast<const int32_t*>(bytes);
    case DType::kInt64:
      return static_cast<double>(*reinterpret_cast<const int64_t*>(bytes));
    default:
      return *reinterpret_cast<const uint8_t*>(bytes);
  }
}

}  // namespace

void check_labels(CudaBackend& backend, const char* entry, const Tensor& labels, int64_t rows,
                  int64_t classes) {
  if (rows == 0) return;
  if (!supported_label_dtype(labels.dtype())) {
    throw ValueError(std::string(entry) + ": labels of dtype " +
                     std::string(dtype_name(labels.dtype())) + " are not supported");
  }
  auto* first_bad_row = static_cast<unsigned long long*>(
      backend.scratch(ScratchSlot::kWorkspace, sizeof(unsigned long long)));
  TY_CUDA_CHECK(cudaMemsetAsync(first_bad_row, 0xff, sizeof(unsigned long long), backend.stream()));
  find_bad_label_kernel<<<blocks_for(rows), kThreadsPerBlock, 0, backend.stream()>>>(
      label_view(labels), rows, classes, first_bad_row);
  TY_CUDA_CHECK_LAUNCH("find_bad_label_kernel");
  unsigned long long bad_row = kNoBadRow;
  TY_CUDA_CHECK(cudaMemcpyAsync(&bad_row, first_bad_row, sizeof(bad_row), cudaMemcpyDeviceToHost,
                                backend.stream()));
  TY_CUDA_CHECK(cudaStreamSynchronize(backend.stream()));
  if (bad_row == kNoBadRow) return;
  const int64_t row = static_cast<int64_t>(bad_row);
  throw ValueError(std::string(entry) + ": label " +
                   format_label(host_label(backend, labels, row)) + " at row " +
                   std::to_string(row) + " is not a class index in [0, " + std::to_string(classes) +
                   ")");
}

}  // namespace trainyard::backend::cuda
