// cast: elementwise conversion between float32, float64 and bfloat16.
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_common.h"
#include "core/bfloat16.h"

namespace trainyard::backend {
namespace {

template <typename Target, typename Source>
Target convert(Source value) {
  if constexpr (std::is_same_v<Target, Source>) {
    return value;
  } else if constexpr (std::is_same_v<Source, BFloat16>) {
    return static_cast<Target>(BFloat16::to_float(value));
  } else if constexpr (std::is_same_v<Target, BFloat16> && std::is_same_v<Source, float>) {
    return BFloat16::from_float(value);
  } else {
    // float64 -> bfloat16 rounds once from float64; float64 -> float32 is IEEE's rounding.
    return static_cast<Target>(value);
  }
}

// Where an accumulating cast adds: float for bfloat16, the dtype itself otherwise.
inline float widened(BFloat16 value) {
  return BFloat16::to_float(value);
}
inline float widened(float value) {
  return value;
}
inline double widened(double value) {
  return value;
}

template <typename Function>
void dispatch_cast_type(DType dtype, Function&& function) {
  if (dtype == DType::kBFloat16) {
    function(BFloat16{});
    return;
  }
  cpu::dispatch_float(dtype, "cast", function);
}

}  // namespace

void CpuBackend::cast(const Tensor& source, const Tensor& out, bool accumulate) {
  if (source.num_elements() != out.num_elements()) {
    throw ShapeError("cast: " + source.to_string() + " and " + out.to_string() +
                     " must have the same element count");
  }
  dispatch_cast_type(source.dtype(), [&](auto source_zero) {
    using Source = decltype(source_zero);
    dispatch_cast_type(out.dtype(), [&](auto target_zero) {
      using Target = decltype(target_zero);
      const auto* in = static_cast<const Source*>(source.raw_data());
      auto* result = static_cast<Target*>(out.raw_data());
      cpu::for_range(out.num_elements(), cpu::kParallelGrain, [&](int64_t begin, int64_t end) {
        if (!accumulate) {
          for (int64_t i = begin; i < end; ++i) result[i] = convert<Target>(in[i]);
          return;
        }
        using Sum = decltype(widened(Target{}));
        for (int64_t i = begin; i < end; ++i) {
          result[i] = convert<Target>(widened(result[i]) + convert<Sum>(in[i]));
        }
      });
    });
  });
}

}  // namespace trainyard::backend
