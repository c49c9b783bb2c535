// The device-side check of class labels for sparse losses and metrics: one pass that finds the
// first row whose label is not a class index and notes it in the backend's fault record.
#include <string>

#include "backend/cuda/cuda_common.cuh"
#include "backend/cuda/labels.cuh"

namespace trainyard::backend::cuda {
namespace {

// One block: batches hold at most thousands of labels, and a single block can find the first
// bad row and note its value in one launch, with no ordering between blocks to arrange.
__global__ void check_labels_kernel(LabelView labels, int64_t rows, int64_t classes,
                                    const char* entry, DeviceFault* fault) {
  __shared__ unsigned long long first_bad[kThreadsPerBlock];
  // A fault already noted stays the one reported.
  if (fault->noted != 0) return;
  unsigned long long first = DeviceFault::kNoRow;
  for (int64_t r = threadIdx.x; r < rows && first == DeviceFault::kNoRow; r += blockDim.x) {
    if (!is_class_index(label_at(labels, r), classes)) first = static_cast<unsigned long long>(r);
  }
  first_bad[threadIdx.x] = first;
  __syncthreads();
  for (unsigned int half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half && first_bad[threadIdx.x + half] < first_bad[threadIdx.x]) {
      first_bad[threadIdx.x] = first_bad[threadIdx.x + half];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0 && first_bad[0] != DeviceFault::kNoRow) {
    fault->row = first_bad[0];
    fault->label = label_at(labels, static_cast<int64_t>(first_bad[0]));
    fault->classes = classes;
    fault->entry = entry;
    fault->noted = 1;
  }
}

bool supported_label_dtype(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kFloat64 || dtype == DType::kInt32 ||
         dtype == DType::kInt64 || dtype == DType::kUInt8;
}

}  // namespace

void check_labels(CudaBackend& backend, const char* entry, const Tensor& labels, int64_t rows,
                  int64_t classes) {
  if (rows == 0) return;
  if (!supported_label_dtype(labels.dtype())) {
    throw ValueError(std::string(entry) + ": labels of dtype " +
                     std::string(dtype_name(labels.dtype())) + " are not supported");
  }
  check_labels_kernel<<<1, kThreadsPerBlock, 0, backend.stream()>>>(
      label_view(labels), rows, classes, entry, backend.device_fault());
  TY_CUDA_CHECK_LAUNCH("check_labels_kernel");
}

}  // namespace trainyard::backend::cuda
