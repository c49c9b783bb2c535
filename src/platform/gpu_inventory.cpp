#include "platform/gpu_inventory.h"

#include <cstdio>
#include <cstdlib>

#include "platform/cuda_runtime_loader.h"
#include "platform/nvml_loader.h"

namespace trainyard::platform {
namespace {

// A string NVML or CUDA wrote into `buffer`, cut at the first NUL even if the library
// filled the buffer to the end.
std::string from_buffer(const char* buffer, std::size_t size) {
  std::size_t length = 0;
  while (length < size && buffer[length] != '\0') ++length;
  return std::string(buffer, length);
}

std::string format_uuid(const cuda::Uuid& uuid) {
  // The "GPU-" form nvidia-smi and NVML print: 8-4-4-4-12 lower-case hex digits.
  std::string text = "GPU-";
  char hex[3];
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    std::snprintf(hex, sizeof(hex), "%02x", uuid.bytes[i]);
    text += hex;
  }
  return text;
}

// Calls nvmlShutdown when detection leaves, whichever way it leaves.
class NvmlSession {
 public:
  explicit NvmlSession(const nvml::NvmlLibrary& nvml) : nvml_(nvml) {}
  ~NvmlSession() { nvml_.shutdown(); }
  NvmlSession(const NvmlSession&) = delete;
  NvmlSession& operator=(const NvmlSession&) = delete;

 private:
  const nvml::NvmlLibrary& nvml_;
};

std::optional<bool> enabled(nvml::Return result, nvml::EnableState state) {
  if (result != nvml::kSuccess) return std::nullopt;
  return state == nvml::kFeatureEnabled;
}

}  // namespace

std::string CudaVersion::to_string() const {
  return std::to_string(major) + "." + std::to_string(minor);
}

std::string GpuInventory::summary() const {
  auto found = gpus();
  if (found.empty()) {
    std::string error = detection_error();
    if (!error.empty()) return "No NVIDIA GPU found: " + error + ".";
    std::string text = "No NVIDIA GPU found: the NVIDIA driver";
    if (auto driver = driver_version()) text += " " + *driver;
    return text + " reports none.";
  }
  std::string text =
      std::to_string(found.size()) + (found.size() == 1 ? " NVIDIA GPU" : " NVIDIA GPUs");
  if (auto driver = driver_version()) text += ", driver " + *driver;
  if (auto cuda = cuda_driver_version()) text += ", CUDA " + cuda->to_string();
  return text + ".";
}

GpuDetectionOptions GpuDetectionOptions::from_environment() {
  GpuDetectionOptions options;
  if (const char* path = std::getenv("TRAINYARD_NVML_LIBRARY"); path != nullptr && *path) {
    options.nvml_library = path;
  }
  if (const char* path = std::getenv("TRAINYARD_CUDA_DRIVER_LIBRARY"); path != nullptr && *path) {
    options.cuda_driver_library = path;
  }
  if (const char* path = std::getenv("TRAINYARD_CUDA_RUNTIME_LIBRARY"); path != nullptr && *path) {
    options.cuda_runtime_libraries = {path};
  }
  return options;
}

SystemGpuInventory::SystemGpuInventory(const GpuDetectionOptions& options) {
  std::string nvml_why;
  if (detect_with_nvml(options.nvml_library, nvml_why)) {
    // NVML gives the CUDA version only from driver 418 on; libcuda always knows it.
    if (!cuda_driver_version_) {
      std::string ignored;
      detect_with_cuda_driver(options.cuda_driver_library, /*enumerate=*/false, ignored);
    }
  } else {
    std::string cuda_why;
    if (detect_with_cuda_driver(options.cuda_driver_library, /*enumerate=*/true, cuda_why)) {
      warnings_.push_back("NVML unusable (" + nvml_why +
                          "); GPU details come from the CUDA driver API alone");
    } else {
      bool nothing_loaded = nvml_why.find("not loadable") != std::string::npos &&
                            cuda_why.find("not loadable") != std::string::npos;
      detection_error_ =
          (nothing_loaded ? "no NVIDIA driver found (" : "NVIDIA driver unusable (") + nvml_why +
          "; " + cuda_why + ")";
    }
  }
  detect_runtime(options.cuda_runtime_libraries);
}

