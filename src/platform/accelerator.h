// What kind of accelerator an instance type carries, and the facts about one accelerator
// model (memory, architecture, CUDA compute capability) as the instance catalog records them.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace trainyard::platform {

enum class AcceleratorKind { kNone, kNvidiaGpu, kTrainium, kInferentia };

// "none", "nvidia_gpu", "trainium", "inferentia": the spelling used in JSON output.
std::string_view accelerator_kind_name(AcceleratorKind kind);

// A CUDA compute capability such as 8.6 (major 8, minor 6). Ordered, so `cc >= {8, 0}`
// asks "Ampere or newer".
struct ComputeCapability {
  int major = 0;
  int minor = 0;

  // Parses "8.6" or "10.0". Throws ValueError naming the text when it is not major.minor.
  static ComputeCapability parse(std::string_view text);
  std::string to_string() const;  // "8.6"
  auto operator<=>(const ComputeCapability&) const = default;
};

// One accelerator model as the catalog describes it, e.g. "NVIDIA A100 SXM4 40GB".
struct AcceleratorModel {
  std::string name;  // as the catalog spells it
  AcceleratorKind kind = AcceleratorKind::kNone;
  std::optional<double> memory_gib;                     // per device; unknown stays empty
  std::string architecture;                             // "Ampere", "NeuronCore-v2"; may be empty
  std::optional<ComputeCapability> compute_capability;  // empty for non-NVIDIA devices

  // True when every word of `query` is a word of the name, ignoring case and
  // punctuation: "A100 80GB", "a10g" and "K80" match; "L4" does not match "L40S".
  bool matches(std::string_view query) const;
};

}  // namespace trainyard::platform
