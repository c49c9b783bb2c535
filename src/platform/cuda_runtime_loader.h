// The few CUDA driver API (libcuda) and CUDA runtime (libcudart) entry points the GPU
// inventory needs, declared here from the documented C API so that trainyard builds
// without the CUDA toolkit, and resolved with dlsym at run time.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/dynamic_library.h"

namespace trainyard::platform::cuda {

using Result = int;  // CUresult
using Device = int;  // CUdevice
struct Uuid {        // CUuuid
  unsigned char bytes[16];
};

inline constexpr Result kSuccess = 0;
inline constexpr Result kErrorNoDevice = 100;

// CUdevice_attribute values.
inline constexpr int kAttributePciBusId = 33;
inline constexpr int kAttributePciDeviceId = 34;
inline constexpr int kAttributePciDomainId = 50;
inline constexpr int kAttributeComputeCapabilityMajor = 75;
inline constexpr int kAttributeComputeCapabilityMinor = 76;

using InitFn = Result (*)(unsigned);                         // cuInit
using DriverGetVersionFn = Result (*)(int*);                 // cuDriverGetVersion
using DeviceGetCountFn = Result (*)(int*);                   // cuDeviceGetCount
using DeviceGetFn = Result (*)(Device*, int);                // cuDeviceGet
using DeviceGetNameFn = Result (*)(char*, int, Device);      // cuDeviceGetName
using DeviceTotalMemFn = Result (*)(std::size_t*, Device);   // cuDeviceTotalMem_v2
using DeviceGetAttributeFn = Result (*)(int*, int, Device);  // cuDeviceGetAttribute
using DeviceGetUuidFn = Result (*)(Uuid*, Device);           // cuDeviceGetUuid
using GetErrorStringFn = Result (*)(Result, const char**);   // cuGetErrorString

// libcuda with its entry points resolved; the optional ones (marked) may be null.
class CudaDriverLibrary {
 public:
  // Opens `path` and resolves the entry points. Returns nullptr with `error` set when the
  // library does not open or lacks a required entry point. Does not call cuInit.
  static std::unique_ptr<CudaDriverLibrary> load(const std::string& path, std::string& error);

  // cuGetErrorString's text for `code`, with the number: "no CUDA-capable device... (100)".
  std::string describe(Result code) const;
  // Call after cuInit succeeded: the driver's threads then live in the library's code.
  void keep_loaded() { library_->keep_loaded(); }

  InitFn init = nullptr;
  DriverGetVersionFn driver_get_version = nullptr;
  DeviceGetCountFn device_get_count = nullptr;
  DeviceGetFn device_get = nullptr;
  DeviceGetNameFn device_get_name = nullptr;
  DeviceTotalMemFn device_total_mem = nullptr;
  DeviceGetAttributeFn device_get_attribute = nullptr;
  DeviceGetUuidFn device_get_uuid = nullptr;    // optional
  GetErrorStringFn get_error_string = nullptr;  // optional

 private:
  std::unique_ptr<DynamicLibrary> library_;
};

// The version of the first CUDA runtime library in `candidates` that opens and answers
// cudaRuntimeGetVersion (encoded as 12040 for 12.4), or nullopt. Never throws.
std::optional<int> cuda_runtime_version(const std::vector<std::string>& candidates);

}  // namespace trainyard::platform::cuda
