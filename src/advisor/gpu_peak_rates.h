// Dense (no sparsity) peak arithmetic rates of the NVIDIA GPUs the instance catalog names,
// per precision, from the vendors' data sheets, and the share of peak a training step is
// assumed to reach when nothing was measured. docs/advisor.md ("Time and cost") explains.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace trainyard::advisor {

// The arithmetic a step runs in: float32 on CUDA cores, TF32 / bfloat16 / float16 on
// tensor cores.
enum class Precision { kFloat32, kTensorFloat32, kBFloat16, kFloat16 };

// "float32", "tf32", "bfloat16", "float16".
std::string_view precision_name(Precision precision);
// The inverse of precision_name. Throws ValueError naming `text` and the accepted names.
Precision parse_precision(std::string_view text);

// Peak rates of one GPU in FLOP/s. A precision the GPU has no tensor-core path for is empty.
struct GpuPeakRates {
  std::string_view model;  // the data sheet's name
  double float32 = 0;
  std::optional<double> tensor_float32;
  std::optional<double> bfloat16;
  std::optional<double> float16;

  // The rate for `precision`; a precision without its own rate runs at the float32 rate.
  double at(Precision precision) const;
};

// The rates of the GPU the catalog calls `accelerator_model` ("NVIDIA A10G",
// "NVIDIA H100 SXM5 80GB"), or empty when trainyard has no data sheet figures for it.
std::optional<GpuPeakRates> gpu_peak_rates(std::string_view accelerator_model);

// The share of peak a training step reaches when none was measured, for a GPU of
// `architecture` as the catalog names it ("Ampere", "Hopper").
double default_efficiency(std::string_view architecture);

// The least time one op call of a training step takes on a GPU of `architecture`: its
// kernel's launch and scheduling, however little it computes (docs/advisor.md).
double seconds_per_call(std::string_view architecture);

}  // namespace trainyard::advisor
