#include "platform/cuda_runtime_loader.h"

namespace trainyard::platform::cuda {

std::unique_ptr<CudaDriverLibrary> CudaDriverLibrary::load(const std::string& path,
                                                           std::string& error) {
  std::string open_error;
  auto library = DynamicLibrary::open(path, open_error);
  if (!library) {
    error = path + " not loadable: " + open_error;
    return nullptr;
  }
  auto driver = std::make_unique<CudaDriverLibrary>();
  const DynamicLibrary& lib = *library;
  driver->init = lib.function<InitFn>("cuInit");
  driver->driver_get_version = lib.function<DriverGetVersionFn>("cuDriverGetVersion");
  driver->device_get_count = lib.function<DeviceGetCountFn>("cuDeviceGetCount");
  driver->device_get = lib.function<DeviceGetFn>("cuDeviceGet");
  driver->device_get_name = lib.function<DeviceGetNameFn>("cuDeviceGetName");
  driver->device_total_mem = lib.function<DeviceTotalMemFn>("cuDeviceTotalMem_v2");
  driver->device_get_attribute = lib.function<DeviceGetAttributeFn>("cuDeviceGetAttribute");
  driver->device_get_uuid = lib.function<DeviceGetUuidFn>("cuDeviceGetUuid");
  driver->get_error_string = lib.function<GetErrorStringFn>("cuGetErrorString");

  const std::pair<const char*, bool> required[] = {
      {"cuInit", driver->init != nullptr},
      {"cuDriverGetVersion", driver->driver_get_version != nullptr},
      {"cuDeviceGetCount", driver->device_get_count != nullptr},
      {"cuDeviceGet", driver->device_get != nullptr},
      {"cuDeviceGetName", driver->device_get_name != nullptr},
      {"cuDeviceTotalMem_v2", driver->device_total_mem != nullptr},
      {"cuDeviceGetAttribute", driver->device_get_attribute != nullptr},
  };
  for (const auto& [name, found] : required) {
    if (!found) {
      error = path + " does not export " + name + " (driver too old?)";
      return nullptr;
    }
  }
  driver->library_ = std::move(library);
  return driver;
}

std::string CudaDriverLibrary::describe(Result code) const {
  const char* text = nullptr;
  if (get_error_string == nullptr || get_error_string(code, &text) != kSuccess || text == nullptr) {
    text = "unknown CUDA driver error";
  }
  return std::string(text) + " (" + std::to_string(code) + ")";
}

std::optional<int> cuda_runtime_version(const std::vector<std::string>& candidates) {
  using RuntimeGetVersionFn = int (*)(int*);  // cudaRuntimeGetVersion; 0 is cudaSuccess
  for (const std::string& path : candidates) {
    std::string ignored;
    auto library = DynamicLibrary::open(path, ignored);
    if (!library) continue;
    auto get_version = library->function<RuntimeGetVersionFn>("cudaRuntimeGetVersion");
    int version = 0;
    if (get_version != nullptr && get_version(&version) == 0 && version > 0) return version;
  }
  return std::nullopt;
}

}  // namespace trainyard::platform::cuda
