// The handful of NVML (libnvidia-ml) entry points the GPU inventory needs, declared here
// from NVML's documented C API so that trainyard builds without the CUDA toolkit, and
// resolved with dlsym at run time.
#pragma once

#include <memory>
#include <string>

#include "platform/dynamic_library.h"

struct nvmlDevice_st;  // opaque; NVML only hands out pointers to it

namespace trainyard::platform::nvml {

using Return = int;             // nvmlReturn_t
using Device = nvmlDevice_st*;  // nvmlDevice_t
using EnableState = int;        // nvmlEnableState_t: 0 disabled, 1 enabled

inline constexpr Return kSuccess = 0;
inline constexpr Return kErrorNotSupported = 3;
inline constexpr Return kErrorNoPermission = 4;
inline constexpr Return kErrorFunctionNotFound = 13;
inline constexpr EnableState kFeatureEnabled = 1;

// Buffer sizes NVML documents as always large enough.
inline constexpr unsigned kDriverVersionBufferSize = 80;
inline constexpr unsigned kDeviceNameBufferSize = 96;
inline constexpr unsigned kDeviceUuidBufferSize = 96;

struct Memory {  // nvmlMemory_t
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

struct PciInfo {  // nvmlPciInfo_t (the layout of nvmlDeviceGetPciInfo_v2 and _v3)
  char bus_id_legacy[16];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pci_device_id;
  unsigned int pci_subsystem_id;
  char bus_id[32];
};

using InitFn = Return (*)();                                     // nvmlInit_v2
using ShutdownFn = Return (*)();                                 // nvmlShutdown
using ErrorStringFn = const char* (*)(Return);                   // nvmlErrorString
using SystemGetDriverVersionFn = Return (*)(char*, unsigned);    // nvmlSystemGetDriverVersion
using SystemGetCudaDriverVersionFn = Return (*)(int*);           // nvmlSystemGetCudaDriverVersion
using DeviceGetCountFn = Return (*)(unsigned*);                  // nvmlDeviceGetCount_v2
using DeviceGetHandleByIndexFn = Return (*)(unsigned, Device*);  // ..._v2
using DeviceGetStringFn = Return (*)(Device, char*, unsigned);   // nvmlDeviceGetName / GetUUID
using DeviceGetMemoryInfoFn = Return (*)(Device, Memory*);
using DeviceGetCudaComputeCapabilityFn = Return (*)(Device, int*, int*);
using DeviceGetPciInfoFn = Return (*)(Device, PciInfo*);
using DeviceGetPersistenceModeFn = Return (*)(Device, EnableState*);
using DeviceGetEccModeFn = Return (*)(Device, EnableState*, EnableState*);  // current, pending
using DeviceGetMigModeFn = Return (*)(Device, unsigned*, unsigned*);        // current, pending

// libnvidia-ml with its entry points resolved. The required ones are never null; the
// optional ones (marked) are null when the driver is too old to export them.
class NvmlLibrary {
 public:
  // Opens `path` and resolves the entry points. Returns nullptr with `error` set when the
  // library does not open or lacks a required entry point. Does not call nvmlInit.
  static std::unique_ptr<NvmlLibrary> load(const std::string& path, std::string& error);

  // nvmlErrorString's text for `code`, with the number: "Driver Not Loaded (9)".
  std::string describe(Return code) const;

  InitFn init = nullptr;
  ShutdownFn shutdown = nullptr;
  ErrorStringFn error_string = nullptr;
  SystemGetDriverVersionFn system_get_driver_version = nullptr;
  SystemGetCudaDriverVersionFn system_get_cuda_driver_version = nullptr;  // optional
  DeviceGetCountFn device_get_count = nullptr;
  DeviceGetHandleByIndexFn device_get_handle_by_index = nullptr;
  DeviceGetStringFn device_get_name = nullptr;
  DeviceGetStringFn device_get_uuid = nullptr;
  DeviceGetMemoryInfoFn device_get_memory_info = nullptr;
  DeviceGetCudaComputeCapabilityFn device_get_cuda_compute_capability = nullptr;  // optional
  DeviceGetPciInfoFn device_get_pci_info = nullptr;                               // optional
  DeviceGetPersistenceModeFn device_get_persistence_mode = nullptr;               // optional
  DeviceGetEccModeFn device_get_ecc_mode = nullptr;                               // optional
  DeviceGetMigModeFn device_get_mig_mode = nullptr;                               // optional

 private:
  std::unique_ptr<DynamicLibrary> library_;
};

}  // namespace trainyard::platform::nvml
