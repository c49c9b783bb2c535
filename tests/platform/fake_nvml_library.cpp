// A stand-in for libnvidia-ml.so.1 exporting the NVML entry points the GPU inventory
// uses, with the C signatures NVML documents. It describes two GPUs; the environment
// variable TRAINYARD_FAKE_NVML_MODE bends it: "init_fails" (nvmlInit_v2 says the driver
// is not loaded) or "second_gpu_forbidden" (GPU 1's handle is refused).
#include <cstdlib>
#include <cstring>

namespace {

struct Memory {
  unsigned long long total, free, used;
};
struct PciInfo {
  char bus_id_legacy[16];
  unsigned int domain, bus, device, pci_device_id, pci_subsystem_id;
  char bus_id[32];
};

constexpr int kSuccess = 0;
constexpr int kInvalidArgument = 2;
constexpr int kNotSupported = 3;
constexpr int kNoPermission = 4;
constexpr int kInsufficientSize = 7;
constexpr int kDriverNotLoaded = 9;

// Device handles are pointers to these; NVML's are opaque, so any address will do.
int gpu_tokens[2];

bool mode_is(const char* mode) {
  const char* value = std::getenv("TRAINYARD_FAKE_NVML_MODE");
  return value != nullptr && std::strcmp(value, mode) == 0;
}

int gpu_of(void* device) {
  if (device == &gpu_tokens[0]) return 0;
  if (device == &gpu_tokens[1]) return 1;
  return -1;
}

int copy_out(const char* text, char* buffer, unsigned length) {
  if (std::strlen(text) + 1 > length) return kInsufficientSize;
  std::strcpy(buffer, text);
  return kSuccess;
}

}  // namespace

extern "C" {

int nvmlInit_v2() {
  return mode_is("init_fails") ? kDriverNotLoaded : kSuccess;
}
int nvmlShutdown() {
  return kSuccess;
}

const char* nvmlErrorString(int result) {
  switch (result) {
    case kDriverNotLoaded:
      return "Driver Not Loaded";
    case kNoPermission:
      return "Insufficient Permissions";
    default:
      return "Unknown Error";
  }
}

int nvmlSystemGetDriverVersion(char* version, unsigned length) {
  return copy_out("550.54.15", version, length);
}

int nvmlSystemGetCudaDriverVersion(int* version) {
  *version = 12040;
  return kSuccess;
}

int nvmlDeviceGetCount_v2(unsigned* count) {
  *count = 2;
  return kSuccess;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned index, void** device) {
  if (index > 1) return kInvalidArgument;
  if (index == 1 && mode_is("second_gpu_forbidden")) return kNoPermission;
  *device = &gpu_tokens[index];
  return kSuccess;
}

int nvmlDeviceGetName(void* device, char* name, unsigned length) {
  int gpu = gpu_of(device);
  if (gpu < 0) return kInvalidArgument;
  return copy_out(gpu == 0 ? "NVIDIA A100-SXM4-80GB" : "Tesla T4", name, length);
}

int nvmlDeviceGetUUID(void* device, char* uuid, unsigned length) {
  int gpu = gpu_of(device);
  if (gpu < 0) return kInvalidArgument;
  return copy_out(gpu == 0 ? "GPU-11111111-2222-3333-4444-555555555555"
                           : "GPU-66666666-7777-8888-9999-000000000000",
                  uuid, length);
}

int nvmlDeviceGetMemoryInfo(void* device, Memory* memory) {
  int gpu = gpu_of(device);
  if (gpu < 0) return kInvalidArgument;
  memory->total = gpu == 0 ? 85899345920ull : 16106127360ull;
  memory->free = gpu == 0 ? 80000000000ull : 15000000000ull;
  memory->used = memory->total - memory->free;
  return kSuccess;
}

int nvmlDeviceGetCudaComputeCapability(void* device, int* major, int* minor) {
  int gpu = gpu_of(device);
  if (gpu < 0) return kInvalidArgument;
  *major = gpu == 0 ? 8 : 7;
  *minor = gpu == 0 ? 0 : 5;
  return kSuccess;
}

int nvmlDeviceGetPciInfo_v3(void* device, PciInfo* pci) {
  int gpu = gpu_of(device);
  if (gpu < 0) return kInvalidArgument;
  std::memset(pci, 0, sizeof(*pci));
  std::strcpy(pci->bus_id, gpu == 0 ? "00000000:07:00.0" : "00000000:3B:00.0");
  std::strcpy(pci->bus_id_legacy, gpu == 0 ? "0000:07:00.0" : "0000:3B:00.0");
  pci->bus = gpu == 0 ? 0x07 : 0x3b;
  return kSuccess;
}

int nvmlDeviceGetPersistenceMode(void* device, int* mode) {
  int gpu = gpu_of(device);
  if (gpu < 0) return kInvalidArgument;
  *mode = gpu == 0 ? 1 : 0;
  return kSuccess;
}

int nvmlDeviceGetEccMode(void* device, int* current, int* pending) {
  int gpu = gpu_of(device);
  if (gpu != 0) return kNotSupported;
  *current = 1;
  *pending = 1;
  return kSuccess;
}

int nvmlDeviceGetMigMode(void* device, unsigned* current, unsigned* pending) {
  int gpu = gpu_of(device);
  if (gpu != 0) return kNotSupported;
  *current = 0;
  *pending = 0;
  return kSuccess;
}

}  // extern "C"
