// cast: elementwise conversion between float32, float64 and bfloat16 on the GPU, rounding to
// nearest even as the CPU backend does (core/bfloat16.h).
#include "backend/cuda/cuda_common.cuh"

namespace trainyard::backend::cuda {
namespace {

template <typename Target, typename Source>
__device__ inline Target convert(Source value) {
  if constexpr (std::is_same_v<Target, Source>) {
    return value;
  } else if constexpr (std::is_same_v<Source, __nv_bfloat16>) {
    return static_cast<Target>(__bfloat162float(value));
  } else if constexpr (std::is_same_v<Target, __nv_bfloat16> && std::is_same_v<Source, float>) {
    return __float2bfloat16_rn(value);
  } else if constexpr (std::is_same_v<Target, __nv_bfloat16>) {
    return __double2bfloat16(value);  // one rounding, straight from float64
  } else {
    return static_cast<Target>(value);  // float32 <-> float64, IEEE rounding
  }
}

// accumulate: out = out + in, added in out's compute type and rounded once (as the CPU does).
template <typename Target, typename Source>
__global__ void cast_kernel(const Source* in, Target* out, int64_t count, bool accumulate) {
  using Sum = compute_t<Target>;
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    out[i] = accumulate ? from_compute<Target>(to_compute(out[i]) + convert<Sum>(in[i]))
                        : convert<Target>(in[i]);
  }
}

}  // namespace

void CudaBackend::cast(const Tensor& source, const Tensor& out, bool accumulate) {
  if (source.num_elements() != out.num_elements()) {
    throw ShapeError("cast: " + source.to_string() + " and " + out.to_string() +
                     " must have the same element count");
  }
  require_here("cast", "source", source);
  require_here("cast", "out", out);
  activate();
  const int64_t count = out.num_elements();
  if (count == 0) return;
  dispatch_float_or_bfloat16(source.dtype(), "cast", [&](auto source_zero) {
    using Source = decltype(source_zero);
    dispatch_float_or_bfloat16(out.dtype(), "cast", [&](auto target_zero) {
      using Target = decltype(target_zero);
      cast_kernel<Target, Source><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
          static_cast<const Source*>(source.raw_data()), static_cast<Target*>(out.raw_data()),
          count, accumulate);
      TY_CUDA_CHECK_LAUNCH("cast_kernel");
    });
  });
}

}  // namespace trainyard::backend::cuda
