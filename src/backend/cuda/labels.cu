// The device-side check of class labels for sparse losses and metrics: one pass that finds the
// first row whose label is not a class index and notes it in the backend's fault record.
#include <string>

#include "backend/cuda/cuda_common.cuh"
#include "backend/cuda/labels.cuh"

namespace trainyard::backend::cuda {
namespace {

__global__ void find_bad_label_kernel(LabelView labels, int64_t rows, int64_t classes,
                                      DeviceFault* fault) {
  // A fault already noted stays the one reported: its row must keep matching its label.
  if (fault->noted != 0) return;
  for (int64_t r = global_thread_index(); r < rows; r += grid_stride()) {
    if (!is_class_index(label_at(labels, r), classes)) {
      atomicMin(&fault->row, static_cast<unsigned long long>(r));
    }
  }
}

// One thread, after the search: keeps the bad label's value, the class count and the entry.
__global__ void note_bad_label_kernel(LabelView labels, int64_t classes, const char* entry,
                                      DeviceFault* fault) {
  if (fault->noted != 0 || fault->row == DeviceFault::kNoRow) return;
  fault->label = label_at(labels, static_cast<int64_t>(fault->row));
  fault->classes = classes;
  fault->entry = entry;
  fault->noted = 1;
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
  DeviceFault* fault = backend.device_fault();
  find_bad_label_kernel<<<blocks_for(rows), kThreadsPerBlock, 0, backend.stream()>>>(
      label_view(labels), rows, classes, fault);
  TY_CUDA_CHECK_LAUNCH("find_bad_label_kernel");
  note_bad_label_kernel<<<1, 1, 0, backend.stream()>>>(label_view(labels), classes, entry, fault);
  TY_CUDA_CHECK_LAUNCH("note_bad_label_kernel");
}

}  // namespace trainyard::backend::cuda
