// A stand-in for libcuda.so.1 (and libcudart) exporting the CUDA driver API entry points
// the GPU inventory uses, with the documented C signatures. It describes one GPU; the
// environment variable TRAINYARD_FAKE_CUDA_MODE bends it: "no_device" (cuInit finds no
// GPU) or "init_fails" (cuInit fails outright).
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace {

constexpr int kSuccess = 0;
constexpr int kInvalidValue = 1;
constexpr int kNotInitialized = 3;
constexpr int kNoDevice = 100;
constexpr int kUnknown = 999;

bool initialised = false;

bool mode_is(const char* mode) {
  const char* value = std::getenv("TRAINYARD_FAKE_CUDA_MODE");
  return value != nullptr && std::strcmp(value, mode) == 0;
}

}  // namespace

extern "C" {

int cuInit(unsigned flags) {
  if (flags != 0) return kInvalidValue;
  if (mode_is("no_device")) return kNoDevice;
  if (mode_is("init_fails")) return kUnknown;
  initialised = true;
  return kSuccess;
}

int cuDriverGetVersion(int* version) {
  *version = 12060;
  return kSuccess;
}

int cuDeviceGetCount(int* count) {
  if (!initialised) return kNotInitialized;
  *count = 1;
  return kSuccess;
}

int cuDeviceGet(int* device, int ordinal) {
  if (ordinal != 0) return kInvalidValue;
  *device = 0;
  return kSuccess;
}

int cuDeviceGetName(char* name, int length, int device) {
  const char text[] = "NVIDIA H100 80GB HBM3";
  if (device != 0 || length < static_cast<int>(sizeof(text))) return kInvalidValue;
  std::memcpy(name, text, sizeof(text));
  return kSuccess;
}

int cuDeviceTotalMem_v2(std::size_t* bytes, int device) {
  if (device != 0) return kInvalidValue;
  *bytes = 85520809984ull;
  return kSuccess;
}

int cuDeviceGetAttribute(int* value, int attribute, int device) {
  if (device != 0) return kInvalidValue;
  switch (attribute) {
    case 33:  // PCI bus id
      *value = 0x1a;
      return kSuccess;
    case 34:  // PCI device id
      *value = 0;
      return kSuccess;
    case 50:  // PCI domain id
      *value = 0;
      return kSuccess;
    case 75:  // compute capability major
      *value = 9;
      return kSuccess;
    case 76:  // compute capability minor
      *value = 0;
      return kSuccess;
    default:
      return kInvalidValue;
  }
}

int cuDeviceGetUuid(unsigned char* uuid, int device) {
  if (device != 0) return kInvalidValue;
  for (int i = 0; i < 16; ++i) uuid[i] = static_cast<unsigned char>(i);
  return kSuccess;
}

int cuGetErrorString(int error, const char** text) {
  *text = error == kUnknown ? "unknown error" : "some CUDA error";
  return kSuccess;
}

// libcudart's entry point, so the same file can stand in for the runtime library.
int cudaRuntimeGetVersion(int* version) {
  *version = 12020;
  return 0;
}

}  // extern "C"
