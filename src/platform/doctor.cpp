#include "platform/doctor.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

#include "core/error.h"

namespace trainyard::platform {
namespace {

// Free memory below this share of the total means another process holds the GPU.
constexpr double kFreeMemoryShare = 0.9;

std::string gib(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GiB", static_cast<double>(bytes) / kBytesPerGib);
  return text;
}

std::string architecture_name(ComputeCapability capability) {
  switch (capability.major) {
    case 3:
      return "Kepler";
    case 5:
      return "Maxwell";
    case 6:
      return "Pascal";
    case 7:
      return capability.minor >= 5 ? "Turing" : "Volta";
    case 8:
      return capability.minor == 9 ? "Ada" : "Ampere";
    case 9:
      return "Hopper";
    case 10:
    case 12:
      return "Blackwell";
    default:
      return "compute capability " + capability.to_string();
  }
}

int major_of(const std::string& version) {
  int major = 0;
  std::from_chars(version.data(), version.data() + version.size(), major);
  return major;
}

class Rules {
 public:
  explicit Rules(const DoctorFacts& facts) : facts_(facts), gpus_(facts.inventory->gpus()) {}

  DoctorReport run() {
    check_gpus_present();
    if (!gpus_.empty()) {
      check_driver();
      check_cuda_runtime();
      for (const GpuInfo& gpu : gpus_) check_gpu(gpu);
    }
    check_cudnn();
    check_cublas();
    check_nccl();
    check_openmpi();
    check_cpu();
    return std::move(report_);
  }

 private:
  void add(std::string name, Verdict verdict, std::string finding, std::string fix = "") {
    report_.checks.push_back({std::move(name), verdict, std::move(finding), std::move(fix)});
  }
  bool gpu_build() const { return facts_.build_cuda.has_value(); }
  std::string build_cuda_text() const {
    return gpu_build() ? "CUDA " + facts_.build_cuda->to_string() : "no CUDA";
  }

  void check_gpus_present() {
    const GpuInventory& inventory = *facts_.inventory;
    if (gpus_.empty()) {
      std::string why = inventory.detection_error();
      add("gpus", Verdict::kWarn,
          "no NVIDIA GPU found" + (why.empty() ? std::string() : ": " + why) +
              ". trainyard trains on the CPU here and cannot place GPU instance types",
          "if this machine has NVIDIA GPUs, install the NVIDIA driver" +
              (gpu_build() ? " (" + minimum_driver_for(facts_.build_cuda->major).value_or("any") +
                                 " or newer for " + build_cuda_text() + ")"
                           : std::string()));
      return;
    }
    add("gpus", Verdict::kPass, inventory.summary());
    if (!gpu_build()) {
      add("cuda build", Verdict::kWarn,
          "this build of trainyard has no CUDA backend, so its GPUs stay idle",
          "rebuild where the CUDA toolkit is at /usr/local/cuda (scripts/setup installs it)");
    }
  }

  void check_driver() {
    std::optional<std::string> driver = facts_.inventory->driver_version();
    if (!driver) {
      add("driver", Verdict::kFail, "the NVIDIA driver's version could not be read",
          "check that nvidia-smi works; reinstall the driver if it does not");
      return;
    }
    if (!gpu_build()) {
      add("driver", Verdict::kPass, "NVIDIA driver " + *driver);
      return;
    }
    std::optional<std::string> minimum = minimum_driver_for(facts_.build_cuda->major);
    if (minimum && compare_driver_versions(*driver, *minimum) < 0) {
      add("driver", Verdict::kFail,
          "NVIDIA driver " + *driver + " is older than " + build_cuda_text() + " needs (" +
              *minimum + " or newer)",
          "upgrade the NVIDIA driver to " + *minimum + " or newer");
      return;
    }
    std::optional<CudaVersion> supported = facts_.inventory->cuda_driver_version();
    if (supported && *supported < *facts_.build_cuda) {
      add("driver", Verdict::kFail,
          "NVIDIA driver " + *driver + " supports CUDA up to " + supported->to_string() +
              "; this build uses " + build_cuda_text(),
          "upgrade the NVIDIA driver to one that supports " + build_cuda_text());
      return;
    }
    add("driver", Verdict::kPass,
        "NVIDIA driver " + *driver +
            (supported ? " (CUDA up to " + supported->to_string() + ")" : std::string()) +
            " serves " + build_cuda_text());
  }