bool SystemGpuInventory::detect_with_nvml(const std::string& library, std::string& why) {
  auto nvml = nvml::NvmlLibrary::load(library, why);
  if (!nvml) return false;
  if (nvml::Return result = nvml->init(); result != nvml::kSuccess) {
    why = library + " loaded but nvmlInit_v2 failed: " + nvml->describe(result);
    return false;
  }
  NvmlSession session(*nvml);

  char text[nvml::kDeviceNameBufferSize] = {};
  if (nvml->system_get_driver_version(text, sizeof(text)) == nvml::kSuccess) {
    driver_version_ = from_buffer(text, sizeof(text));
  }
  int cuda_version = 0;
  if (nvml->system_get_cuda_driver_version != nullptr &&
      nvml->system_get_cuda_driver_version(&cuda_version) == nvml::kSuccess && cuda_version > 0) {
    cuda_driver_version_ = CudaVersion::from_encoded(cuda_version);
  }
  unsigned count = 0;
  if (nvml::Return result = nvml->device_get_count(&count); result != nvml::kSuccess) {
    why = "nvmlDeviceGetCount_v2 failed: " + nvml->describe(result);
    return false;
  }

  for (unsigned index = 0; index < count; ++index) {
    nvml::Device device = nullptr;
    if (nvml::Return result = nvml->device_get_handle_by_index(index, &device);
        result != nvml::kSuccess) {
      // One GPU we may not touch (another container's, or fallen off the bus) should not
      // hide the others.
      warnings_.push_back(
          "GPU " + std::to_string(index) +
          " skipped: nvmlDeviceGetHandleByIndex_v2 failed: " + nvml->describe(result));
      continue;
    }
    GpuInfo info;
    info.index = static_cast<int>(index);
    if (nvml->device_get_name(device, text, sizeof(text)) == nvml::kSuccess) {
      info.name = from_buffer(text, sizeof(text));
    }
    if (nvml->device_get_uuid(device, text, sizeof(text)) == nvml::kSuccess) {
      info.uuid = from_buffer(text, sizeof(text));
    }
    nvml::Memory memory{};
    if (nvml::Return result = nvml->device_get_memory_info(device, &memory);
        result == nvml::kSuccess) {
      info.total_memory_bytes = memory.total;
      info.free_memory_bytes = memory.free;
    } else {
      warnings_.push_back("GPU " + std::to_string(index) +
                          ": nvmlDeviceGetMemoryInfo failed: " + nvml->describe(result));
    }
    int major = 0, minor = 0;
    if (nvml->device_get_cuda_compute_capability != nullptr &&
        nvml->device_get_cuda_compute_capability(device, &major, &minor) == nvml::kSuccess) {
      info.compute_capability = {major, minor};
    }
    nvml::PciInfo pci{};
    if (nvml->device_get_pci_info != nullptr &&
        nvml->device_get_pci_info(device, &pci) == nvml::kSuccess) {
      info.pci_bus_id = from_buffer(pci.bus_id, sizeof(pci.bus_id));
    }
    // Each call completes before its output is read: the result and the state must not be
    // arguments of one call, whose evaluation order C++ leaves open.
    if (nvml->device_get_persistence_mode != nullptr) {
      nvml::EnableState mode = 0;
      nvml::Return result = nvml->device_get_persistence_mode(device, &mode);
      info.persistence_mode = enabled(result, mode);
    }
    if (nvml->device_get_ecc_mode != nullptr) {
      nvml::EnableState current = 0, pending = 0;
      nvml::Return result = nvml->device_get_ecc_mode(device, &current, &pending);
      info.ecc_enabled = enabled(result, current);
    }
    if (nvml->device_get_mig_mode != nullptr) {
      unsigned current = 0, pending = 0;
      nvml::Return result = nvml->device_get_mig_mode(device, &current, &pending);
      info.mig_enabled = enabled(result, static_cast<nvml::EnableState>(current));
    }
    gpus_.push_back(std::move(info));
  }
  return true;
}

bool SystemGpuInventory::detect_with_cuda_driver(const std::string& library, bool enumerate,
                                                 std::string& why) {
  auto driver = cuda::CudaDriverLibrary::load(library, why);
  if (!driver) return false;
  int version = 0;
  if (driver->driver_get_version(&version) == cuda::kSuccess && version > 0) {
    cuda_driver_version_ = CudaVersion::from_encoded(version);
  }
  if (!enumerate) return true;

  cuda::Result result = driver->init(0);
  if (result == cuda::kErrorNoDevice) return true;  // a working driver with no GPU
  if (result != cuda::kSuccess) {
    why = library + " loaded but cuInit failed: " + driver->describe(result);
    return false;
  }
  driver->keep_loaded();
  int count = 0;
  if (result = driver->device_get_count(&count); result != cuda::kSuccess) {
    why = "cuDeviceGetCount failed: " + driver->describe(result);
    return false;
  }
  for (int ordinal = 0; ordinal < count; ++ordinal) {
    cuda::Device device = 0;
    if (result = driver->device_get(&device, ordinal); result != cuda::kSuccess) {
      warnings_.push_back("GPU " + std::to_string(ordinal) +
                          " skipped: cuDeviceGet failed: " + driver->describe(result));
      continue;
    }
    GpuInfo info;
    info.index = ordinal;
    char name[256] = {};
    if (driver->device_get_name(name, sizeof(name), device) == cuda::kSuccess) {
      info.name = from_buffer(name, sizeof(name));
    }
    std::size_t bytes = 0;
    if (driver->device_total_mem(&bytes, device) == cuda::kSuccess) info.total_memory_bytes = bytes;
    auto attribute = [&](int which) {
      int value = 0;
      return driver->device_get_attribute(&value, which, device) == cuda::kSuccess ? value : -1;
    };
    info.compute_capability = {attribute(cuda::kAttributeComputeCapabilityMajor),
                               attribute(cuda::kAttributeComputeCapabilityMinor)};
    int domain = attribute(cuda::kAttributePciDomainId);
    int bus = attribute(cuda::kAttributePciBusId);
    int slot = attribute(cuda::kAttributePciDeviceId);
    if (domain >= 0 && bus >= 0 && slot >= 0) {
      char bus_id[32];
      std::snprintf(bus_id, sizeof(bus_id), "%08X:%02X:%02X.0", static_cast<unsigned>(domain),
                    static_cast<unsigned>(bus), static_cast<unsigned>(slot));
      info.pci_bus_id = bus_id;
    }
    cuda::Uuid uuid{};
    if (driver->device_get_uuid != nullptr &&
        driver->device_get_uuid(&uuid, device) == cuda::kSuccess) {
      info.uuid = format_uuid(uuid);
    }
    gpus_.push_back(std::move(info));
  }
  return true;
}

void SystemGpuInventory::detect_runtime(const std::vector<std::string>& libraries) {
  if (auto version = cuda::cuda_runtime_version(libraries)) {
    runtime_version_ = CudaVersion::from_encoded(*version);
  }
}

}  // namespace trainyard::platform
