#include "platform/build_targets.h"

#include <algorithm>
#include <charconv>

#include "core/error.h"

namespace trainyard::platform {
namespace {

ComputeCapability parse_architecture(std::string_view entry) {
  std::string_view digits = entry.substr(0, entry.find('-'));
  int number = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (digits.size() < 2 || error != std::errc() || end != digits.data() + digits.size()) {
    throw ValueError("CUDA architecture '" + std::string(entry) +
                     "' is not a CMake architecture such as 86 or 90-real");
  }
  return {number / 10, number % 10};
}

std::vector<ComputeCapability> sorted_unique(std::vector<ComputeCapability> architectures) {
  std::sort(architectures.begin(), architectures.end());
  architectures.erase(std::unique(architectures.begin(), architectures.end()), architectures.end());
  return architectures;
}

}  // namespace

BuildTargets BuildTargets::of_this_build() {
  return parse(TRAINYARD_BUILD_CUDA_ARCHITECTURES);
}

BuildTargets BuildTargets::parse(std::string_view cmake_architectures) {
  BuildTargets targets;
  while (!cmake_architectures.empty()) {
    size_t separator = cmake_architectures.find_first_of(";,");
    std::string_view entry = cmake_architectures.substr(0, separator);
    if (!entry.empty()) targets.architectures.push_back(parse_architecture(entry));
    if (separator == std::string_view::npos) break;
    cmake_architectures.remove_prefix(separator + 1);
  }
  return targets;
}

bool BuildTargets::serves(ComputeCapability capability) const {
  return fit(capability) == KernelFit::kMachineCode;
}

KernelFit BuildTargets::fit(ComputeCapability capability) const {
  if (cpu_only()) return KernelFit::kMachineCode;
  bool older_ptx = false;
  for (const ComputeCapability& target : architectures) {
    if (target.major == capability.major && target.minor <= capability.minor) {
      return KernelFit::kMachineCode;
    }
    if (target < capability) older_ptx = true;
  }
  return older_ptx ? KernelFit::kPtxOnly : KernelFit::kNone;
}

std::string BuildTargets::describe() const {
  if (cpu_only()) return "none (a CPU-only build)";
  std::vector<ComputeCapability> sorted = sorted_unique(architectures);
  std::string text;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0) text += i + 1 == sorted.size() ? " and " : ", ";
    text += sorted[i].to_string();
  }
  return text;
}

std::string BuildTargets::range() const {
  if (cpu_only()) return "none";
  std::vector<ComputeCapability> sorted = sorted_unique(architectures);
  if (sorted.size() == 1) return sorted.front().to_string();
  return sorted.front().to_string() + "\u2013" + sorted.back().to_string();
}

std::optional<CudaVersion> cuda_toolkit_of_this_build() {
  std::string_view text = TRAINYARD_BUILD_CUDA_VERSION;
  if (text.empty()) return std::nullopt;
  CudaVersion version;
  size_t dot = text.find('.');
  std::from_chars(text.data(), text.data() + std::min(dot, text.size()), version.major);
  if (dot != std::string_view::npos) {
    std::from_chars(text.data() + dot + 1, text.data() + text.size(), version.minor);
  }
  return version;
}

}  // namespace trainyard::platform
