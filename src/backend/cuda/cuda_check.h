// Status codes of the CUDA runtime, cuBLAS and cuDNN turned into exceptions that name the
// failing call, so no error passes silently. Kernel launches report through check_launch().
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <string>

namespace trainyard::backend::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* call, const char* file,
                                   int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file,
                                     int line);
[[noreturn]] void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file,
                                    int line);

inline void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess) throw_cuda_error(status, call, file, line);
}
inline void check(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS) throw_cublas_error(status, call, file, line);
}
inline void check(cudnnStatus_t status, const char* call, const char* file, int line) {
  if (status != CUDNN_STATUS_SUCCESS) throw_cudnn_error(status, call, file, line);
}

// The GPU architectures this binary carries kernels for, comma-separated ("75,80,90"),
// and the message for a device none of them runs on: "no kernel image for compute capability
// 7.0; this build targets 7.5–9.0".
std::string build_architectures();
bool runs_on_compute_capability(int major, int minor);
std::string no_kernel_image_message(int major, int minor);

}  // namespace trainyard::backend::cuda

#define TY_CUDA_CHECK(call) ::trainyard::backend::cuda::check((call), #call, __FILE__, __LINE__)
// After every kernel launch: a bad launch configuration or a missing kernel image shows here.
#define TY_CUDA_CHECK_LAUNCH(kernel_name) \
  ::trainyard::backend::cuda::check(cudaGetLastError(), kernel_name, __FILE__, __LINE__)
