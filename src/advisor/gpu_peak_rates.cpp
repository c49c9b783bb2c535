#include "advisor/gpu_peak_rates.h"

#include <array>

#include "core/error.h"

namespace trainyard::advisor {
namespace {

constexpr double kTera = 1e12;

struct PeakRow {
  std::string_view catalog_words;  // matched against the catalog's accelerator_model
  GpuPeakRates rates;
};

// Dense tensor-core figures are half the "with sparsity" ones the data sheets headline.
// Sources:
//   T4: NVIDIA T4 Tensor Core GPU data sheet (FP32 8.1, mixed FP16 65 TFLOPS).
//   V100 SXM2: NVIDIA V100 data sheet (FP32 15.7, tensor FP16 125 TFLOPS).
//   A10G: AWS's variant of the A10; NVIDIA A10 data sheet (FP32 31.2, TF32 62.5,
//     BF16/FP16 125 TFLOPS).
//   A100 SXM4: NVIDIA A100 data sheet (FP32 19.5, TF32 156, BF16/FP16 312 TFLOPS).
//   L4: NVIDIA L4 data sheet (FP32 30.3, TF32 60, BF16/FP16 121 TFLOPS).
//   L40S: NVIDIA L40S data sheet (FP32 91.6, TF32 183, BF16/FP16 362 TFLOPS).
//   H100 SXM5 and H200: NVIDIA H100 and H200 data sheets (FP32 67, TF32 494.5,
//     BF16/FP16 989.5 TFLOPS).
//   B200: NVIDIA HGX B200 data sheet, per GPU of eight (FP32 75, TF32 1125,
//     BF16/FP16 2250 TFLOPS).
//   K80 (one GK210 of the board's two): NVIDIA Tesla K80 data sheet (FP32 8.73 TFLOPS
//     per board at boost clock).
const std::array<PeakRow, 9> kPeakRows{{
    {"T4", {"NVIDIA T4", 8.1 * kTera, std::nullopt, std::nullopt, 65 * kTera}},
    {"V100", {"NVIDIA V100 SXM2", 15.7 * kTera, std::nullopt, std::nullopt, 125 * kTera}},
    {"A10G", {"NVIDIA A10", 31.2 * kTera, 62.5 * kTera, 125 * kTera, 125 * kTera}},
    {"A100", {"NVIDIA A100 SXM4", 19.5 * kTera, 156 * kTera, 312 * kTera, 312 * kTera}},
    {"L4", {"NVIDIA L4", 30.3 * kTera, 60 * kTera, 121 * kTera, 121 * kTera}},
    {"L40S", {"NVIDIA L40S", 91.6 * kTera, 183 * kTera, 362 * kTera, 362 * kTera}},
    {"H100", {"NVIDIA H100 SXM5", 67 * kTera, 494.5 * kTera, 989.5 * kTera, 989.5 * kTera}},
    {"H200", {"NVIDIA H200", 67 * kTera, 494.5 * kTera, 989.5 * kTera, 989.5 * kTera}},
    {"B200", {"NVIDIA B200", 75 * kTera, 1125 * kTera, 2250 * kTera, 2250 * kTera}},
}};

constexpr GpuPeakRates kK80{"NVIDIA Tesla K80 (one GK210)", 4.365 * kTera, std::nullopt,
                            std::nullopt, std::nullopt};

// True when `word` appears in `text` as a whole word (bounded by spaces or the ends).
bool has_word(std::string_view text, std::string_view word) {
  for (size_t at = text.find(word); at != std::string_view::npos; at = text.find(word, at + 1)) {
    const bool starts = at == 0 || text[at - 1] == ' ' || text[at - 1] == '(';
    const size_t end = at + word.size();
    const bool ends = end == text.size() || text[end] == ' ' || text[end] == ')';
    if (starts && ends) return true;
  }
  return false;
}

}  // namespace

std::string_view precision_name(Precision precision) {
  switch (precision) {
    case Precision::kFloat32:
      return "float32";
    case Precision::kTensorFloat32:
      return "tf32";
    case Precision::kBFloat16:
      return "bfloat16";
    case Precision::kFloat16:
      return "float16";
  }
  return "float32";
}

Precision parse_precision(std::string_view text) {
  for (Precision precision : {Precision::kFloat32, Precision::kTensorFloat32, Precision::kBFloat16,
                              Precision::kFloat16}) {
    if (text == precision_name(precision)) return precision;
  }
  throw ValueError("unknown precision '" + std::string(text) +
                   "'; expected float32, tf32, bfloat16 or float16");
}

double GpuPeakRates::at(Precision precision) const {
  switch (precision) {
    case Precision::kFloat32:
      return float32;
    case Precision::kTensorFloat32:
      return tensor_float32.value_or(float32);
    case Precision::kBFloat16:
      return bfloat16.value_or(float32);
    case Precision::kFloat16:
      return float16.value_or(float32);
  }
  return float32;
}

std::optional<GpuPeakRates> gpu_peak_rates(std::string_view accelerator_model) {
  if (has_word(accelerator_model, "K80")) return kK80;
  for (const PeakRow& row : kPeakRows) {
    if (has_word(accelerator_model, row.catalog_words)) return row.rates;
  }
  return std::nullopt;
}

double default_efficiency(std::string_view architecture) {
  // Large dense layers reach 40-60% of peak in published training benchmarks; small models
  // like the Fashion-MNIST examples far less. 0.3 is a middle guess for Turing onward,
  // lower for the older architectures whose libraries are no longer tuned.
  if (architecture == "Kepler" || architecture == "Maxwell" || architecture == "Pascal") {
    return 0.2;
  }
  return 0.3;
}

double seconds_per_call(std::string_view /*architecture*/) {
  // Fitted on an H200 (docs/advisor.md): the Fashion-MNIST MLP's step at batch 32 computes
  // for about 1 us and took 72 us for its 7 op calls (each one kernel or a few, replayed
  // from a CUDA graph). Older GPUs launch no faster, so every architecture gets that floor.
  return 10e-6;
}

}  // namespace trainyard::advisor
