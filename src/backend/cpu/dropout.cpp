// Inverted dropout with a counter-based mask: element i of step s keeps its value when the
// Philox bits for (i, s, seed) map to a uniform >= rate, so backward rebuilds the mask.
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_common.h"
#include "core/random.h"

namespace trainyard::backend {
namespace {

template <typename T>
void apply_mask(double rate, uint64_t seed, uint64_t step, const T* in, T* out, bool accumulate,
                int64_t begin, int64_t end) {
  T scale = static_cast<T>(1.0 / (1.0 - rate));
  float threshold = static_cast<float>(rate);
  // Blocks of four elements share one Philox call; begin is a multiple of 4 except at 0.
  for (int64_t block = begin / 4; block * 4 < end; ++block) {
    auto bits = philox4x32(static_cast<uint64_t>(block), step, seed);
    for (int64_t lane = 0; lane < 4; ++lane) {
      int64_t i = block * 4 + lane;
      if (i < begin || i >= end) continue;
      T value =
          uniform_from_bits(bits[static_cast<size_t>(lane)]) >= threshold ? in[i] * scale : T(0);
      out[i] = accumulate ? out[i] + value : value;
    }
  }
}

template <typename T>
void dropout(double rate, uint64_t seed, uint64_t step, const Tensor& input, const Tensor& output,
             bool accumulate) {
  const T* in = input.data<T>();
  T* out = output.data<T>();
  int64_t count = input.num_elements();
  if (rate <= 0.0) {
    for (int64_t i = 0; i < count; ++i) out[i] = accumulate ? out[i] + in[i] : in[i];
    return;
  }
  if (rate >= 1.0) {
    if (!accumulate) std::fill(out, out + count, T(0));
    return;
  }
  int64_t blocks = (count + 3) / 4;
  cpu::for_range(blocks, cpu::kParallelGrain / 4, [&](int64_t begin, int64_t end) {
    apply_mask(rate, seed, step, in, out, accumulate, begin * 4, std::min(end * 4, count));
  });
}

}  // namespace

void CpuBackend::dropout_forward(double rate, uint64_t seed, uint64_t step, const Tensor& x,
                                 const Tensor& y) {
  cpu::require_same_size("dropout_forward", x, y);
  if (x.dtype() == DType::kBFloat16) {
    bfloat16_staging_.reserve(2 * x.num_elements());
    Tensor x32 = bfloat16_staging_.take("dropout_forward", x, true);
    Tensor y32 = bfloat16_staging_.take("dropout_forward", y, false);
    dropout_forward(rate, seed, step, x32, y32);
    cpu::narrow_to_bfloat16(y32, y);
    return;
  }
  cpu::dispatch_float(x.dtype(), "dropout_forward",
                      [&](auto zero) { dropout<decltype(zero)>(rate, seed, step, x, y, false); });
}

void CpuBackend::dropout_backward(double rate, uint64_t seed, uint64_t step, const Tensor& y_grad,
                                  const Tensor& x_grad, bool accumulate) {
  cpu::require_same_size("dropout_backward", y_grad, x_grad);
  if (y_grad.dtype() == DType::kBFloat16) {
    bfloat16_staging_.reserve(2 * y_grad.num_elements());
    Tensor y_grad32 = bfloat16_staging_.take("dropout_backward", y_grad, true);
    Tensor x_grad32 = bfloat16_staging_.take("dropout_backward", x_grad, accumulate);
    dropout_backward(rate, seed, step, y_grad32, x_grad32, accumulate);
    cpu::narrow_to_bfloat16(x_grad32, x_grad);
    return;
  }
  cpu::dispatch_float(y_grad.dtype(), "dropout_backward", [&](auto zero) {
    dropout<decltype(zero)>(rate, seed, step, y_grad, x_grad, accumulate);
  });
}

}  // namespace trainyard::backend
