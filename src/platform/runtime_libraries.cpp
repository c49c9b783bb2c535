#include "platform/runtime_libraries.h"

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "platform/dynamic_library.h"

namespace trainyard::platform {
namespace {

// Debian's packages are found by soname; the CUDA toolkit's libraries often are not in the
// loader's cache, so its folder is tried next.
constexpr const char* kCudaToolkitLibraries = "/usr/local/cuda/lib64/";

std::unique_ptr<DynamicLibrary> open_first(const std::vector<std::string>& sonames,
                                           bool toolkit_fallback, LibraryProbe& probe) {
  std::vector<std::string> candidates = sonames;
  if (toolkit_fallback) {
    for (const std::string& soname : sonames) candidates.push_back(kCudaToolkitLibraries + soname);
  }
  for (const std::string& candidate : candidates) {
    std::string error;
    if (auto library = DynamicLibrary::open(candidate, error)) {
      probe.location = candidate;
      // cuDNN and NCCL carry their own C++ runtime, whose allocations would be cut off from
      // any root (and reported as leaks) if the library were unmapped again.
      library->keep_loaded();
      return library;
    }
    if (probe.error.empty()) probe.error = candidate + ": " + error;
  }
  return nullptr;
}

void probe_cudnn(LibraryProbe& probe) {
  auto library = open_first({"libcudnn.so.9", "libcudnn.so"}, true, probe);
  if (!library) return;
  using GetVersion = size_t (*)();
  auto get_version = library->function<GetVersion>("cudnnGetVersion");
  if (!get_version) {
    probe.error = probe.location + " has no cudnnGetVersion";
    return;
  }
  probe.version = cudnn_version_text(static_cast<long long>(get_version()));
}

void probe_cublas(LibraryProbe& probe) {
  auto library = open_first({"libcublas.so.13", "libcublas.so.12", "libcublas.so"}, true, probe);
  if (!library) return;
  // cublasGetProperty(libraryPropertyType, int*): MAJOR_VERSION 0, MINOR_VERSION 1,
  // PATCH_LEVEL 2; status 0 is success.
  using GetProperty = int (*)(int, int*);
  auto get_property = library->function<GetProperty>("cublasGetProperty");
  int parts[3] = {0, 0, 0};
  for (int i = 0; get_property && i < 3; ++i) {
    if (get_property(i, &parts[i]) != 0) get_property = nullptr;
  }
  if (!get_property) {
    probe.error = probe.location + " did not report its version (cublasGetProperty)";
    return;
  }
  probe.version =
      std::to_string(parts[0]) + "." + std::to_string(parts[1]) + "." + std::to_string(parts[2]);
}

void probe_nccl(LibraryProbe& probe) {
  auto library = open_first({"libnccl.so.2", "libnccl.so"}, true, probe);
  if (!library) return;
  using GetVersion = int (*)(int*);  // ncclGetVersion; 0 is ncclSuccess
  auto get_version = library->function<GetVersion>("ncclGetVersion");
  int code = 0;
  if (!get_version || get_version(&code) != 0) {
    probe.error = probe.location + " did not report its version (ncclGetVersion)";
    return;
  }
  probe.version = nccl_version_text(code);
}

void probe_openmpi(LibraryProbe& probe) {
  auto library = open_first({"libmpi.so.40", "libmpi.so"}, false, probe);
  if (!library) return;
  // MPI_Get_library_version may be called before MPI_Init; Open MPI's buffer limit is 256.
  using GetLibraryVersion = int (*)(char*, int*);
  auto get_version = library->function<GetLibraryVersion>("MPI_Get_library_version");
  char text[512] = {};
  int length = 0;
  if (!get_version || get_version(text, &length) != 0) {
    probe.error = probe.location + " did not report its version (MPI_Get_library_version)";
    return;
  }
  probe.version = openmpi_version_text(std::string(text, std::min<size_t>(length, sizeof text)));
}

}  // namespace

std::string nccl_version_text(int code) {
  // NCCL_VERSION(X, Y, Z) is X*10000 + Y*100 + Z from 2.9 on, X*1000 + Y*100 + Z before.
  int major = code >= 10000 ? code / 10000 : code / 1000;
  int rest = code >= 10000 ? code % 10000 : code % 1000;
  return std::to_string(major) + "." + std::to_string(rest / 100) + "." +
         std::to_string(rest % 100);
}

std::string cudnn_version_text(long long code) {
  // CUDNN_VERSION is major*10000 + minor*100 + patch from cuDNN 9, major*1000 + ... before.
  long long major = code >= 90000 ? code / 10000 : code / 1000;
  long long rest = code >= 90000 ? code % 10000 : code % 1000;
  return std::to_string(major) + "." + std::to_string(rest / 100) + "." +
         std::to_string(rest % 100);
}

std::string openmpi_version_text(const std::string& library_version) {
  std::string first = library_version.substr(0, library_version.find(','));
  size_t v = first.rfind(" v");
  return v == std::string::npos ? first : first.substr(v + 2);
}

RuntimeLibraries RuntimeLibraries::detect() {
  RuntimeLibraries libraries;
  probe_cudnn(libraries.cudnn);
  probe_cublas(libraries.cublas);
  probe_nccl(libraries.nccl);
  probe_openmpi(libraries.openmpi);
  libraries.mpirun = find_on_path("mpirun");
  return libraries;
}

std::optional<std::string> find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::string_view rest = path;
  while (!rest.empty()) {
    size_t colon = rest.find(':');
    std::filesystem::path candidate = std::filesystem::path(rest.substr(0, colon)) / program;
    std::error_code error;
    if (std::filesystem::is_regular_file(candidate, error)) return candidate.string();
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

}  // namespace trainyard::platform
