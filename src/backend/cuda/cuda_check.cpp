#include "backend/cuda/cuda_check.h"

#include <algorithm>
#include <sstream>
#include <vector>

#include "core/error.h"

#ifndef TRAINYARD_CUDA_ARCHITECTURES
#error "TRAINYARD_CUDA_ARCHITECTURES must name the architectures the build targets"
#endif

namespace trainyard::backend::cuda {
namespace {

std::string where(const char* call, const char* file, int line) {
  std::string path = file;
  if (auto slash = path.rfind("src/"); slash != std::string::npos) path = path.substr(slash);
  return std::string(call) + " (" + path + ":" + std::to_string(line) + ")";
}

// "75,80-real,90" -> {75, 80, 90}.
std::vector<int> architecture_numbers() {
  std::vector<int> numbers;
  std::stringstream list(build_architectures());
  std::string item;
  while (std::getline(list, item, ',')) {
    int value = 0;
    for (char c : item) {
      if (c < '0' || c > '9') break;
      value = value * 10 + (c - '0');
    }
    if (value > 0) numbers.push_back(value);
  }
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

std::string dotted(int architecture) {
  return std::to_string(architecture / 10) + "." + std::to_string(architecture % 10);
}

}  // namespace

std::string build_architectures() {
  return TRAINYARD_CUDA_ARCHITECTURES;
}

bool runs_on_compute_capability(int major, int minor) {
  // Each architecture carries machine code (runs on its major version from its minor up)
  // and PTX (compiled by the driver for any newer device).
  const int device = major * 10 + minor;
  for (int architecture : architecture_numbers()) {
    if (architecture <= device) return true;
  }
  return false;
}

std::string no_kernel_image_message(int major, int minor) {
  std::vector<int> numbers = architecture_numbers();
  std::string targets = numbers.empty() ? std::string("none")
                                        : dotted(numbers.front()) + "–" + dotted(numbers.back());
  return "no kernel image for compute capability " + std::to_string(major) + "." +
         std::to_string(minor) + "; this build targets " + targets;
}

void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  // Clear the sticky launch error so the next check reports its own call.
  cudaGetLastError();
  if (status == cudaErrorNoKernelImageForDevice) {
    int device = 0;
    cudaDeviceProp properties{};
    if (cudaGetDevice(&device) == cudaSuccess &&
        cudaGetDeviceProperties(&properties, device) == cudaSuccess) {
      throw ValueError(no_kernel_image_message(properties.major, properties.minor) + " (" +
                       where(call, file, line) + ")");
    }
  }
  if (status == cudaErrorMemoryAllocation) {
    throw ResourceError("CUDA out of memory in " + where(call, file, line));
  }
  throw InternalError("CUDA error " + std::string(cudaGetErrorName(status)) + " (" +
                      cudaGetErrorString(status) + ") in " + where(call, file, line));
}

void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  throw InternalError("cuBLAS error " + std::string(cublasGetStatusName(status)) + " (" +
                      cublasGetStatusString(status) + ") in " + where(call, file, line));
}

void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line) {
  throw InternalError("cuDNN error " + std::string(cudnnGetErrorString(status)) + " in " +
                      where(call, file, line));
}

}  // namespace trainyard::backend::cuda
