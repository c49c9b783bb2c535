#include "backend/cuda/cuda_backend.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cudnn_cache.h"
#include "core/error.h"

namespace trainyard::backend::cuda {
namespace {

void require_same_bytes(const char* entry, const Tensor& a, const Tensor& b) {
  if (a.nbytes() != b.nbytes()) {
    throw ShapeError(std::string(entry) + ": " + a.to_string() + " and " + b.to_string() +
                     " hold different byte counts");
  }
}

cudaDeviceProp device_properties(int index) {
  std::string reason;
  const int count = cuda_device_count(&reason);
  if (index < 0 || index >= count) {
    throw ValueError("no CUDA device cuda:" + std::to_string(index) + ": " +
                     (count == 0 ? reason
                                 : "this machine has " + std::to_string(count) +
                                       " (cuda:0 to cuda:" + std::to_string(count - 1) + ")"));
  }
  cudaDeviceProp properties{};
  TY_CUDA_CHECK(cudaGetDeviceProperties(&properties, index));
  if (!runs_on_compute_capability(properties.major, properties.minor)) {
    throw ValueError("cuda:" + std::to_string(index) + " (" + properties.name +
                     "): " + no_kernel_image_message(properties.major, properties.minor));
  }
  return properties;
}

cudaStream_t create_stream(int index) {
  TY_CUDA_CHECK(cudaSetDevice(index));
  cudaStream_t stream = nullptr;
  TY_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  return stream;
}

bool tf32_from_environment() {
  const char* value = std::getenv("TRAINYARD_ALLOW_TF32");
  return value == nullptr || std::strcmp(value, "0") != 0;
}

}  // namespace

CudaBackend::CudaBackend(int index)
    : index_(index),
      properties_(device_properties(index)),
      stream_(create_stream(index)),
      allocator_(index, stream_),
      cudnn_cache_(std::make_unique<CudnnCache>()),
      staging_(std::make_unique<PinnedStaging>(stream_)),
      allow_tf32_(tf32_from_environment()) {
  TY_CUDA_CHECK(cublasCreate(&cublas_));
  TY_CUDA_CHECK(cublasSetStream(cublas_, stream_));
  // cuBLAS's own workspace, owned here so a recorded step never makes cuBLAS allocate one
  // (after cublasSetStream, which resets it). Sizes as cuBLAS advises: 32 MiB from Hopper on.
  const size_t cublas_workspace_bytes = static_cast<size_t>(properties_.major >= 9 ? 32 : 4) << 20;
  TY_CUDA_CHECK(cublasSetWorkspace(cublas_, allocator_.allocate(cublas_workspace_bytes),
                                   cublas_workspace_bytes));
  TY_CUDA_CHECK(cudnnCreate(&cudnn_));
  TY_CUDA_CHECK(cudnnSetStream(cudnn_, stream_));
  set_allow_tf32(allow_tf32_);
  fault_device_ = static_cast<DeviceFault*>(allocator_.allocate(sizeof(DeviceFault)));
  const DeviceFault clear;
  TY_CUDA_CHECK(
      cudaMemcpyAsync(fault_device_, &clear, sizeof(clear), cudaMemcpyHostToDevice, stream_));
  TY_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

CudaBackend::~CudaBackend() {
  // Backends are never destroyed in a running program (tensors may outlive any scope); this
  // path only releases handles, without throwing.
  if (cudnn_ != nullptr) cudnnDestroy(cudnn_);
  if (cublas_ != nullptr) cublasDestroy(cublas_);
}

namespace {

// Whole numbers print without decimals ("10", not "10.000000"), as on the CPU.
std::string format_label(double value) {
  if (value == std::floor(value) && std::abs(value) < 1e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  return std::to_string(value);
}

}  // namespace

void CudaBackend::raise_device_faults() {
  if (!fault_pending_) return;
  fault_pending_ = false;
  DeviceFault fault;
  TY_CUDA_CHECK(cudaMemcpy(&fault, fault_device_, sizeof(fault), cudaMemcpyDeviceToHost));
  if (fault.noted == 0) return;
  const DeviceFault clear;
  TY_CUDA_CHECK(cudaMemcpy(fault_device_, &clear, sizeof(clear), cudaMemcpyHostToDevice));
  throw ValueError(std::string(fault.entry) + ": label " + format_label(fault.label) + " at row " +
                   std::to_string(fault.row) + " is not a class index in [0, " +
                   std::to_string(fault.classes) + ")");
}

void CudaBackend::activate() const {
  int current = -1;
  TY_CUDA_CHECK(cudaGetDevice(&current));
  if (current != index_) TY_CUDA_CHECK(cudaSetDevice(index_));
}

void CudaBackend::require_here(const char* entry, const char* what, const Tensor& tensor) const {
  if (!tensor.defined()) return;
  const Device where = tensor.device();
  if (where.type != DeviceType::kCuda || where.index != index_) {
    throw ValueError(std::string(entry) + ": " + what + " is on " + where.to_string() +
                     " but this backend runs on " + device().to_string() +
                     "; move it with backend::to_device first");
  }
}

void CudaBackend::set_allow_tf32(bool allow) {
  allow_tf32_ = allow;
  TY_CUDA_CHECK(
      cublasSetMathMode(cublas_, allow ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
}

void* CudaBackend::scratch(ScratchSlot slot, size_t bytes) {
  Scratch& region = scratch_[static_cast<size_t>(slot)];
  if (bytes <= region.bytes && region.data != nullptr) return region.data;
  refuse_in_capture("scratch", "a scratch region would grow");
  if (region.data != nullptr) {
    allocator_.deallocate(region.data, region.bytes);
    ++scratch_generation_;  // recordings that used the old region are stale
  }
  region.data = nullptr;
  region.bytes = 0;
  const size_t size = CachingAllocator::rounded_size(bytes);
  region.data = allocator_.allocate(size);
  region.bytes = size;
  return region.data;
}

void CudaBackend::copy_from_host(const Tensor& host_source, const Tensor& out) {
  require_same_bytes("copy_from_host", host_source, out);
  host_source.require_host("copy_from_host");
  require_here("copy_from_host", "out", out);
  refuse_in_capture("copy_from_host", "it reads host memory");
  if (out.nbytes() == 0) return;
  activate();
  staging_->copy_to_device(out.raw_data(), host_source.raw_data(), out.nbytes());
}

void CudaBackend::copy_to_host(const Tensor& source, const Tensor& host_out) {
  require_same_bytes("copy_to_host", source, host_out);
  host_out.require_host("copy_to_host");
  require_here("copy_to_host", "source", source);
  refuse_in_capture("copy_to_host", "it waits for the device");
  if (source.nbytes() == 0) return;
  activate();
  TY_CUDA_CHECK(cudaMemcpyAsync(host_out.raw_data(), source.raw_data(), source.nbytes(),
                                cudaMemcpyDeviceToHost, stream_));
  TY_CUDA_CHECK(cudaStreamSynchronize(stream_));
  raise_device_faults();
}

void CudaBackend::synchronize() {
  refuse_in_capture("synchronize", "it waits for the device");
  activate();
  TY_CUDA_CHECK(cudaStreamSynchronize(stream_));
  raise_device_faults();
}

int cuda_device_count(std::string* reason) {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    if (reason != nullptr) {
      *reason = std::string("CUDA reports no usable device (") + cudaGetErrorName(status) + ": " +
                cudaGetErrorString(status) + ")";
    }
    return 0;
  }
  if (count == 0 && reason != nullptr) *reason = "CUDA reports no device on this machine";
  return count;
}

CudaBackend& cuda_backend(int index) {
  // Never destroyed: tensors held in static objects may free their memory after main returns.
  static std::mutex mutex;
  static std::vector<CudaBackend*> backends;
  std::lock_guard lock(mutex);
  if (index >= 0 && static_cast<size_t>(index) < backends.size() && backends[index] != nullptr) {
    return *backends[index];
  }
  auto* backend = new CudaBackend(index);
  if (backends.size() <= static_cast<size_t>(index)) backends.resize(index + 1, nullptr);
  backends[index] = backend;
  return *backend;
}

namespace {

Backend& cuda_backend_factory(int index) {
  return cuda_backend(index);
}

// Linked as object files into every program that uses CUDA, so this always runs.
const bool registered = [] {
  register_backend_factory(DeviceType::kCuda, &cuda_backend_factory);
  return true;
}();

}  // namespace

}  // namespace trainyard::backend::cuda