  void check_cuda_runtime() {
    if (!gpu_build()) return;
    std::optional<CudaVersion> runtime = facts_.inventory->runtime_version();
    if (!runtime) {
      add("cuda runtime", Verdict::kFail,
          "no CUDA runtime (libcudart) was found; this build needs " + build_cuda_text(),
          "add /usr/local/cuda/lib64 to LD_LIBRARY_PATH or install the CUDA " +
              std::to_string(facts_.build_cuda->major) + " runtime");
    } else if (runtime->major != facts_.build_cuda->major) {
      add("cuda runtime", Verdict::kWarn,
          "the CUDA runtime found first is " + runtime->to_string() + ", this build uses " +
              build_cuda_text(),
          "put CUDA " + std::to_string(facts_.build_cuda->major) +
              "'s lib64 first in LD_LIBRARY_PATH");
    } else {
      add("cuda runtime", Verdict::kPass, "CUDA runtime " + runtime->to_string());
    }
  }

  void check_gpu(const GpuInfo& gpu) {
    const std::string prefix = "gpu " + std::to_string(gpu.index);
    check_architecture(gpu, prefix + " architecture");
    if (gpu.mig_enabled.value_or(false)) {
      add(prefix + " mig", Verdict::kWarn,
          gpu.name +
              " has MIG mode on: CUDA sees its MIG instances, not the whole GPU, while "
              "trainyard places whole GPUs",
          "turn MIG off (nvidia-smi -i " + std::to_string(gpu.index) +
              " -mig 0, then reset the GPU) or hand a job a MIG instance through "
              "CUDA_VISIBLE_DEVICES yourself");
    }
    if (gpu.free_memory_bytes &&
        static_cast<double>(*gpu.free_memory_bytes) <
            kFreeMemoryShare * static_cast<double>(gpu.total_memory_bytes)) {
      add(prefix + " memory", Verdict::kWarn,
          gib(gpu.total_memory_bytes - *gpu.free_memory_bytes) + " of " +
              gib(gpu.total_memory_bytes) + " is held by other processes",
          "nvidia-smi lists the processes holding it; stop them or expect less room for jobs");
    }
    if (gpu.persistence_mode && !*gpu.persistence_mode) {
      add(prefix + " persistence", Verdict::kWarn,
          "persistence mode is off: the driver re-initialises the GPU whenever no process holds "
          "it, which adds seconds to each job's start",
          "nvidia-smi -i " + std::to_string(gpu.index) + " -pm 1 (or run nvidia-persistenced)");
    }
  }

  void check_architecture(const GpuInfo& gpu, std::string name) {
    const ComputeCapability capability = gpu.compute_capability;
    const std::string label = gpu.name + " (" + architecture_name(capability) +
                              ", compute capability " + capability.to_string() + ")";
    if (gpu_build() && facts_.build_cuda->major >= 13 && capability < kOldestCudaArchitecture) {
      add(std::move(name), Verdict::kFail,
          label + ": CUDA 13 dropped every architecture before Turing (" +
              kOldestCudaArchitecture.to_string() + ")" +
              (capability.major < 5 ? ", and CUDA 12 had already dropped Kepler" : ""),
          "train on a Turing or newer GPU (ml.g4dn's T4, or newer instance types)");
      return;
    }
    switch (facts_.build_targets.fit(capability)) {
      case KernelFit::kMachineCode:
        add(std::move(name), Verdict::kPass,
            label + (gpu_build() ? ": this build has machine code for it" : ""));
        break;
      case KernelFit::kPtxOnly:
        add(std::move(name), Verdict::kWarn,
            label + ": this build has no machine code for it (targets " +
                facts_.build_targets.describe() +
                "), so the driver compiles PTX at each program's first start",
            "rebuild with TRAINYARD_CUDA_ARCHITECTURES including " +
                std::to_string(capability.major * 10 + capability.minor));
        break;
      case KernelFit::kNone:
        add(std::move(name), Verdict::kFail,
            label + ": no kernel image for compute capability " + capability.to_string() +
                "; this build targets " + facts_.build_targets.range(),
            "rebuild with TRAINYARD_CUDA_ARCHITECTURES including " +
                std::to_string(capability.major * 10 + capability.minor));
        break;
    }
  }

  // A GPU library: a failure when GPUs will use it, otherwise only a note.
  void check_gpu_library(const LibraryProbe& probe, int wanted_major, const std::string& role,
                         const std::string& install) {
    const bool needed = gpu_build() && !gpus_.empty();
    std::string name = probe.name;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!probe.found()) {
      add(name, needed ? Verdict::kFail : Verdict::kPass,
          probe.name + " not found" + (probe.error.empty() ? "" : " (" + probe.error + ")") +
              (needed ? "; " + role : "; not needed without a GPU"),
          needed ? install : "");
    } else if (wanted_major > 0 && major_of(*probe.version) != wanted_major) {
      add(name, needed ? Verdict::kFail : Verdict::kWarn,
          probe.name + " " + *probe.version + " at " + probe.location + "; trainyard needs " +
              probe.name + " " + std::to_string(wanted_major),
          install);
    } else {
      add(name, Verdict::kPass, probe.name + " " + *probe.version + " (" + probe.location + ")");
    }
  }

