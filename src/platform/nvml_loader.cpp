#include "platform/nvml_loader.h"

namespace trainyard::platform::nvml {

std::unique_ptr<NvmlLibrary> NvmlLibrary::load(const std::string& path, std::string& error) {
  std::string open_error;
  auto library = DynamicLibrary::open(path, open_error);
  if (!library) {
    error = path + " not loadable: " + open_error;
    return nullptr;
  }
  auto nvml = std::make_unique<NvmlLibrary>();
  const DynamicLibrary& lib = *library;
  nvml->init = lib.function<InitFn>("nvmlInit_v2");
  nvml->shutdown = lib.function<ShutdownFn>("nvmlShutdown");
  nvml->error_string = lib.function<ErrorStringFn>("nvmlErrorString");
  nvml->system_get_driver_version =
      lib.function<SystemGetDriverVersionFn>("nvmlSystemGetDriverVersion");
  nvml->system_get_cuda_driver_version =
      lib.function<SystemGetCudaDriverVersionFn>("nvmlSystemGetCudaDriverVersion");
  nvml->device_get_count = lib.function<DeviceGetCountFn>("nvmlDeviceGetCount_v2");
  nvml->device_get_handle_by_index =
      lib.function<DeviceGetHandleByIndexFn>("nvmlDeviceGetHandleByIndex_v2");
  nvml->device_get_name = lib.function<DeviceGetStringFn>("nvmlDeviceGetName");
  nvml->device_get_uuid = lib.function<DeviceGetStringFn>("nvmlDeviceGetUUID");
  nvml->device_get_memory_info = lib.function<DeviceGetMemoryInfoFn>("nvmlDeviceGetMemoryInfo");
  nvml->device_get_cuda_compute_capability =
      lib.function<DeviceGetCudaComputeCapabilityFn>("nvmlDeviceGetCudaComputeCapability");
  // _v3 and _v2 fill the same struct; drivers before _v3 existed export only _v2.
  nvml->device_get_pci_info = lib.function<DeviceGetPciInfoFn>("nvmlDeviceGetPciInfo_v3");
  if (nvml->device_get_pci_info == nullptr) {
    nvml->device_get_pci_info = lib.function<DeviceGetPciInfoFn>("nvmlDeviceGetPciInfo_v2");
  }
  nvml->device_get_persistence_mode =
      lib.function<DeviceGetPersistenceModeFn>("nvmlDeviceGetPersistenceMode");
  nvml->device_get_ecc_mode = lib.function<DeviceGetEccModeFn>("nvmlDeviceGetEccMode");
  nvml->device_get_mig_mode = lib.function<DeviceGetMigModeFn>("nvmlDeviceGetMigMode");

  const std::pair<const char*, bool> required[] = {
      {"nvmlInit_v2", nvml->init != nullptr},
      {"nvmlShutdown", nvml->shutdown != nullptr},
      {"nvmlErrorString", nvml->error_string != nullptr},
      {"nvmlSystemGetDriverVersion", nvml->system_get_driver_version != nullptr},
      {"nvmlDeviceGetCount_v2", nvml->device_get_count != nullptr},
      {"nvmlDeviceGetHandleByIndex_v2", nvml->device_get_handle_by_index != nullptr},
      {"nvmlDeviceGetName", nvml->device_get_name != nullptr},
      {"nvmlDeviceGetUUID", nvml->device_get_uuid != nullptr},
      {"nvmlDeviceGetMemoryInfo", nvml->device_get_memory_info != nullptr},
  };
  for (const auto& [name, found] : required) {
    if (!found) {
      error = path + " does not export " + name + " (driver too old?)";
      return nullptr;
    }
  }
  nvml->library_ = std::move(library);
  return nvml;
}

std::string NvmlLibrary::describe(Return code) const {
  const char* text = error_string != nullptr ? error_string(code) : nullptr;
  return std::string(text != nullptr ? text : "unknown NVML error") + " (" + std::to_string(code) +
         ")";
}

}  // namespace trainyard::platform::nvml