  void check_cudnn() {
    check_gpu_library(facts_.libraries.cudnn, 9, "Conv2D and its neighbours need it on the GPU",
                      "install cuDNN 9 for CUDA " +
                          (gpu_build() ? std::to_string(facts_.build_cuda->major) : "13") +
                          " and put its lib folder in LD_LIBRARY_PATH");
  }

  void check_cublas() {
    check_gpu_library(facts_.libraries.cublas, gpu_build() ? facts_.build_cuda->major : 0,
                      "every matrix product on the GPU needs it",
                      "install the CUDA toolkit's cuBLAS and add /usr/local/cuda/lib64 to "
                      "LD_LIBRARY_PATH");
  }

  void check_nccl() {
    const LibraryProbe& nccl = facts_.libraries.nccl;
    if (nccl.found()) {
      add("nccl", Verdict::kPass, "NCCL " + *nccl.version + " (" + nccl.location + ")");
    } else if (gpus_.size() > 1 && gpu_build()) {
      add("nccl", Verdict::kWarn,
          "NCCL not found: data parallelism over this host's " + std::to_string(gpus_.size()) +
              " GPUs falls back to slower collectives",
          "install NCCL 2 (Debian's libnccl2, or the nvidia-nccl package) and put it in "
          "LD_LIBRARY_PATH");
    } else {
      add("nccl", Verdict::kPass, "NCCL not found; needed only across several GPUs");
    }
  }

  void check_openmpi() {
    const RuntimeLibraries& libraries = facts_.libraries;
    if (libraries.mpirun && libraries.openmpi.found()) {
      add("openmpi", Verdict::kPass,
          "Open MPI " + *libraries.openmpi.version + ", mpirun at " + *libraries.mpirun);
    } else {
      add("openmpi", Verdict::kWarn,
          std::string(libraries.mpirun ? "Open MPI's library not found"
                                       : "mpirun not found on PATH") +
              ": jobs with InstanceCount > 1 run their hosts under mpirun",
          "install Open MPI (Debian's openmpi-bin)");
    }
  }

  void check_cpu() {
    const HostResources& host = facts_.host;
    std::string machine = std::to_string(host.vcpus) + " vCPUs";
    if (host.memory_gib) {
      char text[32];
      std::snprintf(text, sizeof text, ", %.1f GiB memory", *host.memory_gib);
      machine += text;
    }
    if (facts_.cpu_check_error.empty()) {
      add("cpu", Verdict::kPass,
          "CPU backend works (" + machine + "; a matrix product matches its float64 reference)");
    } else {
      add("cpu", Verdict::kFail, "CPU backend check failed: " + facts_.cpu_check_error,
          "report this with the output of trainyard doctor --json");
    }
  }

  const DoctorFacts& facts_;
  std::vector<GpuInfo> gpus_;
  DoctorReport report_;
};

}  // namespace

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kPass:
      return "PASS";
    case Verdict::kWarn:
      return "WARN";
    case Verdict::kFail:
      return "FAIL";
  }
  return "?";
}

bool DoctorReport::failed() const {
  return count(Verdict::kFail) > 0;
}

int DoctorReport::count(Verdict verdict) const {
  return static_cast<int>(std::count_if(
      checks.begin(), checks.end(), [&](const DoctorCheck& c) { return c.verdict == verdict; }));
}

DoctorReport examine(const DoctorFacts& facts) {
  TY_CHECK(facts.inventory != nullptr, "examine needs an inventory");
  return Rules(facts).run();
}

std::optional<std::string> minimum_driver_for(int cuda_major) {
  switch (cuda_major) {
    case 11:
      return "450.80.02";
    case 12:
      return "525.60.13";
    case 13:
      return "580";
    default:
      return std::nullopt;
  }
}

int compare_driver_versions(std::string_view a, std::string_view b) {
  while (!a.empty() || !b.empty()) {
    auto next = [](std::string_view& text) {
      long long number = 0;
      size_t dot = text.find('.');
      std::string_view part = text.substr(0, dot);
      std::from_chars(part.data(), part.data() + part.size(), number);
      text = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
      return number;
    };
    long long left = next(a), right = next(b);
    if (left != right) return left < right ? -1 : 1;
  }
  return 0;
}

}  // namespace trainyard::platform
